import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { TestClock } from "effect/testing"
import type { CreateCouponInput } from "@shop/domain/Coupons"
import { Currency } from "@shop/domain/Money"
import { Coupons } from "../src/Coupons.ts"
import * as CouponsLive from "../src/CouponsLive.ts"

const withCoupons = Effect.provide(CouponsLive.layerMemory)
const usd = Currency.make("USD")
const day = 86_400_000
// Wednesday 2026-12-02, 10:00 UTC.
const start = Date.UTC(2026, 11, 2, 10)

const create = (input: CreateCouponInput) =>
  Effect.gen(function* () {
    const coupons = yield* Coupons
    return yield* coupons.create(input)
  })

const failureOf = <A, E>(effect: Effect.Effect<A, E, Coupons>) =>
  Effect.gen(function* () {
    const exit = yield* Effect.exit(effect)
    assert.isTrue(Exit.isFailure(exit))
    const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
    return error !== undefined && "error" in error
      ? (error.error as { readonly error: string; readonly details?: unknown })
      : undefined
  })

describe("Coupons", () => {
  it.effect("creates a coupon with its code upper-cased and used 0, and refuses the code in another case", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const coupon = yield* create({
        code: "save10",
        type: "percent",
        value: 10,
        minCart: { amount: 5_000, currency: usd },
        usageLimit: 100,
        perCustomerLimit: 1
      })
      assert.deepStrictEqual(coupon, {
        code: "SAVE10",
        type: "percent",
        value: 10,
        minCart: { amount: 5_000, currency: usd },
        usageLimit: 100,
        perCustomerLimit: 1,
        createdAt: "2026-12-02T10:00:00.000Z",
        used: 0
      })
      const duplicate = yield* failureOf(create({ code: "SAVE10", type: "fixed", value: 500 }))
      assert.strictEqual(duplicate?.error, "coupon_exists")
    }).pipe(withCoupons)
  )

  it.effect("checks the value of each type", () =>
    Effect.gen(function* () {
      const refused: ReadonlyArray<CreateCouponInput> = [
        { code: "P0", type: "percent", value: 0 },
        { code: "P000", type: "percent", value: 0 },
        { code: "P101", type: "percent", value: 101 },
        { code: "PNONE", type: "percent" },
        { code: "F0", type: "fixed", value: 0 },
        { code: "FZERO", type: "fixed", value: 0 },
        { code: "FHALF", type: "fixed", value: 1.5 },
        { code: "FREE5", type: "free_shipping", value: 5 },
        { code: "PS0", type: "percent_shipping", value: 0 },
        { code: "PS101", type: "percent_shipping", value: 101 },
        { code: "FS0", type: "fixed_shipping", value: 0 },
        { code: "a!", type: "percent", value: 10 },
        { code: "x".repeat(33), type: "percent", value: 10 },
        { code: "NEG", type: "fixed", value: 100, minCart: { amount: -1, currency: usd } },
        { code: "LIM", type: "fixed", value: 100, usageLimit: 0 }
      ]
      for (const input of refused) {
        const error = yield* failureOf(create(input))
        assert.strictEqual(error?.error, "validation_error", input.code)
      }
      const accepted: ReadonlyArray<CreateCouponInput> = [
        { code: "PCT1", type: "percent", value: 1 },
        { code: "P100", type: "percent", value: 100 },
        { code: "FIVE-OFF", type: "fixed", value: 500, minCart: { amount: 2_000, currency: usd } },
        { code: "FREE_SHIP", type: "free_shipping" },
        { code: "FREE0", type: "free_shipping", value: 0 },
        { code: "HALFSHIP", type: "percent_shipping", value: 50 },
        { code: "SHIP3", type: "fixed_shipping", value: 300 },
        { code: "x".repeat(32), type: "percent", value: 10 }
      ]
      for (const input of accepted) yield* create(input)
      const coupons = yield* Coupons
      const listed = yield* coupons.list({})
      assert.deepStrictEqual(
        listed.map((c) => [c.code, c.value, c.used]),
        [
          ["FIVE-OFF", 500, 0],
          ["FREE0", 0, 0],
          ["FREE_SHIP", 0, 0],
          ["HALFSHIP", 50, 0],
          ["P100", 100, 0],
          ["PCT1", 1, 0],
          ["SHIP3", 300, 0],
          ["X".repeat(32), 10, 0]
        ]
      )
    }).pipe(withCoupons)
  )

  it.effect("deletes by code in any case, then answers coupon_not_found", () =>
    Effect.gen(function* () {
      const coupons = yield* Coupons
      yield* create({ code: "GONE", type: "percent", value: 5 })
      yield* coupons.remove({ code: "gone" })
      assert.deepStrictEqual(yield* coupons.list({}), [])
      assert.strictEqual((yield* failureOf(coupons.remove({ code: "GONE" })))?.error, "coupon_not_found")
      assert.strictEqual((yield* failureOf(coupons.remove({ code: "a!" })))?.error, "coupon_not_found")
      // The code is free again.
      yield* create({ code: "gone", type: "percent", value: 5 })
    }).pipe(withCoupons)
  )

  it.effect("looks a code up in any case; an expired coupon is still returned; unknown codes are invalid_coupon", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const coupons = yield* Coupons
      yield* create({ code: "Soon", type: "fixed", value: 500, expiresAt: "2026-12-03T10:00:00+02:00" })
      const found = yield* coupons.lookup({ code: "soon" })
      assert.strictEqual(found.code, "SOON")
      assert.strictEqual(found.expiresAt, "2026-12-03T08:00:00.000Z")
      yield* TestClock.adjust(2 * day)
      const expired = yield* coupons.lookup({ code: "SOON" })
      assert.deepStrictEqual(expired, found)
      assert.strictEqual((yield* failureOf(coupons.lookup({ code: "NOPE" })))?.error, "invalid_coupon")
      assert.strictEqual((yield* failureOf(coupons.lookup({ code: "a!" })))?.error, "invalid_coupon")
    }).pipe(withCoupons)
  )

  it.effect("refuses an expiry that is not in the future of the clock", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const past = yield* failureOf(
        create({ code: "OLD", type: "percent", value: 5, expiresAt: "2026-12-02T09:59:59Z" })
      )
      assert.strictEqual(past?.error, "validation_error")
      assert.deepStrictEqual(past?.details, { issues: [{ path: "expiresAt", message: "must be in the future" }] })
      yield* create({ code: "NEW", type: "percent", value: 5, expiresAt: "2026-12-02T10:00:01Z" })
    }).pipe(withCoupons)
  )
})
