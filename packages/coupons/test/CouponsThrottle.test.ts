import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Latch, Layer } from "effect"
import { TestClock } from "effect/testing"
import { Coupons } from "../src/Coupons.ts"
import { CouponsConfig, defaultThrottle } from "../src/CouponsConfig.ts"
import * as CouponsLive from "../src/CouponsLive.ts"
import { CouponAttempts, CouponDefinitions } from "../src/CouponsRepository.ts"
import * as CouponsRepositoryMemory from "../src/CouponsRepositoryMemory.ts"

const second = 1_000
const window = defaultThrottle.windowSeconds * second

// What a lookup answered: the coupon's code, or the error with its retryAfter.
const lookup = (code: string, throttle?: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const coupons = yield* Coupons
    const exit = yield* Effect.exit(coupons.lookup(throttle === undefined ? { code } : { code, throttle }))
    if (Exit.isSuccess(exit)) return exit.value.code
    const reason = exit.cause.reasons[0]
    const error = reason !== undefined && "error" in reason ? reason.error : undefined
    if (error?._tag === "RateLimited") return `rate_limited ${error.details.retryAfter}`
    if (error?._tag === "InvalidCoupon") return "invalid_coupon"
    return assert.fail(`unexpected failure: ${String(exit.cause)}`)
  })

const repeat = (times: number, effect: Effect.Effect<string, never, Coupons>) =>
  Effect.forEach(Array.from({ length: times }), () => effect)

const createGood = Effect.gen(function* () {
  const coupons = yield* Coupons
  yield* coupons.create({ code: "GOOD", type: "percent", value: 10 })
})

const cartA = "cart:aaaaaaaaaaaaaaaaaaaaaaaa"
const cartB = "cart:bbbbbbbbbbbbbbbbbbbbbbbb"
const client = "client:203.0.113.7"
const otherClient = "client:198.51.100.9"

// Holds every lookup in the store until `n` are in flight, so that all of them
// pass the throttle check before any counts: the race the counts must settle.
const gatedDefinitions = (n: number) =>
  Layer.effect(
    CouponDefinitions,
    Effect.gen(function* () {
      const inner = yield* CouponDefinitions
      const latch = yield* Latch.make()
      let arrived = 0
      return CouponDefinitions.of({
        ...inner,
        find: (code) =>
          Effect.suspend(() => {
            arrived += 1
            return arrived >= n ? latch.open : Effect.void
          }).pipe(Effect.andThen(latch.await), Effect.andThen(inner.find(code)))
      })
    })
  ).pipe(Layer.provide(CouponsRepositoryMemory.layerDefinitions))

// The service over memory stores, with the attempts store visible to the test.
const withGate = (n: number) =>
  Effect.provide(
    CouponsLive.layer.pipe(
      Layer.provide(gatedDefinitions(n)),
      Layer.provideMerge(
        Layer.mergeAll(CouponsRepositoryMemory.layerRedemptions, CouponsRepositoryMemory.layerAttempts)
      ),
      Layer.provide(CouponsConfig.layer())
    )
  )

describe("Coupons lookup throttle", () => {
  it.effect("the 6th bad code from one cart answers 429 with the seconds left in its window", () =>
    Effect.gen(function* () {
      const keys = [cartA, client]
      assert.deepStrictEqual(yield* repeat(5, lookup("NOPE", keys)), Array(5).fill("invalid_coupon"))
      assert.strictEqual(yield* lookup("NOPE", keys), "rate_limited 900")
      yield* TestClock.adjust(100 * second)
      assert.strictEqual(yield* lookup("NOPE2", keys), "rate_limited 800")
      // Malformed codes count too: another cart is stopped by its 6th.
      assert.deepStrictEqual(yield* repeat(5, lookup("a!", [cartB])), Array(5).fill("invalid_coupon"))
      assert.strictEqual(yield* lookup("a!", [cartB]), "rate_limited 900")
    }).pipe(Effect.provide(CouponsLive.layerMemory))
  )

  it.effect("the window ends on time: retryAfter is at least 1, then the key starts afresh", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(1_000_000)
      yield* repeat(5, lookup("NOPE", [cartA]))
      yield* TestClock.adjust(window - 1)
      assert.strictEqual(yield* lookup("NOPE", [cartA]), "rate_limited 1")
      yield* TestClock.adjust(1)
      // A new window from this bad code: five allowed again, then 429 for a whole window.
      assert.deepStrictEqual(yield* repeat(5, lookup("NOPE", [cartA])), Array(5).fill("invalid_coupon"))
      assert.strictEqual(yield* lookup("NOPE", [cartA]), "rate_limited 900")
    }).pipe(Effect.provide(CouponsLive.layerMemory))
  )

  it.effect("after the limit a good code is refused for that key, and fine for another key or without keys", () =>
    Effect.gen(function* () {
      yield* createGood
      yield* repeat(5, lookup("NOPE", [cartA, client]))
      assert.strictEqual(yield* lookup("good", [cartA, client]), "rate_limited 900")
      assert.strictEqual(yield* lookup("good", [cartA]), "rate_limited 900")
      assert.strictEqual(yield* lookup("good", [cartB, client]), "GOOD")
      assert.strictEqual(yield* lookup("good"), "GOOD")
      assert.strictEqual(yield* lookup("good", []), "GOOD")
    }).pipe(Effect.provide(CouponsLive.layerMemory))
  )

  it.effect("good codes, expired ones too, count nothing; a key named twice counts once", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.UTC(2026, 11, 2))
      const coupons = yield* Coupons
      yield* coupons.create({ code: "SOON", type: "fixed", value: 500, expiresAt: "2026-12-03T00:00:00Z" })
      yield* TestClock.adjust(2 * 86_400 * second)
      assert.deepStrictEqual(yield* repeat(10, lookup("soon", [cartA])), Array(10).fill("SOON"))
      assert.deepStrictEqual(yield* repeat(5, lookup("NOPE", [cartA, cartA])), Array(5).fill("invalid_coupon"))
      assert.strictEqual(yield* lookup("NOPE", [cartA]), "rate_limited 900")
    }).pipe(Effect.provide(CouponsLive.layerMemory))
  )

  it.effect("cart and client limits are independent; a refused code is not charged to the other key", () =>
    Effect.gen(function* () {
      yield* createGood
      // Cart A reaches its limit; its refused 6th and 7th cost the client nothing.
      yield* repeat(5, lookup("NOPE", [cartA, client]))
      assert.strictEqual(yield* lookup("NOPE", [cartA, client]), "rate_limited 900")
      assert.strictEqual(yield* lookup("good", [cartA, client]), "rate_limited 900")
      // Three more carts bring the client to its 20 bad codes.
      for (const cart of ["cart:c1", "cart:c2", "cart:c3"]) {
        assert.deepStrictEqual(yield* repeat(5, lookup("NOPE", [cart, client])), Array(5).fill("invalid_coupon"))
      }
      yield* TestClock.adjust(60 * second)
      // A fresh cart from that client is refused now, whatever the code ...
      assert.strictEqual(yield* lookup("NOPE", ["cart:c4", client]), "rate_limited 840")
      assert.strictEqual(yield* lookup("good", ["cart:c4", client]), "rate_limited 840")
      // ... while the fresh cart itself, and another client, are fine.
      assert.strictEqual(yield* lookup("good", ["cart:c4", otherClient]), "GOOD")
      assert.strictEqual(yield* lookup("NOPE", ["cart:c4", otherClient]), "invalid_coupon")
      // Cart A is still refused from another client: its own limit.
      assert.strictEqual(yield* lookup("good", [cartA, otherClient]), "rate_limited 840")
    }).pipe(Effect.provide(CouponsLive.layerMemory))
  )

  it.effect("limits and window come from CouponsConfig; a key of another kind gets the stricter limit", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* repeat(2, lookup("NOPE", [cartA])), ["invalid_coupon", "invalid_coupon"])
      assert.strictEqual(yield* lookup("NOPE", [cartA]), "rate_limited 60")
      assert.deepStrictEqual(yield* repeat(3, lookup("NOPE", [client])), Array(3).fill("invalid_coupon"))
      assert.strictEqual(yield* lookup("NOPE", [client]), "rate_limited 60")
      assert.deepStrictEqual(yield* repeat(2, lookup("NOPE", ["clients:typo"])), Array(2).fill("invalid_coupon"))
      assert.strictEqual(yield* lookup("NOPE", ["clients:typo"]), "rate_limited 60")
      yield* TestClock.adjust(60 * second)
      assert.strictEqual(yield* lookup("NOPE", [cartA]), "invalid_coupon")
    }).pipe(
      Effect.provide(
        CouponsLive.layer.pipe(
          Layer.provide(CouponsRepositoryMemory.layer),
          Layer.provide(
            CouponsConfig.layer({ throttle: { windowSeconds: 60, maxBadCodesPerCart: 2, maxBadCodesPerClient: 3 } })
          )
        )
      )
    )
  )

  it.effect("20 bad codes in flight at once from one client count 20: all answered, the 21st refused", () =>
    Effect.gen(function* () {
      const answers = yield* Effect.all(
        Array.from({ length: 20 }, (_, i) => lookup(`NOPE${i}`, [client])),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(answers, Array(20).fill("invalid_coupon"))
      const attempts = yield* CouponAttempts
      assert.deepStrictEqual(
        yield* attempts.current([client], -window),
        new Map([[client, { count: 20, windowStart: 0 }]])
      )
      assert.strictEqual(yield* lookup("NOPE", [client]), "rate_limited 900")
    }).pipe(withGate(20))
  )

  it.effect("20 bad codes in flight at once from one cart: exactly 5 answered, 15 refused, the client charged 5", () =>
    Effect.gen(function* () {
      const answers = yield* Effect.all(
        Array.from({ length: 20 }, (_, i) => lookup(`NOPE${i}`, [cartA, client])),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(answers.filter((answer) => answer === "invalid_coupon").length, 5)
      assert.strictEqual(answers.filter((answer) => answer === "rate_limited 900").length, 15)
      const attempts = yield* CouponAttempts
      assert.deepStrictEqual(
        yield* attempts.current([cartA, client], -window),
        new Map([
          [cartA, { count: 20, windowStart: 0 }],
          [client, { count: 5, windowStart: 0 }]
        ])
      )
    }).pipe(withGate(20))
  )
})
