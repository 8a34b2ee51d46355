import { Clock, Effect, Layer, Option } from "effect"
import { type Coupon, type CouponDefinition, type CreateCouponInput, normalizeCode } from "@shop/domain/Coupons"
import { CouponExists, CouponNotFound, InvalidCoupon, ValidationError } from "@shop/domain/Errors"
import { Coupons } from "./Coupons.ts"
import { CouponDefinitions, CouponRedemptions } from "./CouponsRepository.ts"
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

export const layer = Layer.effect(
  Coupons,
  Effect.gen(function* () {
    const definitions = yield* CouponDefinitions
    const redemptions = yield* CouponRedemptions

    const withUsed = Effect.fn("Coupons.withUsed")(function* (coupons: ReadonlyArray<CouponDefinition>) {
      const counts = yield* redemptions.counts(coupons.map((coupon) => coupon.code))
      return coupons.map((coupon): Coupon => ({ ...coupon, used: counts.get(coupon.code) ?? 0 }))
    })

    const create = Effect.fn("Coupons.create")(function* (input: CreateCouponInput) {
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

    const list = Effect.fn("Coupons.list")(function* (_input: {}) {
      return yield* withUsed(yield* definitions.list())
    })

    const remove = Effect.fn("Coupons.remove")(function* (input: { code: string }) {
      const code = normalizeCode(input.code)
      if (!isCode(code) || !(yield* definitions.remove(code))) return yield* new CouponNotFound({})
      yield* redemptions.forget(code)
    })

    const lookup = Effect.fn("Coupons.lookup")(function* (input: { code: string }) {
      const code = normalizeCode(input.code)
      const found = isCode(code) ? yield* definitions.find(code) : Option.none()
      if (Option.isNone(found)) return yield* new InvalidCoupon({})
      const [coupon] = yield* withUsed([found.value])
      return coupon ?? { ...found.value, used: 0 }
    })

    return Coupons.of({ create, list, remove, lookup })
  })
)

/** Coupons on in-memory stores (one per layer build); needs nothing. */
export const layerMemory = layer.pipe(Layer.provide(CouponsRepositoryMemory.layer))
