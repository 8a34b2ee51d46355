import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Catalog } from "@shop/catalog/Catalog"
import * as CatalogLive from "@shop/catalog/CatalogLive"
import { Coupons } from "@shop/coupons/Coupons"
import * as CouponsLive from "@shop/coupons/CouponsLive"
import type { Coupon } from "@shop/domain/Coupons"
import { CartId, type ProductId } from "@shop/domain/Ids"
import { Currency } from "@shop/domain/Money"
import * as FulfillmentLive from "@shop/fulfillment/FulfillmentLive"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import { CartConfig } from "../src/CartConfig.ts"
import * as CartLive from "../src/CartLive.ts"
import { Carts } from "../src/Carts.ts"
import { CartStore, CartWriter } from "../src/CartStore.ts"
import * as Summary from "../src/Summary.ts"
import { checkoutServices } from "./Fixtures.ts"

const usd = Currency.make("USD")
const hour = 3_600_000
// Wednesday 2026-12-02, 10:00 UTC.
const start = Date.UTC(2026, 11, 2, 10)
const ttlSeconds = 3_600

let counter = 0
const cartId = () => Schema.decodeSync(CartId)(`cart_${String(++counter).padStart(24, "0")}`)

// The other services on their memory stores, shared by the cart and the test.
const services = Layer.mergeAll(
  FulfillmentLive.layerMemory,
  CouponsLive.layerMemory,
  checkoutServices().pipe(
    Layer.provideMerge(CatalogLive.layerMemory.pipe(Layer.provideMerge(InventoryLive.layerMemory)))
  )
)

// A catalog that takes a real millisecond to answer, as one across a network
// does: the operations of concurrent callers then overlap.
const slowCatalog = Layer.effect(
  Catalog,
  Effect.gen(function* () {
    const catalog = yield* Catalog
    return Catalog.of({
      ...catalog,
      get: (input) => Effect.andThen(Effect.sleep("1 millis"), catalog.get(input)),
      getMany: (input) => Effect.andThen(Effect.sleep("1 millis"), catalog.getMany(input))
    })
  })
)

// The catalog as is, for tests on the TestClock (where a sleep would wait for
// the test to move the clock).
const directCatalog = Layer.effect(Catalog, Effect.service(Catalog))

// No single writer at all: what the cart would be without CartWriter.
const noWriter = Layer.succeed(CartWriter, CartWriter.of({ withCart: () => (operation) => operation }))

const cartWith = (writer: Layer.Layer<CartWriter>, catalog: Layer.Layer<Catalog, never, Catalog> = slowCatalog) =>
  Layer.mergeAll(CartLive.layer, CartLive.layerSweeper).pipe(
    Layer.provide(catalog),
    Layer.provideMerge(Layer.mergeAll(CartStore.layerMemory, writer, CartConfig.layer({ ttlSeconds }))),
    Layer.provideMerge(services)
  )

const withCart = Effect.provide(cartWith(CartWriter.layerKeyed))
const withCartOnTestClock = Effect.provide(cartWith(CartWriter.layerKeyed, directCatalog))

const product = (price: number, stock = 100) =>
  Effect.gen(function* () {
    const catalog = yield* Catalog
    const created = yield* catalog.create({
      sku: `SKU-${++counter}`,
      title: `Product ${counter}`,
      price: { amount: price, currency: usd },
      stock
    })
    return created.productId as ProductId
  })

const errorOf = <A, E extends { readonly error: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.exit(effect), (exit) => {
    assert.isTrue(Exit.isFailure(exit))
    const reason = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
    return reason !== undefined && "error" in reason ? (reason.error as E) : undefined
  })

describe("Carts: one writer per cart", () => {
  const fiftyAdds = Effect.gen(function* () {
    const carts = yield* Carts
    const productId = yield* product(100, 1_000)
    const id = cartId()
    yield* carts.create({ cartId: id, userId: null })
    const others = Array.from({ length: 20 }, cartId)
    yield* Effect.forEach(others, (other) => carts.create({ cartId: other, userId: null }))
    yield* Effect.all(
      [
        ...Array.from({ length: 50 }, () => carts.add({ cartId: id, caller: null, productId, quantity: 1 })),
        ...others.map((other) => carts.add({ cartId: other, caller: null, productId, quantity: 1 }))
      ],
      { concurrency: "unbounded" }
    )
    const cart = yield* carts.get({ cartId: id, caller: null })
    const rest = yield* Effect.forEach(others, (other) => carts.get({ cartId: other, caller: null }))
    return { quantity: cart.items[0]?.quantity, rest: rest.map((c) => c.items[0]?.quantity) }
  })

  it.live("50 concurrent adds of 1, with a slow catalog, end at exactly 50; other carts are not held up", () =>
    Effect.gen(function* () {
      const { quantity, rest } = yield* fiftyAdds
      assert.strictEqual(quantity, 50)
      assert.deepStrictEqual(
        rest,
        rest.map(() => 1)
      )
    }).pipe(withCart)
  )

  // The control: the same run without a writer loses updates, so the test
  // above measures the writer and not luck.
  it.live("without the writer the same run loses updates", () =>
    Effect.gen(function* () {
      const { quantity } = yield* fiftyAdds
      assert.isBelow(quantity ?? 0, 50)
    }).pipe(Effect.provide(cartWith(noWriter)))
  )

  it.live("a failed change writes nothing and releases the cart", () =>
    Effect.gen(function* () {
      const carts = yield* Carts
      const productId = yield* product(100, 3)
      const id = cartId()
      yield* carts.create({ cartId: id, userId: null })
      yield* carts.add({ cartId: id, caller: null, productId, quantity: 2 })
      const refused = yield* errorOf(carts.add({ cartId: id, caller: null, productId, quantity: 2 }))
      assert.strictEqual(refused?.error, "insufficient_stock")
      const cart = yield* carts.add({ cartId: id, caller: null, productId, quantity: 1 })
      assert.strictEqual(cart.items[0]?.quantity, 3)
    }).pipe(withCart)
  )
})

describe("Carts: a full cart", () => {
  // 100 lines, each its own product: every change re-reads every line's
  // product (their stock in one read of inventory per batch of calls) and
  // must still price each line at today's price, drop a product that left
  // the catalog, and keep exact figures.
  it.live(
    "a cart of 100 lines is priced exactly after adds, a price change, updates, removes and 20 concurrent adds",
    () =>
      Effect.gen(function* () {
        const carts = yield* Carts
        const catalog = yield* Catalog
        const products = yield* Effect.forEach(
          Array.from({ length: 100 }, (_, i) => i),
          (i) => product(100 + i, 1_000)
        )
        const id = cartId()
        yield* carts.create({ cartId: id, userId: null })
        for (const productId of products) yield* carts.add({ cartId: id, caller: null, productId, quantity: 1 })
        const full = yield* carts.get({ cartId: id, caller: null })
        assert.strictEqual(full.items.length, 100)
        const sum = (cart: typeof full) => cart.items.reduce((total, line) => total + line.lineTotal.amount, 0)
        assert.strictEqual(full.summary.subtotal.amount, sum(full))
        assert.strictEqual(full.summary.subtotal.amount, 100 * 100 + (99 * 100) / 2)
        // A 101st line is refused.
        const extra = yield* product(1)
        assert.strictEqual(
          (yield* errorOf(carts.add({ cartId: id, caller: null, productId: extra, quantity: 1 })))?.error,
          "validation_error"
        )

        // The catalog changes two lines' products: the next change, to a third
        // line, shows today's price for the one and drops the other.
        const [first, second, third, last] = [products[0]!, products[1]!, products[2]!, products[99]!]
        yield* catalog.update({ productId: first, patch: { price: { amount: 5_000, currency: usd } } })
        yield* catalog.remove({ productId: second })
        const thirdVariant = full.items.find((line) => line.productId === third)!.variantId
        const updated = yield* carts.update({ cartId: id, caller: null, variantId: thirdVariant, quantity: 3 })
        assert.strictEqual(updated.items.length, 99)
        assert.deepStrictEqual(
          updated.removedItems.map((line) => line.productId),
          [second]
        )
        assert.strictEqual(updated.items[0]?.unitPrice.amount, 5_000)
        assert.strictEqual(updated.items.find((line) => line.productId === third)?.quantity, 3)
        assert.strictEqual(updated.summary.subtotal.amount, sum(updated))

        const lastVariant = full.items.find((line) => line.productId === last)!.variantId
        const removed = yield* carts.remove({ cartId: id, caller: null, variantId: lastVariant })
        assert.strictEqual(removed.items.length, 98)
        assert.strictEqual(removed.summary.subtotal.amount, sum(removed))

        // 20 concurrent adds to lines of the full cart: none lost.
        yield* Effect.all(
          Array.from({ length: 20 }, (_, i) =>
            carts.add({ cartId: id, caller: null, productId: products[10 + (i % 5)]!, quantity: 1 })
          ),
          { concurrency: "unbounded" }
        )
        const after = yield* carts.get({ cartId: id, caller: null })
        assert.deepStrictEqual(
          products.slice(10, 15).map((productId) => after.items.find((line) => line.productId === productId)?.quantity),
          [5, 5, 5, 5, 5]
        )
        assert.strictEqual(after.items.length, 98)
        assert.strictEqual(after.summary.subtotal.amount, sum(after))
        assert.strictEqual(
          after.summary.subtotal.amount,
          removed.summary.subtotal.amount + products.slice(10, 15).reduce((total, _, i) => total + 4 * (110 + i), 0)
        )
      }).pipe(withCart)
  )
})

describe("Carts: expiry", () => {
  it.effect("a cart expires CART_TTL_SECONDS after its last change; reads do not extend it; the sweep deletes it", () =>
    Effect.gen(function* () {
      // The TestClock starts at 0. (Setting it far ahead would step the
      // sweeper through every minute in between.)
      const carts = yield* Carts
      const store = yield* CartStore
      const productId = yield* product(500)
      const id = cartId()
      const created = yield* carts.create({ cartId: id, userId: null })
      assert.strictEqual(created.expiresAt, new Date(hour).toISOString())
      yield* TestClock.adjust("50 minutes")
      const changed = yield* carts.add({ cartId: id, caller: null, productId, quantity: 1 })
      assert.strictEqual(changed.expiresAt, new Date(50 * 60_000 + hour).toISOString())
      yield* TestClock.adjust("59 minutes")
      yield* carts.get({ cartId: id, caller: null })
      yield* TestClock.adjust("1 minute")
      // Expired at the boundary, whether or not the sweep has run yet.
      assert.strictEqual((yield* errorOf(carts.get({ cartId: id, caller: null })))?.error, "cart_not_found")
      assert.strictEqual(
        (yield* errorOf(carts.add({ cartId: id, caller: null, productId, quantity: 1 })))?.error,
        "cart_not_found"
      )
      yield* TestClock.adjust("1 minute")
      assert.isTrue(Option.isNone(yield* store.find(id)))
    }).pipe(withCartOnTestClock)
  )
})

describe("Carts: ownership", () => {
  it.effect("a user's cart is not found for anyone else; a guest cart for anyone", () =>
    Effect.gen(function* () {
      const carts = yield* Carts
      const owned = cartId()
      const owner = "usr_owner" as never
      yield* carts.create({ cartId: owned, userId: owner })
      yield* carts.get({ cartId: owned, caller: owner })
      assert.strictEqual((yield* errorOf(carts.get({ cartId: owned, caller: null })))?.error, "cart_not_found")
      assert.strictEqual(
        (yield* errorOf(carts.clear({ cartId: owned, caller: "usr_other" as never })))?.error,
        "cart_not_found"
      )
      const guest = cartId()
      yield* carts.create({ cartId: guest, userId: null })
      yield* carts.get({ cartId: guest, caller: "usr_other" as never })
    }).pipe(withCartOnTestClock)
  )
})

describe("Carts: coupons", () => {
  // A coupons service whose one coupon's usage the test controls.
  const limited = (used: { count: number }) =>
    Layer.effect(
      Coupons,
      Effect.gen(function* () {
        const real = yield* Coupons
        const coupon: Coupon = {
          code: "LIMITED",
          type: "percent",
          value: 10,
          usageLimit: 2,
          createdAt: new Date(start).toISOString(),
          used: 0
        }
        return Coupons.of({
          ...real,
          lookup: (input) =>
            input.code.toUpperCase() === "LIMITED"
              ? Effect.succeed({ ...coupon, used: used.count })
              : real.lookup(input)
        })
      })
    )

  it.effect("a used-up coupon is refused (coupon_exhausted) and stops applying on a cart that holds it", () => {
    const used = { count: 1 }
    const layer = Layer.mergeAll(CartLive.layer).pipe(
      Layer.provide(Layer.mergeAll(CartStore.layerMemory, CartWriter.layerKeyed, CartConfig.layer({ ttlSeconds }))),
      Layer.provide(limited(used)),
      Layer.provideMerge(services)
    )
    return Effect.gen(function* () {
      const carts = yield* Carts
      const productId = yield* product(1_000)
      const id = cartId()
      yield* carts.create({ cartId: id, userId: null })
      yield* carts.add({ cartId: id, caller: null, productId, quantity: 1 })
      const applied = yield* carts.applyCoupon({ cartId: id, caller: null, code: "limited", client: "test" })
      assert.deepStrictEqual(applied.coupon, { code: "LIMITED", applicable: true })
      assert.strictEqual(applied.summary.discount.amount, 100)
      used.count = 2
      const after = yield* carts.add({ cartId: id, caller: null, productId, quantity: 1 })
      assert.deepStrictEqual(after.coupon, { code: "LIMITED", applicable: false, reason: "coupon_exhausted" })
      assert.strictEqual(after.summary.discount.amount, 0)
      const other = cartId()
      yield* carts.create({ cartId: other, userId: null })
      const refused = yield* errorOf(
        carts.applyCoupon({ cartId: other, caller: null, code: "LIMITED", client: "test" })
      )
      assert.strictEqual(refused?.error, "coupon_exhausted")
    }).pipe(Effect.provide(layer))
  })

  it.effect("a coupon that expires stops applying by the Clock (coupon_expired)", () =>
    Effect.gen(function* () {
      const carts = yield* Carts
      const coupons = yield* Coupons
      yield* coupons.create({
        code: "BRIEF",
        type: "fixed",
        value: 250,
        expiresAt: new Date(hour / 2).toISOString()
      })
      const productId = yield* product(1_000)
      const id = cartId()
      yield* carts.create({ cartId: id, userId: null })
      yield* carts.add({ cartId: id, caller: null, productId, quantity: 1 })
      const applied = yield* carts.applyCoupon({ cartId: id, caller: null, code: "brief", client: "test" })
      assert.strictEqual(applied.summary.discount.amount, 250)
      yield* TestClock.adjust("31 minutes")
      const after = yield* carts.add({ cartId: id, caller: null, productId, quantity: 1 })
      assert.deepStrictEqual(after.coupon, { code: "BRIEF", applicable: false, reason: "coupon_expired" })
      assert.strictEqual(after.summary.total.amount, 2_000)
    }).pipe(withCartOnTestClock)
  )
})

describe("Summary arithmetic", () => {
  const coupon = (type: Coupon["type"], value: number): Coupon => ({
    code: "X",
    type,
    value,
    createdAt: new Date(start).toISOString(),
    used: 0
  })

  it("rounds a percent discount half away from zero on each line", () => {
    // 12.5 -> 13 and 0.5 -> 1 (10% of 125 and of 5).
    assert.deepStrictEqual(Summary.lineDiscounts(coupon("percent", 10), [125, 5, 0]), [13, 1, 0])
  })

  it("spreads a fixed discount over the lines by largest remainder, summing to it exactly", () => {
    const parts = Summary.lineDiscounts(coupon("fixed", 100), [333, 333, 334])
    assert.strictEqual(
      parts.reduce((a, b) => a + b, 0),
      100
    )
    assert.deepStrictEqual(parts, [33, 33, 34])
    // Never more than the subtotal.
    assert.deepStrictEqual(Summary.lineDiscounts(coupon("fixed", 5_000), [700, 300]), [700, 300])
    // Exact past 2^53: 999 × 10^10 minor units per line.
    const big = [999 * 10_000_000_000, 1]
    const bigParts = Summary.lineDiscounts(coupon("fixed", 10_000_000_000), big)
    assert.strictEqual(
      bigParts.reduce((a, b) => a + b, 0),
      10_000_000_000
    )
  })

  it("taxes each discounted line, and shipping only when the rate says so", () => {
    // 8.25% of 1005 = 82.9125 -> 83; of 333 = 27.4725 -> 27; of 500 = 41.25 -> 41.
    assert.strictEqual(Summary.tax([1005, 333], 500, { rate: 825, shippingTaxable: false }), 110)
    assert.strictEqual(Summary.tax([1005, 333], 500, { rate: 825, shippingTaxable: true }), 151)
    assert.strictEqual(Summary.tax([1005], 500, null), 0)
    // Large amounts stay exact: 999 × 10^10 at 825 bp.
    assert.strictEqual(Summary.tax([999 * 10_000_000_000], 0, { rate: 825, shippingTaxable: false }), 824_175_000_000)
  })

  it("judges a coupon against the cart: expiry, usage, minimum and its currency", () => {
    const now = start
    const base = coupon("percent", 10)
    assert.deepStrictEqual(Summary.standing(base, { subtotal: 0, currency: "USD" }, now).applicable, true)
    assert.deepStrictEqual(
      Summary.standing({ ...base, expiresAt: new Date(now).toISOString() }, { subtotal: 0, currency: "USD" }, now),
      { applicable: false, reason: "coupon_expired" }
    )
    assert.deepStrictEqual(
      Summary.standing({ ...base, usageLimit: 3, used: 3 }, { subtotal: 0, currency: "USD" }, now),
      {
        applicable: false,
        reason: "coupon_exhausted"
      }
    )
    const min = { ...base, minCart: { amount: 1_000, currency: usd } }
    assert.deepStrictEqual(Summary.standing(min, { subtotal: 999, currency: "USD" }, now), {
      applicable: false,
      reason: "min_cart_not_met"
    })
    assert.strictEqual(Summary.standing(min, { subtotal: 1_000, currency: "USD" }, now).applicable, true)
    assert.deepStrictEqual(Summary.standing(min, { subtotal: 5_000, currency: "EUR" }, now), {
      applicable: false,
      reason: "currency_mismatch"
    })
  })
})
