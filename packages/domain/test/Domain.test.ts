import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { SecureRandom } from "effect/crypto"
import { TestClock } from "effect/testing"
import { CreateProductInput } from "../src/Catalog.ts"
import { ProductNotFound, RateLimited, SkuExists, ValidationError } from "../src/Errors.ts"
import { IdGenerator } from "../src/IdGenerator.ts"
import { ProductId, UserId } from "../src/Ids.ts"
import { Money, roundHalfAwayFromZero } from "../src/Money.ts"

describe("Money", () => {
  it("rounds half away from zero, on integers only", () => {
    assert.strictEqual(roundHalfAwayFromZero(5, 2), 3)
    assert.strictEqual(roundHalfAwayFromZero(-5, 2), -3)
    assert.strictEqual(roundHalfAwayFromZero(4, 3), 1)
    assert.strictEqual(roundHalfAwayFromZero(1299 * 825, 10_000), 107) // 8.25% of $12.99 = 107.1675 cents
    assert.strictEqual(roundHalfAwayFromZero(1000 * 825, 10_000), 83) // 82.5 cents
    assert.strictEqual(roundHalfAwayFromZero(-1000 * 825, 10_000), -83)
    assert.strictEqual(roundHalfAwayFromZero(250, 100), 3)
    assert.strictEqual(roundHalfAwayFromZero(0, 7), 0)
  })

  it("accepts integer minor units with an ISO currency only", () => {
    const decode = Schema.decodeUnknownExit(Money)
    assert.isTrue(decode({ amount: 1299, currency: "USD" })._tag === "Success")
    assert.isTrue(decode({ amount: 12.99, currency: "USD" })._tag === "Failure")
    assert.isTrue(decode({ amount: 1299, currency: "usd" })._tag === "Failure")
    assert.isTrue(decode({ amount: "1299", currency: "USD" })._tag === "Failure")
  })
})

describe("errors on the wire", () => {
  it("encode to { error, message, details? } without a tag, and decode back to their class", () => {
    const encoded = Schema.encodeSync(SkuExists)(new SkuExists({ details: { sku: "A-1" } }))
    assert.deepStrictEqual(encoded, {
      error: "sku_exists",
      message: "A product or variant with this SKU already exists",
      details: { sku: "A-1" }
    })
    const decoded = Schema.decodeUnknownSync(Schema.Union([ProductNotFound, SkuExists]))(encoded)
    assert.instanceOf(decoded, SkuExists)
    assert.strictEqual(decoded._tag, "SkuExists")
  })

  it("carry their HTTP status", () => {
    const status = (schema: Schema.Top) =>
      (schema.ast.annotations as Record<string, unknown> | undefined)?.["httpApiStatus"]
    assert.strictEqual(status(ProductNotFound), 404)
    assert.strictEqual(status(ValidationError), 400)
    assert.strictEqual(status(RateLimited), 429)
  })

  it.effect("are yieldable typed failures", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Effect.gen(function* () {
          return yield* new ProductNotFound({})
        })
      )
      assert.strictEqual(error.error, "product_not_found")
    })
  )
})

describe("ids", () => {
  it.effect("carry their prefix, sort in creation order, and are checked on decode", () =>
    Effect.gen(function* () {
      const ids = yield* IdGenerator
      const made = []
      for (let i = 0; i < 50; i++) made.push(yield* ids.make("prd"))
      assert.deepStrictEqual([...made].sort(), made)
      assert.isTrue(made.every((id) => Schema.is(ProductId)(id)))
      assert.isFalse(Schema.is(UserId)(made[0]))
      const secret = yield* ids.secret("cart")
      assert.match(secret, /^cart_[0-9A-Za-z]{24}$/)
    }).pipe(Effect.provide(IdGenerator.layer))
  )

  // Bytes 0, 1, 2, ...: the random part reads "0123...".
  const countingBytes = Layer.succeed(
    SecureRandom.SecureRandom,
    SecureRandom.make((size) => Uint8Array.from({ length: size }, (_, i) => i))
  )

  it.effect("take their time from the Clock and their randomness from SecureRandom", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(1_700_000_000_000)
      const ids = yield* IdGenerator
      // 1_700_000_000_000 in 8 base62 digits, then the counter in 3.
      assert.strictEqual(yield* ids.make("prd"), "prd_0Tvcokgi0000123456789AB")
      assert.strictEqual(yield* ids.make("prd"), "prd_0Tvcokgi0010123456789AB")
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* ids.make("prd"), "prd_0Tvcokgj0000123456789AB")
      assert.strictEqual(yield* ids.secret("cart"), "cart_0123456789ABCDEFGHIJKLMN")
    }).pipe(Effect.provide(IdGenerator.layerNoDeps.pipe(Layer.provide(countingBytes))))
  )

  it.effect("secrets come from the secure default, unlike each other", () =>
    Effect.gen(function* () {
      const ids = yield* IdGenerator
      const secrets = new Set<string>()
      for (let i = 0; i < 100; i++) secrets.add(yield* ids.secret("cart"))
      assert.strictEqual(secrets.size, 100)
    }).pipe(Effect.provide(IdGenerator.layer))
  )
})

describe("product input", () => {
  it("accepts either variants or the one-variant shorthand, never both, nothing unknown", () => {
    const decode = (input: unknown) =>
      Schema.decodeUnknownExit(CreateProductInput)(input, { onExcessProperty: "error" })._tag
    const price = { amount: 100, currency: "USD" }
    assert.strictEqual(decode({ sku: "A", title: "A", price }), "Success")
    assert.strictEqual(decode({ sku: "A", title: "A", variants: [{ sku: "A-1", price }] }), "Success")
    assert.strictEqual(decode({ sku: "A", title: "A", price, variants: [{ sku: "A-1", price }] }), "Failure")
    assert.strictEqual(decode({ sku: "A", title: "A", price, qty: 1 }), "Failure")
    assert.strictEqual(decode({ sku: "A B", title: "A", price }), "Failure")
  })
})
