import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import type { CreateProductInput } from "@shop/domain/Catalog"
import { ProductId, VariantId } from "@shop/domain/Ids"
import { Currency } from "@shop/domain/Money"
import { Inventory } from "@shop/inventory/Inventory"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import { Catalog } from "../src/Catalog.ts"
import * as ImageStore from "../src/ImageStore.ts"
import * as CatalogLive from "../src/CatalogLive.ts"
import * as CatalogReconciler from "../src/CatalogReconciler.ts"
import { CatalogRepository, type ProductRecord } from "../src/CatalogRepository.ts"
import * as CatalogRepositoryMemory from "../src/CatalogRepositoryMemory.ts"

// A crash between the catalog's write and inventory's, in memory: the step
// named by `faults` dies (before or after its own write), which stops the
// create or delete right there as a killed process would. The stores outlive
// the "crash", as files do; turning the fault off is the restart.

const usd = Currency.make("USD")

interface Faults {
  initialize?: "before-write" | "after-write"
  insert?: "after-write"
  removeProduct?: "after-write"
  // Holds initialize after its write until the deferred is completed.
  pauseAfterInitialize?: Deferred.Deferred<void>
  paused?: Deferred.Deferred<void>
}

const crash = Effect.die(new Error("the process was killed here"))

const faultyInventory = (faults: Faults) =>
  Layer.effect(
    Inventory,
    Effect.gen(function* () {
      const real = yield* Inventory
      return Inventory.of({
        ...real,
        initialize: Effect.fn("FaultyInventory.initialize")(function* (input) {
          if (faults.initialize === "before-write") return yield* crash
          yield* real.initialize(input)
          if (faults.initialize === "after-write") return yield* crash
          if (faults.pauseAfterInitialize !== undefined && faults.paused !== undefined) {
            yield* Deferred.succeed(faults.paused, undefined)
            yield* Deferred.await(faults.pauseAfterInitialize)
          }
        })
      })
    })
  ).pipe(Layer.provide(InventoryLive.layerMemory))

const faultyStore = (faults: Faults) =>
  Layer.effect(
    CatalogRepository,
    Effect.gen(function* () {
      const real = yield* CatalogRepository
      return CatalogRepository.of({
        ...real,
        insert: (product) =>
          faults.insert === "after-write" ? Effect.andThen(real.insert(product), crash) : real.insert(product),
        remove: (productId) =>
          faults.removeProduct === "after-write"
            ? Effect.andThen(real.remove(productId), crash)
            : real.remove(productId)
      })
    })
  ).pipe(Layer.provide(CatalogRepositoryMemory.layer))

const withShop = (faults: Faults) =>
  Effect.provide(
    Layer.mergeAll(CatalogLive.layer, CatalogReconciler.layer).pipe(
      Layer.provideMerge(Layer.mergeAll(faultyStore(faults), faultyInventory(faults), ImageStore.layerMemory))
    )
  )

const product = (sku: string, variants = 2): CreateProductInput => ({
  sku,
  title: `Product ${sku}`,
  variants: Array.from({ length: variants }, (_, i) => ({
    sku: `${sku}-${i}`,
    price: { amount: 100 + i, currency: usd },
    stock: 3
  }))
})

// What the old order (product first) left when killed between the writes: a
// product whose variants have no stock row.
const damaged = (n: number, variants = 2): ProductRecord => ({
  productId: ProductId.make(`prd_damaged${n}`),
  sku: `DAMAGED-${n}`,
  title: `Damaged ${n}`,
  description: "",
  category: "damaged",
  images: [],
  uploadedImages: [],
  variants: Array.from({ length: variants }, (_, i) => ({
    variantId: VariantId.make(`var_damaged${n}x${i}`),
    sku: `DAMAGED-${n}-${i}`,
    title: "Default",
    price: { amount: 100, currency: usd },
    attributes: {},
    weightGrams: 0
  })),
  createdAt: 0,
  updatedAt: 0,
  revision: `rev_damaged${n}`
})

const allProducts = Effect.gen(function* () {
  const catalog = yield* Catalog
  const products = []
  for (let offset = 0; ; offset += 100) {
    const page = yield* catalog.list({ limit: 100, offset, sort: "newest" })
    products.push(...page.items)
    if (page.items.length < 100) return products
  }
})

// Every listed product's every variant has a stock row that an admin can set.
const assertUsable = Effect.gen(function* () {
  const inventory = yield* Inventory
  for (const listed of yield* allProducts) {
    for (const variant of listed.variants) {
      const set = yield* Effect.exit(inventory.set({ variantId: variant.variantId, stock: 7 }))
      assert.isTrue(Exit.isSuccess(set), `variant ${variant.variantId} of ${listed.sku} cannot get stock`)
    }
  }
})

// Stock rows that no variant claims.
const orphanRows = Effect.gen(function* () {
  const inventory = yield* Inventory
  const repo = yield* CatalogRepository
  const rows = yield* inventory.stockRows({ limit: 1000 })
  const claimed = new Set(yield* repo.existingVariants(rows.map((row) => row.variantId)))
  return rows.filter((row) => !claimed.has(row.variantId)).map((row) => row.variantId)
})

const reconcile = Effect.gen(function* () {
  return yield* (yield* CatalogReconciler.CatalogReconciler).reconcile()
})

describe("Crash safety of product creation and removal", () => {
  it.effect("killed before inventory wrote: nothing at all is left", () => {
    const faults: Faults = { initialize: "before-write" }
    return Effect.gen(function* () {
      const exit = yield* Effect.exit((yield* Catalog).create(product("A")))
      assert.isTrue(Exit.hasDies(exit))
      faults.initialize = undefined
      assert.strictEqual((yield* allProducts).length, 0)
      assert.deepStrictEqual(yield* orphanRows, [])
      assert.deepStrictEqual(yield* reconcile, { stockCreated: 0, stockRemoved: 0 })
    }).pipe(withShop(faults))
  })

  it.effect("killed between the two writes: no product, and its stock rows are swept after the grace period", () => {
    const faults: Faults = { initialize: "after-write" }
    return Effect.gen(function* () {
      const catalog = yield* Catalog
      const exit = yield* Effect.exit(catalog.create(product("B")))
      assert.isTrue(Exit.hasDies(exit))
      faults.initialize = undefined
      // Nothing unusable: the product never appeared, the rows are unreachable.
      assert.strictEqual((yield* allProducts).length, 0)
      assert.strictEqual((yield* orphanRows).length, 2)
      // The same SKU can be created again at once.
      yield* catalog.create(product("B"))
      yield* assertUsable
      // Young rows may belong to a create in progress: they stay.
      yield* TestClock.adjust("9 minutes")
      assert.deepStrictEqual(yield* reconcile, { stockCreated: 0, stockRemoved: 0 })
      assert.strictEqual((yield* orphanRows).length, 2)
      yield* TestClock.adjust("2 minutes")
      assert.deepStrictEqual(yield* reconcile, { stockCreated: 0, stockRemoved: 2 })
      assert.deepStrictEqual(yield* orphanRows, [])
      // The product created after the crash kept its stock.
      const [kept] = yield* allProducts
      assert.isTrue(kept!.variants.every((v) => v.available === 7))
    }).pipe(withShop(faults))
  })

  it.effect("killed after the product was written: the product is complete", () => {
    const faults: Faults = { insert: "after-write" }
    return Effect.gen(function* () {
      const exit = yield* Effect.exit((yield* Catalog).create(product("C")))
      assert.isTrue(Exit.hasDies(exit))
      faults.insert = undefined
      const [created] = yield* allProducts
      assert.isTrue(created!.variants.every((v) => v.available === 3))
      yield* assertUsable
      yield* TestClock.adjust("1 hour")
      assert.deepStrictEqual(yield* reconcile, { stockCreated: 0, stockRemoved: 0 })
    }).pipe(withShop(faults))
  })

  it.effect("a refused create (SKU taken) takes its stock rows back at once", () =>
    Effect.gen(function* () {
      const catalog = yield* Catalog
      yield* catalog.create(product("D"))
      const refused = yield* Effect.flip(catalog.create(product("D")))
      assert.strictEqual(refused._tag, "SkuExists")
      assert.deepStrictEqual(yield* orphanRows, [])
    }).pipe(withShop({}))
  )

  it.effect("killed between a delete's two writes: the product is gone, its stock rows are swept later", () => {
    const faults: Faults = {}
    return Effect.gen(function* () {
      const catalog = yield* Catalog
      const created = yield* catalog.create(product("E"))
      faults.removeProduct = "after-write"
      assert.isTrue(Exit.hasDies(yield* Effect.exit(catalog.remove({ productId: created.productId }))))
      faults.removeProduct = undefined
      assert.strictEqual((yield* allProducts).length, 0)
      assert.strictEqual((yield* orphanRows).length, 2)
      yield* TestClock.adjust("11 minutes")
      assert.deepStrictEqual(yield* reconcile, { stockCreated: 0, stockRemoved: 2 })
      assert.deepStrictEqual(yield* orphanRows, [])
    }).pipe(withShop(faults))
  })

  it.effect("repairs what the old order left: variants without stock rows get stock 0, page after page", () =>
    Effect.gen(function* () {
      const repo = yield* CatalogRepository
      const inventory = yield* Inventory
      // 130 products, 260 variants: more than two pages of each direction.
      for (let n = 0; n < 130; n++) yield* repo.insert(damaged(n))
      const variant = VariantId.make("var_damaged7x1")
      assert.strictEqual((yield* Effect.flip(inventory.set({ variantId: variant, stock: 5 })))._tag, "VariantNotFound")
      assert.deepStrictEqual(yield* reconcile, { stockCreated: 260, stockRemoved: 0 })
      assert.strictEqual((yield* inventory.get({ variantId: variant })).stock, 0)
      yield* assertUsable
      // Repaired once: the next pass finds nothing, and keeps the stock set since.
      assert.deepStrictEqual(yield* reconcile, { stockCreated: 0, stockRemoved: 0 })
      assert.strictEqual((yield* inventory.get({ variantId: variant })).stock, 7)
    }).pipe(withShop({}))
  )

  it.effect("a create paused between its writes while a pass runs keeps its stock rows", () =>
    Effect.gen(function* () {
      const faults: Faults = {
        pauseAfterInitialize: yield* Deferred.make<void>(),
        paused: yield* Deferred.make<void>()
      }
      yield* Effect.gen(function* () {
        const catalog = yield* Catalog
        const creating = yield* Effect.forkChild(catalog.create(product("F")))
        yield* Deferred.await(faults.paused!)
        assert.deepStrictEqual(yield* reconcile, { stockCreated: 0, stockRemoved: 0 })
        yield* Deferred.succeed(faults.pauseAfterInitialize!, undefined)
        const created = yield* Fiber.join(creating)
        assert.isTrue(
          (yield* (yield* Catalog).get({ productId: created.productId })).variants.every((v) => v.available === 3)
        )
        yield* TestClock.adjust("1 hour")
        assert.deepStrictEqual(yield* reconcile, { stockCreated: 0, stockRemoved: 0 })
        yield* assertUsable
      }).pipe(withShop(faults))
    })
  )

  it.effect("many creates, each killed at a different point, leave a usable shop after one pass", () => {
    const faults: Faults = {}
    const points: ReadonlyArray<Faults> = [
      {},
      { initialize: "before-write" },
      { initialize: "after-write" },
      { insert: "after-write" }
    ]
    return Effect.gen(function* () {
      const catalog = yield* Catalog
      const repo = yield* CatalogRepository
      for (let n = 0; n < 40; n++) {
        Object.assign(faults, { initialize: undefined, insert: undefined }, points[n % points.length])
        yield* Effect.exit(catalog.create(product(`G${n}`, 1 + (n % 3))))
      }
      Object.assign(faults, { initialize: undefined, insert: undefined })
      // And some damage from before this order.
      for (let n = 0; n < 5; n++) yield* repo.insert(damaged(n, 3))
      yield* TestClock.adjust("11 minutes")
      const result = yield* reconcile
      assert.strictEqual(result.stockCreated, 15)
      assert.isAbove(result.stockRemoved, 0)
      yield* assertUsable
      assert.deepStrictEqual(yield* orphanRows, [])
      // Killed after the product was written counts as created; killed before counts as not.
      assert.strictEqual((yield* allProducts).length, 20 + 5)
    }).pipe(withShop(faults))
  })

  it.effect("the schedule runs a pass at start and then every period", () =>
    Effect.gen(function* () {
      const repo = yield* CatalogRepository
      const inventory = yield* Inventory
      yield* repo.insert(damaged(1, 1))
      yield* Effect.gen(function* () {
        yield* TestClock.adjust("1 millis")
        assert.strictEqual((yield* inventory.get({ variantId: VariantId.make("var_damaged1x0") })).stock, 0)
        yield* repo.insert(damaged(2, 1))
        yield* TestClock.adjust("4 minutes")
        assert.strictEqual(
          (yield* Effect.flip(inventory.get({ variantId: VariantId.make("var_damaged2x0") })))._tag,
          "VariantNotFound"
        )
        yield* TestClock.adjust("1 minute")
        assert.strictEqual((yield* inventory.get({ variantId: VariantId.make("var_damaged2x0") })).stock, 0)
      }).pipe(Effect.provide(CatalogReconciler.layerSchedule({ every: "5 minutes" })), Effect.scoped)
    }).pipe(withShop({}))
  )
})
