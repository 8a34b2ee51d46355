import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Latch, Layer } from "effect"
import { TestClock } from "effect/testing"
import type { CreateCouponInput } from "@shop/domain/Coupons"
import { UserId } from "@shop/domain/Ids"
import { Coupons } from "../src/Coupons.ts"
import { CouponsConfig } from "../src/CouponsConfig.ts"
import * as CouponsLive from "../src/CouponsLive.ts"
import { CouponRedemptions } from "../src/CouponsRepository.ts"
import * as CouponsRepositoryMemory from "../src/CouponsRepositoryMemory.ts"

const day = 86_400_000
// Wednesday 2026-12-02, 10:00 UTC.
const start = Date.UTC(2026, 11, 2, 10)
const alice = UserId.make("usr_alice")
const bob = UserId.make("usr_bob")
const users = Array.from({ length: 20 }, (_, i) => UserId.make(`usr_racer${i}`))

const create = (input: CreateCouponInput) =>
  Effect.gen(function* () {
    const coupons = yield* Coupons
    return yield* coupons.create(input)
  })

// What a redeem answered: "ok <redemptionId>", or the error code (and, for a
// reached limit, its message).
const redeem = (code: string, redemptionId: string, userId: UserId) =>
  Effect.gen(function* () {
    const coupons = yield* Coupons
    const exit = yield* Effect.exit(coupons.redeem({ code, redemptionId, userId }))
    if (Exit.isSuccess(exit)) return `ok ${exit.value.redemptionId}`
    const reason = exit.cause.reasons[0]
    const error = reason !== undefined && "error" in reason ? reason.error : undefined
    if (error === undefined) return assert.fail(`unexpected failure: ${String(exit.cause)}`)
    return error._tag === "CouponExhausted"
      ? `${error.error}: ${error.message} (${error.details?.limit ?? "no limit named"})`
      : error.error
  })

const usedOf = (code: string) =>
  Effect.gen(function* () {
    const coupons = yield* Coupons
    return (yield* coupons.list({})).find((coupon) => coupon.code === code)?.used
  })

const race = <A, E, R>(effects: ReadonlyArray<Effect.Effect<A, E, R>>) =>
  Effect.all(effects, { concurrency: "unbounded" })

const count = (answers: ReadonlyArray<string>, prefix: string) =>
  answers.filter((answer) => answer.startsWith(prefix)).length

const usedUp = "coupon_exhausted: This coupon has been used up (usageLimit)"
const usedUpByCustomer =
  "coupon_exhausted: This coupon has been used as many times as one customer may (perCustomerLimit)"

// Holds every redeem at the store's write until `n` have got there, so that
// all of them have read the coupon and passed its expiry before any writes:
// the race the store's one atomic step must settle.
const gatedRedemptions = (n: number) =>
  Layer.effect(
    CouponRedemptions,
    Effect.gen(function* () {
      const inner = yield* CouponRedemptions
      const latch = yield* Latch.make()
      let arrived = 0
      return CouponRedemptions.of({
        ...inner,
        record: (redemption, limits) =>
          Effect.suspend(() => {
            arrived += 1
            return arrived >= n ? latch.open : Effect.void
          }).pipe(Effect.andThen(latch.await), Effect.andThen(inner.record(redemption, limits)))
      })
    })
  ).pipe(Layer.provide(CouponsRepositoryMemory.layerRedemptions))

// The same gate over a store that checks the limits with one read and
// writes with another, as a naive repository would: what the race tests
// would catch.
const readThenWrite = (n: number) =>
  Layer.effect(
    CouponRedemptions,
    Effect.gen(function* () {
      const inner = yield* CouponRedemptions
      return CouponRedemptions.of({
        ...inner,
        record: (redemption, limits) =>
          Effect.gen(function* () {
            const usage = yield* inner.usage(redemption.code, redemption.userId)
            if (limits.usageLimit !== undefined && usage.total >= limits.usageLimit) return false
            // Any I/O between the read and the write (a network round trip to
            // D1, an await) lets the other checkouts read the same count.
            yield* Effect.yieldNow
            return yield* inner.record(redemption, {})
          })
      })
    })
  ).pipe(Layer.provide(gatedRedemptions(n)))

// A store that refuses the first `refusals` records whatever the counts, as
// if each lost a race to a use released again before the count was read.
const refusing = (refusals: number) =>
  Layer.effect(
    CouponRedemptions,
    Effect.gen(function* () {
      const inner = yield* CouponRedemptions
      let left = refusals
      return CouponRedemptions.of({
        ...inner,
        record: (redemption, limits) =>
          Effect.suspend(() => {
            if (left <= 0) return inner.record(redemption, limits)
            left -= 1
            return Effect.succeed(false)
          })
      })
    })
  ).pipe(Layer.provide(CouponsRepositoryMemory.layerRedemptions))

const withStore = (redemptions: Layer.Layer<CouponRedemptions>) =>
  Effect.provide(
    CouponsLive.layer.pipe(
      Layer.provide(redemptions),
      Layer.provide(Layer.mergeAll(CouponsRepositoryMemory.layerDefinitions, CouponsRepositoryMemory.layerAttempts)),
      Layer.provide(CouponsConfig.layer())
    )
  )
const withGate = (n: number) => withStore(gatedRedemptions(n))
const withCoupons = Effect.provide(CouponsLive.layerMemory)

describe("Coupons redeem and release", () => {
  it.effect("usageLimit 1 raced by 5 checkouts: exactly one redeems, four answer coupon_exhausted", () =>
    Effect.gen(function* () {
      yield* create({ code: "ONCE", type: "percent", value: 10, usageLimit: 1 })
      const answers = yield* race(users.slice(0, 5).map((user, i) => redeem("once", `pay_${i}`, user)))
      assert.strictEqual(count(answers, "ok "), 1)
      assert.deepStrictEqual(
        answers.filter((answer) => !answer.startsWith("ok ")),
        Array(4).fill(usedUp)
      )
      assert.strictEqual(yield* usedOf("ONCE"), 1)
    }).pipe(withGate(5))
  )

  it.effect("usageLimit 3 raced by 20 checkouts: exactly three redeem", () =>
    Effect.gen(function* () {
      yield* create({ code: "THREE", type: "fixed", value: 500, usageLimit: 3 })
      const answers = yield* race(users.map((user, i) => redeem("THREE", `pay_${i}`, user)))
      assert.strictEqual(count(answers, "ok "), 3)
      assert.strictEqual(count(answers, usedUp), 17)
      assert.strictEqual(yield* usedOf("THREE"), 3)
    }).pipe(withGate(20))
  )

  it.effect("the race tests would catch a read-then-write store: all 5 redeem a coupon of usageLimit 1", () =>
    Effect.gen(function* () {
      yield* create({ code: "ONCE", type: "percent", value: 10, usageLimit: 1 })
      const answers = yield* race(users.slice(0, 5).map((user, i) => redeem("ONCE", `pay_${i}`, user)))
      assert.strictEqual(count(answers, "ok "), 5)
      assert.strictEqual(yield* usedOf("ONCE"), 5)
    }).pipe(withStore(readThenWrite(5)))
  )

  it.effect("perCustomerLimit 1 with two users racing 5 checkouts each: each redeems once", () =>
    Effect.gen(function* () {
      yield* create({ code: "EACH", type: "percent", value: 10, perCustomerLimit: 1 })
      const answers = yield* race(
        Array.from({ length: 10 }, (_, i) => redeem("EACH", `pay_${i}`, i % 2 === 0 ? alice : bob))
      )
      const won = answers.flatMap((answer) => (answer.startsWith("ok ") ? [answer.slice(3)] : []))
      assert.strictEqual(won.length, 2)
      assert.deepStrictEqual(won.map((id) => Number(id.slice(4)) % 2).sort(), [0, 1])
      assert.strictEqual(count(answers, usedUpByCustomer), 8)
      assert.strictEqual(yield* usedOf("EACH"), 2)
    }).pipe(withGate(10))
  )

  it.effect("both limits: the answer names the one reached", () =>
    Effect.gen(function* () {
      yield* create({ code: "BOTH", type: "percent", value: 10, usageLimit: 2, perCustomerLimit: 1 })
      assert.strictEqual(yield* redeem("BOTH", "pay_1", alice), "ok pay_1")
      assert.strictEqual(yield* redeem("BOTH", "pay_2", alice), usedUpByCustomer)
      assert.strictEqual(yield* redeem("BOTH", "pay_3", bob), "ok pay_3")
      assert.strictEqual(yield* redeem("BOTH", "pay_4", users[0] ?? alice), usedUp)
      // Without limits a coupon redeems as often as it is used.
      yield* create({ code: "OPEN", type: "percent", value: 10 })
      for (let i = 0; i < 5; i++) assert.strictEqual(yield* redeem("OPEN", `pay_open${i}`, alice), `ok pay_open${i}`)
      assert.strictEqual(yield* usedOf("OPEN"), 5)
    }).pipe(withCoupons)
  )

  it.effect("one redemptionId raced 10 times answers the same success 10 times and counts once", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      yield* create({ code: "ONCE", type: "percent", value: 10, usageLimit: 1 })
      const coupons = yield* Coupons
      const answers = yield* race(
        Array.from({ length: 10 }, () => coupons.redeem({ code: "once", redemptionId: "res_hold1", userId: alice }))
      )
      const first = { redemptionId: "res_hold1", code: "ONCE", userId: alice, redeemedAt: "2026-12-02T10:00:00.000Z" }
      assert.deepStrictEqual(answers, Array(10).fill(first))
      assert.strictEqual(yield* usedOf("ONCE"), 1)
      // Later, with the coupon used up by it, the repeat still answers its success.
      yield* TestClock.adjust(60_000)
      assert.deepStrictEqual(yield* coupons.redeem({ code: "ONCE", redemptionId: "res_hold1", userId: alice }), first)
      assert.strictEqual(yield* redeem("ONCE", "res_hold2", bob), usedUp)
      assert.strictEqual(yield* usedOf("ONCE"), 1)
    }).pipe(withGate(10))
  )

  it.effect("a redemptionId already used for another code or user is refused, and nothing is counted", () =>
    Effect.gen(function* () {
      yield* create({ code: "FIRST", type: "percent", value: 10 })
      yield* create({ code: "OTHER", type: "percent", value: 10 })
      assert.strictEqual(yield* redeem("FIRST", "pay_1", alice), "ok pay_1")
      assert.strictEqual(yield* redeem("OTHER", "pay_1", alice), "redemption_mismatch")
      assert.strictEqual(yield* redeem("FIRST", "pay_1", bob), "redemption_mismatch")
      assert.strictEqual(yield* usedOf("FIRST"), 1)
      assert.strictEqual(yield* usedOf("OTHER"), 0)
    }).pipe(withCoupons)
  )

  it.effect("release gives the use back, once; releasing again or an unknown id does nothing", () =>
    Effect.gen(function* () {
      const coupons = yield* Coupons
      yield* create({ code: "ONCE", type: "percent", value: 10, usageLimit: 1 })
      assert.strictEqual(yield* redeem("ONCE", "pay_1", alice), "ok pay_1")
      assert.strictEqual(yield* redeem("ONCE", "pay_2", bob), usedUp)
      yield* coupons.release({ redemptionId: "pay_1" })
      assert.strictEqual(yield* usedOf("ONCE"), 0)
      assert.strictEqual(yield* redeem("ONCE", "pay_2", bob), "ok pay_2")
      // The released checkout's repeat is a new redeem, and the coupon is used up.
      yield* coupons.release({ redemptionId: "pay_1" })
      yield* coupons.release({ redemptionId: "pay_unknown" })
      assert.strictEqual(yield* redeem("ONCE", "pay_1", alice), usedUp)
      assert.strictEqual(yield* usedOf("ONCE"), 1)
    }).pipe(withCoupons)
  )

  it.effect("releases raced with redeems: the limit holds and the count is what was kept", () =>
    Effect.gen(function* () {
      const coupons = yield* Coupons
      yield* create({ code: "THREE", type: "percent", value: 10, usageLimit: 3 })
      for (const i of [0, 1, 2]) yield* redeem("THREE", `pay_${i}`, users[i] ?? alice)
      const answers = yield* race([
        ...[0, 1].map((i) => Effect.as(coupons.release({ redemptionId: `pay_${i}` }), "released")),
        ...users.slice(3, 13).map((user, i) => redeem("THREE", `pay_${i + 3}`, user))
      ])
      // Two uses were freed while ten checkouts raced: at most two of them got one.
      const won = count(answers, "ok ")
      assert.isTrue(won <= 2, answers.join(", "))
      assert.strictEqual(yield* usedOf("THREE"), 1 + won)
    }).pipe(withCoupons)
  )

  it.effect("a refusal whose count shows room is tried again, up to three times", () =>
    Effect.gen(function* () {
      yield* create({ code: "ROOM", type: "percent", value: 10, usageLimit: 5 })
      // Three refusals: refused, naming the coupon's limit though the count is 0.
      assert.strictEqual(yield* redeem("ROOM", "pay_1", alice), usedUp)
      // Two: the third attempt records it.
      assert.strictEqual(yield* redeem("ROOM", "pay_2", bob), "ok pay_2")
      assert.strictEqual(yield* usedOf("ROOM"), 1)
    }).pipe(withStore(refusing(3 + 2)))
  )

  it.effect("an expired coupon answers coupon_expired; a use made before expiry still answers its success", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const coupons = yield* Coupons
      yield* create({ code: "SOON", type: "fixed", value: 500, expiresAt: "2026-12-03T10:00:00Z" })
      const before = yield* coupons.redeem({ code: "SOON", redemptionId: "pay_early", userId: alice })
      yield* TestClock.adjust(day - 1)
      assert.strictEqual(yield* redeem("SOON", "pay_late", bob), "ok pay_late")
      yield* TestClock.adjust(1)
      assert.strictEqual(yield* redeem("SOON", "pay_later", bob), "coupon_expired")
      assert.deepStrictEqual(yield* coupons.redeem({ code: "soon", redemptionId: "pay_early", userId: alice }), before)
      assert.strictEqual(yield* usedOf("SOON"), 2)
    }).pipe(withCoupons)
  )

  it.effect("unknown, malformed and deleted codes answer invalid_coupon; a deleted coupon's uses are gone", () =>
    Effect.gen(function* () {
      const coupons = yield* Coupons
      assert.strictEqual(yield* redeem("NOPE", "pay_1", alice), "invalid_coupon")
      assert.strictEqual(yield* redeem("a!", "pay_1", alice), "invalid_coupon")
      yield* create({ code: "GONE", type: "percent", value: 10, usageLimit: 1 })
      assert.strictEqual(yield* redeem("GONE", "pay_1", alice), "ok pay_1")
      yield* coupons.remove({ code: "GONE" })
      assert.strictEqual(yield* redeem("GONE", "pay_1", alice), "invalid_coupon")
      // A new coupon with the code starts from zero, and the id is free again.
      yield* create({ code: "GONE", type: "percent", value: 10, usageLimit: 1 })
      assert.strictEqual(yield* redeem("GONE", "pay_1", alice), "ok pay_1")
      assert.strictEqual(yield* usedOf("GONE"), 1)
    }).pipe(withCoupons)
  )
})
