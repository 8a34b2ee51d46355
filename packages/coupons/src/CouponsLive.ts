import { Clock, Effect, Layer, Option } from "effect"
import { type Coupon, type CouponDefinition, type CreateCouponInput, normalizeCode } from "@shop/domain/Coupons"
import {
  CouponExhausted,
  CouponExists,
  CouponExpired,
  CouponNotFound,
  InvalidCoupon,
  RateLimited,
  RedemptionMismatch,
  ValidationError
} from "@shop/domain/Errors"
import type { UserId } from "@shop/domain/Ids"
import type { CouponRedemption } from "@shop/domain/ServiceContracts"
import * as Traced from "@shop/domain/Traced"
import { Coupons } from "./Coupons.ts"
import { CouponsConfig } from "./CouponsConfig.ts"
import {
  type Attempts,
  CouponAttempts,
  CouponDefinitions,
  CouponRedemptions,
  type Redemption
} from "./CouponsRepository.ts"
import * as CouponsRepositoryMemory from "./CouponsRepositoryMemory.ts"

interface Issue {
  readonly path: string
  readonly message: string
}

const isCode = (code: string) => /^[A-Za-z0-9_-]{3,32}$/.test(code)
const whole = (n: number | undefined) => n !== undefined && Number.isSafeInteger(n)
const maxValue = 100_000_000_00

// The value rules of each type. The schemas check the shapes at every process
// boundary; in-process callers (memory and node runtimes) do not decode, so
// the service checks everything itself.
export const inputIssues = (input: CreateCouponInput, now: number): ReadonlyArray<Issue> => {
  const issues: Array<Issue> = []
  if (!isCode(input.code)) issues.push({ path: "code", message: "must be 3 to 32 letters, digits, '-' or '_'" })
  const value = input.value
  switch (input.type) {
    case "percent":
    case "percent_shipping":
      if (!(whole(value) && value !== undefined && value >= 1 && value <= 100)) {
        issues.push({ path: "value", message: "must be a whole percentage from 1 to 100" })
      }
      break
    case "fixed":
    case "fixed_shipping":
      if (!(whole(value) && value !== undefined && value >= 1 && value <= maxValue)) {
        issues.push({ path: "value", message: "must be whole minor units, more than 0" })
      }
      break
    case "free_shipping":
      if (value !== undefined && value !== 0) issues.push({ path: "value", message: "must be absent or 0" })
      break
    default:
      issues.push({ path: "type", message: "is not a coupon type" })
  }
  if (input.minCart !== undefined) {
    if (!(whole(input.minCart.amount) && input.minCart.amount >= 0)) {
      issues.push({ path: "minCart.amount", message: "must be whole minor units, 0 or more" })
    }
    if (!/^[A-Z]{3}$/.test(input.minCart.currency)) {
      issues.push({ path: "minCart.currency", message: "must be an ISO 4217 code" })
    }
  }
  if (input.expiresAt !== undefined) {
    const at = Date.parse(input.expiresAt)
    if (Number.isNaN(at)) issues.push({ path: "expiresAt", message: "must be an ISO 8601 date and time" })
    else if (at <= now) issues.push({ path: "expiresAt", message: "must be in the future" })
  }
  for (const field of ["usageLimit", "perCustomerLimit"] as const) {
    const limit = input[field]
    if (limit !== undefined && !(whole(limit) && limit >= 1)) {
      issues.push({ path: field, message: "must be a whole number, 1 or more" })
    }
  }
  return issues
}

interface RedeemInput {
  readonly code: string
  readonly redemptionId: string
  readonly userId: UserId
}

// A stored use as the service answers it; the user is the caller's, whose id
// the stored one was checked to equal.
const toRedemption = (input: RedeemInput, stored: Redemption): CouponRedemption => ({
  redemptionId: stored.redemptionId,
  code: stored.code,
  userId: input.userId,
  redeemedAt: new Date(stored.redeemedAt).toISOString()
})

/** Coupons; needs CouponDefinitions, CouponRedemptions, CouponAttempts and CouponsConfig. */
export const layer = Layer.effect(
  Coupons,
  Effect.gen(function* () {
    const definitions = yield* CouponDefinitions
    const redemptions = yield* CouponRedemptions
    const attempts = yield* CouponAttempts
    const { throttle } = yield* CouponsConfig
    const windowMs = throttle.windowSeconds * 1000

    // A key's limit by its kind. Any other kind gets the stricter limit, so a
    // misspelt key is throttled rather than let through.
    const limitOf = (key: string) =>
      key.startsWith("cart:")
        ? throttle.maxBadCodesPerCart
        : key.startsWith("client:")
          ? throttle.maxBadCodesPerClient
          : Math.min(throttle.maxBadCodesPerCart, throttle.maxBadCodesPerClient)
    const secondsLeft = (windowStart: number, now: number) =>
      Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000))
    const refuse = (over: ReadonlyArray<Attempts>, now: number) =>
      new RateLimited({ details: { retryAfter: Math.max(...over.map((a) => secondsLeft(a.windowStart, now))) } })

    // Windows of keys never seen again are cleared at most once per window per
    // process, on the path that writes them, so the table does not grow
    // without bound and no scheduler is needed on any runtime.
    let lastPrune = 0
    const pruneIfDue = Traced.fn("Coupons.prune")(function* (now: number) {
      if (now - lastPrune < windowMs) return
      lastPrune = now
      yield* attempts.prune(now - windowMs)
    })

    // Before the code is looked at: a key that already has its limit of bad
    // codes in its window is refused whatever the code. The answer and the
    // work are the same for a good code as for a bad one, so a throttled
    // caller learns nothing about codes, not even from timing.
    const checkThrottle = Traced.fn("Coupons.checkThrottle")(function* (keys: ReadonlyArray<string>, now: number) {
      if (keys.length === 0) return
      const current = yield* attempts.current(keys, now - windowMs)
      const over = keys.flatMap((key) => {
        const found = current.get(key)
        return found !== undefined && found.count >= limitOf(key) ? [found] : []
      })
      if (over.length > 0) return yield* refuse(over, now)
    })

    // Counts a bad code against each key, one atomic upsert per key. Bad codes
    // in flight together all pass the check, so the counts decide: a code
    // whose count lands past a key's limit is refused like a later one would
    // have been, and gives its count back to the keys still within theirs, as
    // a refused code counts nothing there. The key over its limit keeps it:
    // it refuses everything until its window ends anyway, and the window does
    // not move.
    const countBadCode = Traced.fn("Coupons.countBadCode")(function* (keys: ReadonlyArray<string>, now: number) {
      if (keys.length === 0) return
      yield* pruneIfDue(now)
      const counted = yield* Effect.forEach(keys, (key) =>
        Effect.map(attempts.record(key, now, windowMs), (counts) => ({ key, counts }))
      )
      const over = counted.filter(({ counts, key }) => counts.count > limitOf(key))
      if (over.length === 0) return
      yield* Effect.forEach(
        counted.filter(({ counts, key }) => counts.count <= limitOf(key)),
        ({ counts, key }) => attempts.release(key, counts.windowStart),
        { discard: true }
      )
      return yield* refuse(
        over.map(({ counts }) => counts),
        now
      )
    })

    const withUsed = Traced.fn("Coupons.withUsed")(function* (coupons: ReadonlyArray<CouponDefinition>) {
      const counts = yield* redemptions.counts(coupons.map((coupon) => coupon.code))
      return coupons.map((coupon): Coupon => ({ ...coupon, used: counts.get(coupon.code) ?? 0 }))
    })

    const create = Traced.fn("Coupons.create")(function* (input: CreateCouponInput) {
      const now = yield* Clock.currentTimeMillis
      const issues = inputIssues(input, now)
      if (issues.length > 0) {
        return yield* new ValidationError({ message: "The coupon is not valid", details: { issues } })
      }
      const definition: CouponDefinition = {
        code: normalizeCode(input.code),
        type: input.type,
        value: input.value ?? 0,
        ...(input.minCart !== undefined ? { minCart: input.minCart } : {}),
        ...(input.expiresAt !== undefined ? { expiresAt: new Date(input.expiresAt).toISOString() } : {}),
        ...(input.usageLimit !== undefined ? { usageLimit: input.usageLimit } : {}),
        ...(input.perCustomerLimit !== undefined ? { perCustomerLimit: input.perCustomerLimit } : {}),
        createdAt: new Date(now).toISOString()
      }
      if (!(yield* definitions.insert(definition))) {
        return yield* new CouponExists({ details: { code: definition.code } })
      }
      return { ...definition, used: 0 }
    })

    const list = Traced.fn("Coupons.list")(function* (_input: {}) {
      return yield* withUsed(yield* definitions.list())
    })

    const remove = Traced.fn("Coupons.remove")(function* (input: { code: string }) {
      const code = normalizeCode(input.code)
      if (!isCode(code) || !(yield* definitions.remove(code))) return yield* new CouponNotFound({})
      yield* redemptions.forget(code)
    })

    // A code that names no coupon (or cannot) counts against every throttle
    // key; a coupon found, even an expired one, counts nothing.
    const lookup = Traced.fn("Coupons.lookup")(function* (input: {
      readonly code: string
      readonly throttle?: ReadonlyArray<string> | undefined
    }) {
      // A key named twice is still one asker.
      const keys = Array.from(new Set(input.throttle ?? []))
      const now = yield* Clock.currentTimeMillis
      yield* checkThrottle(keys, now)
      const code = normalizeCode(input.code)
      const found = isCode(code) ? yield* definitions.find(code) : Option.none()
      if (Option.isNone(found)) {
        yield* countBadCode(keys, now)
        return yield* new InvalidCoupon({})
      }
      const [coupon] = yield* withUsed([found.value])
      return coupon ?? { ...found.value, used: 0 }
    })

    const isExpired = (coupon: CouponDefinition, now: number) =>
      coupon.expiresAt !== undefined && Date.parse(coupon.expiresAt) <= now

    const exhausted = (limit: "usageLimit" | "perCustomerLimit") =>
      new CouponExhausted(
        limit === "usageLimit"
          ? { details: { limit } }
          : { message: "This coupon has been used as many times as one customer may", details: { limit } }
      )

    // The earlier use under this redemption id, if any: the answer to a
    // repeated redeem. An id that redeemed another code or user is refused
    // rather than answered with a use that is not the caller's.
    const earlier = Traced.fn("Coupons.earlier")(function* (input: RedeemInput, code: string) {
      const found = yield* redemptions.find(input.redemptionId)
      if (Option.isNone(found)) return Option.none<CouponRedemption>()
      if (found.value.code !== code || found.value.userId !== input.userId) {
        return yield* new RedemptionMismatch({ details: { redemptionId: input.redemptionId } })
      }
      return Option.some(toRedemption(input, found.value))
    })

    // The check and the write are one step of the store (`record`); what is
    // read here before it (the definition) cannot change the outcome of a
    // race, since a coupon's limits are fixed when it is created. After a
    // refusal the store is read again only to say why. A coupon deleted
    // between the read and the write keeps that one use on record; the
    // window is one redeem's length and deletion is an admin's act.
    const redeem = Traced.fn("Coupons.redeem")(function* (input: RedeemInput) {
      const code = normalizeCode(input.code)
      const found = isCode(code) ? yield* definitions.find(code) : Option.none()
      if (Option.isNone(found)) return yield* new InvalidCoupon({})
      const coupon = found.value
      const now = yield* Clock.currentTimeMillis
      if (isExpired(coupon, now)) {
        const repeat = yield* earlier(input, code)
        if (Option.isSome(repeat)) return repeat.value
        return yield* new CouponExpired({})
      }
      const redemption = { redemptionId: input.redemptionId, code, userId: input.userId, redeemedAt: now }
      // A release landing between a refusal and the count that explains it
      // leaves neither limit reached: the use it freed is tried for again, a
      // few times at most, rather than refused for a limit no count shows.
      for (let attempt = 1; ; attempt++) {
        if (yield* redemptions.record(redemption, coupon)) return toRedemption(input, redemption)
        const repeat = yield* earlier(input, code)
        if (Option.isSome(repeat)) return repeat.value
        const usage = yield* redemptions.usage(code, input.userId)
        if (coupon.usageLimit !== undefined && usage.total >= coupon.usageLimit) return yield* exhausted("usageLimit")
        if (coupon.perCustomerLimit !== undefined && usage.byUser >= coupon.perCustomerLimit) {
          return yield* exhausted("perCustomerLimit")
        }
        if (attempt >= 3) return yield* exhausted(coupon.usageLimit !== undefined ? "usageLimit" : "perCustomerLimit")
      }
    })

    const release = Traced.fn("Coupons.release")(function* (input: { readonly redemptionId: string }) {
      yield* redemptions.release(input.redemptionId)
    })

    return Coupons.of({ create, list, remove, lookup, redeem, release })
  })
)

/**
 * Coupons on in-memory stores (one per layer build) with the default
 * settings; needs nothing. A runtime that reads the settings provides
 * CouponsConfig.layerConfig to `layer` on CouponsRepositoryMemory.layer.
 */
export const layerMemory = layer.pipe(
  Layer.provide(CouponsRepositoryMemory.layer),
  Layer.provide(CouponsConfig.layer())
)
