import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Option, Ref } from "effect"
import { type CreateProductInput, Product, Variant } from "@shop/domain/Catalog"
import { ProductId, VariantId } from "@shop/domain/Ids"
import { Currency } from "@shop/domain/Money"
import { Inventory } from "@shop/inventory/Inventory"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import { TestClock } from "effect/testing"
import { Catalog } from "../src/Catalog.ts"
import * as ImageStore from "../src/ImageStore.ts"
import * as CatalogLive from "../src/CatalogLive.ts"
import { CatalogRepository, ProductRecord, VariantRecord } from "../src/CatalogRepository.ts"
import * as CatalogRepositoryCached from "../src/CatalogRepositoryCached.ts"
import * as CatalogRepositoryMemory from "../src/CatalogRepositoryMemory.ts"

const usd = Currency.make("USD")

// Wraps the real inventory to count calls across the service boundary and to
// make initialize fail on demand.
const countingInventory = (calls: Ref.Ref<number>, failInitialize: boolean, failRemove = false) =>
  Layer.effect(
    Inventory,
    Effect.gen(function* () {
      const real = yield* Inventory
      return Inventory.of({
        ...real,
        availability: (input) =>
          Effect.andThen(
            Ref.update(calls, (n) => n + 1),
            real.availability(input)
          ),
        initialize: (input) => (failInitialize ? Effect.die(new Error("inventory is down")) : real.initialize(input)),
        remove: (input) => (failRemove ? Effect.die(new Error("inventory is down")) : real.remove(input))
      })
    })
  ).pipe(Layer.provide(InventoryLive.layerMemory))

const withCatalog = (calls: Ref.Ref<number>, failInitialize = false, failRemove = false) =>
  // provideMerge: the test sees the same Inventory instance the catalog uses.
  Effect.provide(CatalogLive.layerMemory.pipe(Layer.provideMerge(countingInventory(calls, failInitialize, failRemove))))

const product = (sku: string, amount: number, variants = 1): CreateProductInput => ({
  sku,
  title: `Product ${sku}`,
  variants: Array.from({ length: variants }, (_, i) => ({
    sku: `${sku}-${i}`,
    price: { amount: amount + i, currency: usd },
    stock: 2
  }))
})

describe("Catalog", () => {
  it.effect("a page of products costs one inventory call, however many variants", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make(0)
      yield* Effect.gen(function* () {
        const catalog = yield* Catalog
        for (let i = 0; i < 12; i++) yield* catalog.create(product(`P${i}`, 100 * (i + 1), 3))
        yield* Ref.set(calls, 0)
        const page = yield* catalog.list({ limit: 10, offset: 0, sort: "price_asc" })
        assert.strictEqual(page.items.length, 10)
        assert.strictEqual(page.total, 12)
        assert.isTrue(page.items.every((p) => p.variants.every((v) => v.available === 2)))
        assert.strictEqual(yield* Ref.get(calls), 1)
      }).pipe(withCatalog(calls))
    })
  )

  it.effect("getMany answers the products that exist, each once, with one inventory call for all", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make(0)
      yield* Effect.gen(function* () {
        const catalog = yield* Catalog
        const created: Array<Product> = []
        for (let i = 0; i < 5; i++) created.push(yield* catalog.create(product(`M${i}`, 100 * (i + 1), 2)))
        yield* Ref.set(calls, 0)
        const asked = [
          created[3]!.productId,
          ProductId.make("prd_missing"),
          created[0]!.productId,
          created[3]!.productId
        ]
        const products = yield* catalog.getMany({ productIds: asked })
        assert.deepStrictEqual(
          products.map((p) => p.productId).sort(),
          [created[0]!.productId, created[3]!.productId].sort()
        )
        assert.deepStrictEqual(
          products.find((p) => p.productId === created[3]!.productId),
          yield* catalog.get({ productId: created[3]!.productId })
        )
        yield* Ref.set(calls, 0)
        yield* catalog.getMany({ productIds: created.map((p) => p.productId) })
        assert.strictEqual(yield* Ref.get(calls), 1)
        assert.deepStrictEqual(yield* catalog.getMany({ productIds: [] }), [])
      }).pipe(withCatalog(calls))
    })
  )

  it.effect("the product price is its lowest variant price", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make(0)
      yield* Effect.gen(function* () {
        const catalog = yield* Catalog
        const created = yield* catalog.create({
          sku: "MULTI",
          title: "Multi",
          variants: [
            { sku: "MULTI-B", price: { amount: 900, currency: usd } },
            { sku: "MULTI-A", price: { amount: 700, currency: usd } }
          ]
        })
        assert.deepStrictEqual(created.price, { amount: 700, currency: usd })
        assert.deepStrictEqual(
          created.variants.map((v) => v.sku),
          ["MULTI-B", "MULTI-A"]
        )
      }).pipe(withCatalog(calls))
    })
  )

  it.effect("refuses mixed currencies and duplicate variant SKUs", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make(0)
      yield* Effect.gen(function* () {
        const catalog = yield* Catalog
        const mixed = yield* Effect.flip(
          catalog.create({
            sku: "MIX",
            title: "Mix",
            variants: [
              { sku: "MIX-1", price: { amount: 1, currency: usd } },
              { sku: "MIX-2", price: { amount: 1, currency: Currency.make("EUR") } }
            ]
          })
        )
        assert.strictEqual(mixed._tag, "ValidationError")
        const dup = yield* Effect.flip(
          catalog.create({
            sku: "DUP",
            title: "Dup",
            variants: [
              { sku: "DUP-1", price: { amount: 1, currency: usd } },
              { sku: "DUP-1", price: { amount: 2, currency: usd } }
            ]
          })
        )
        assert.strictEqual(dup._tag, "ValidationError")
        const page = yield* catalog.list({ limit: 10, offset: 0, sort: "newest" })
        assert.strictEqual(page.total, 0)
      }).pipe(withCatalog(calls))
    })
  )

  it.effect("if stock cannot be set up, no product is written", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make(0)
      yield* Effect.gen(function* () {
        const catalog = yield* Catalog
        const exit = yield* Effect.exit(catalog.create(product("DOWN", 100)))
        assert.strictEqual(exit._tag, "Failure")
        const page = yield* catalog.list({ limit: 10, offset: 0, sort: "newest" })
        assert.strictEqual(page.total, 0)
      }).pipe(withCatalog(calls, true))
    })
  )

  it.effect("a delete that happened succeeds even if the stock clean-up fails", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make(0)
      yield* Effect.gen(function* () {
        const catalog = yield* Catalog
        const created = yield* catalog.create(product("CLEANUP", 100))
        yield* catalog.remove({ productId: created.productId })
        assert.strictEqual((yield* Effect.flip(catalog.get({ productId: created.productId })))._tag, "ProductNotFound")
      }).pipe(withCatalog(calls, false, true))
    })
  )

  it.effect("concurrent creates of one SKU: exactly one wins", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make(0)
      yield* Effect.gen(function* () {
        const catalog = yield* Catalog
        const results = yield* Effect.all(
          Array.from({ length: 8 }, () => Effect.result(catalog.create(product("RACE", 100)))),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(results.filter((r) => r._tag === "Success").length, 1)
        assert.strictEqual((yield* catalog.list({ limit: 10, offset: 0, sort: "newest" })).total, 1)
      }).pipe(withCatalog(calls))
    })
  )

  it.effect("concurrent edits of different variants all survive", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make(0)
      yield* Effect.gen(function* () {
        const catalog = yield* Catalog
        const created = yield* catalog.create(product("EDITS", 1000, 10))
        yield* Effect.all(
          created.variants.map((v, i) =>
            catalog.update({
              productId: created.productId,
              patch: { variants: [{ variantId: v.variantId, price: { amount: 5000 + i, currency: usd } }] }
            })
          ),
          { concurrency: "unbounded" }
        )
        const read = yield* catalog.get({ productId: created.productId })
        assert.deepStrictEqual(
          read.variants.map((v) => v.price.amount),
          created.variants.map((_, i) => 5000 + i)
        )
      }).pipe(withCatalog(calls))
    })
  )

  it.effect("the store refuses a write made from a stale revision", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make(0)
      yield* Effect.gen(function* () {
        const catalog = yield* Catalog
        const repo = yield* CatalogRepository
        const created = yield* catalog.create(product("STALE", 100))
        const before = yield* repo.find(created.productId)
        assert.isTrue(before._tag === "Some")
        if (before._tag !== "Some") return
        yield* catalog.update({ productId: created.productId, patch: { title: "First" } })
        const outcome = yield* repo.replace(
          { ...before.value, title: "Stale", revision: "rev_x" },
          before.value.revision
        )
        assert.strictEqual(outcome, "conflict")
        assert.strictEqual((yield* catalog.get({ productId: created.productId })).title, "First")
      }).pipe(
        Effect.provide(
          CatalogLive.layer.pipe(
            Layer.provideMerge(CatalogRepositoryMemory.layer),
            Layer.provide(ImageStore.layerMemory),
            Layer.provide(countingInventory(calls, false))
          )
        )
      )
    })
  )

  it.effect("remove deletes the product and its stock rows", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make(0)
      yield* Effect.gen(function* () {
        const catalog = yield* Catalog
        const inventory = yield* Inventory
        const created = yield* catalog.create(product("GONE", 100))
        assert.strictEqual((yield* inventory.get({ variantId: created.variants[0]!.variantId })).stock, 2)
        yield* catalog.remove({ productId: created.productId })
        assert.strictEqual((yield* Effect.flip(catalog.get({ productId: created.productId })))._tag, "ProductNotFound")
        const stock = yield* Effect.flip(inventory.get({ variantId: created.variants[0]!.variantId }))
        assert.strictEqual(stock._tag, "VariantNotFound")
      }).pipe(withCatalog(calls))
    })
  )
})

describe("CatalogRepository records", () => {
  it("store every public field but those worked out when a product is served", () => {
    const keys = (fields: object) => Object.keys(fields).sort()
    assert.deepStrictEqual(
      keys(VariantRecord.fields),
      keys(Variant.fields).filter((k) => k !== "available")
    )
    assert.deepStrictEqual(
      keys(ProductRecord.fields),
      [...keys(Product.fields).filter((k) => k !== "price"), "revision"].sort()
    )
    // Same field, same schema: the record does not restate it.
    assert.strictEqual(ProductRecord.fields.sku, Product.fields.sku)
    assert.strictEqual(VariantRecord.fields.price, Variant.fields.price)
  })
})

describe("CatalogRepositoryCached", () => {
  const cachedCatalog = (reads: Ref.Ref<number>) =>
    Effect.provide(
      CatalogLive.layer.pipe(
        Layer.provide(
          CatalogRepositoryCached.layer({ ttlMillis: 60_000, maxEntries: 2 }).pipe(
            Layer.provide(
              Layer.effect(
                CatalogRepository,
                Effect.gen(function* () {
                  const real = yield* CatalogRepository
                  return CatalogRepository.of({
                    ...real,
                    find: (id) =>
                      Effect.andThen(
                        Ref.update(reads, (n) => n + 1),
                        real.find(id)
                      ),
                    findMany: (ids) =>
                      Effect.andThen(
                        Ref.update(reads, (n) => n + ids.length),
                        real.findMany(ids)
                      )
                  })
                })
              ).pipe(Layer.provide(CatalogRepositoryMemory.layer))
            )
          )
        ),
        Layer.provide(ImageStore.layerMemory),
        Layer.provide(InventoryLive.layerMemory)
      )
    )

  it.effect("serves repeated reads from memory and never serves a record older than this process's last write", () =>
    Effect.gen(function* () {
      const reads = yield* Ref.make(0)
      yield* Effect.gen(function* () {
        const catalog = yield* Catalog
        const created = yield* catalog.create(product("CACHE", 100))
        yield* Ref.set(reads, 0)
        yield* catalog.get({ productId: created.productId })
        yield* catalog.get({ productId: created.productId })
        assert.strictEqual(yield* Ref.get(reads), 1)
        yield* catalog.update({ productId: created.productId, patch: { title: "Renamed" } })
        assert.strictEqual((yield* catalog.get({ productId: created.productId })).title, "Renamed")
        yield* catalog.remove({ productId: created.productId })
        assert.strictEqual((yield* Effect.flip(catalog.get({ productId: created.productId })))._tag, "ProductNotFound")
      }).pipe(cachedCatalog(reads))
    })
  )

  it.effect("a list page reads only the records it has not cached, and shows the latest write", () =>
    Effect.gen(function* () {
      const reads = yield* Ref.make(0)
      yield* Effect.gen(function* () {
        const catalog = yield* Catalog
        const a = yield* catalog.create(product("LIST-A", 100))
        yield* catalog.create(product("LIST-B", 200))
        yield* Ref.set(reads, 0)
        const query = { limit: 10, offset: 0, sort: "price_asc" as const }
        assert.deepStrictEqual(
          (yield* catalog.list(query)).items.map((p) => p.sku),
          ["LIST-A", "LIST-B"]
        )
        assert.strictEqual(yield* Ref.get(reads), 2)
        yield* catalog.list(query)
        assert.strictEqual(yield* Ref.get(reads), 2)
        yield* catalog.update({ productId: a.productId, patch: { title: "Changed" } })
        const page = yield* catalog.list(query)
        assert.strictEqual(page.items[0]!.title, "Changed")
        assert.strictEqual(page.total, 2)
        assert.strictEqual(yield* Ref.get(reads), 3)
      }).pipe(cachedCatalog(reads))
    })
  )

  it.effect("expires entries after the TTL and bounds its size", () =>
    Effect.gen(function* () {
      const reads = yield* Ref.make(0)
      yield* Effect.gen(function* () {
        const catalog = yield* Catalog
        const a = yield* catalog.create(product("TTL-A", 100))
        const b = yield* catalog.create(product("TTL-B", 100))
        const c = yield* catalog.create(product("TTL-C", 100))
        yield* Ref.set(reads, 0)
        for (const p of [a, b, c]) yield* catalog.get({ productId: p.productId })
        // maxEntries 2: the oldest (a) was evicted.
        yield* catalog.get({ productId: a.productId })
        assert.strictEqual(yield* Ref.get(reads), 4)
        yield* catalog.get({ productId: c.productId })
        assert.strictEqual(yield* Ref.get(reads), 4)
        yield* TestClock.adjust("61 seconds")
        yield* catalog.get({ productId: c.productId })
        assert.strictEqual(yield* Ref.get(reads), 5)
      }).pipe(cachedCatalog(reads))
    })
  )

  const record = (n: number, title = `Product ${n}`): ProductRecord => ({
    productId: ProductId.make(`prd_${n}`),
    sku: `CHURN-${n}`,
    title,
    description: "",
    category: "churn",
    images: [],
    uploadedImages: [],
    variants: [
      {
        variantId: VariantId.make(`var_${n}`),
        sku: `CHURN-${n}-0`,
        title: "Default",
        price: { amount: 100, currency: usd },
        attributes: {},
        weightGrams: 0
      }
    ],
    createdAt: 0,
    updatedAt: 0,
    revision: `rev_${n}_${title.length}`
  })

  it.effect("holds state for at most maxEntries products and the reads in flight, however many come and go", () =>
    Effect.gen(function* () {
      const cache = yield* CatalogRepositoryCached.make({ ttlMillis: 60_000, maxEntries: 100 })
      const repository = cache.repository
      for (let n = 0; n < 5_000; n++) {
        yield* repository.insert(record(n))
        yield* repository.find(ProductId.make(`prd_${n}`))
        yield* repository.replace(record(n, "Renamed"), record(n).revision)
        yield* repository.find(ProductId.make(`prd_${n}`))
        if (n % 2 === 0) yield* repository.remove(ProductId.make(`prd_${n}`))
        if (n % 50 === 0) yield* repository.list({ limit: 20, offset: 0, sort: "newest" })
      }
      const { entries, inFlight } = cache.sizes()
      assert.isAtMost(entries, 100)
      assert.strictEqual(inFlight, 0)
    }).pipe(Effect.provide(CatalogRepositoryMemory.layer))
  )

  it.effect("does not cache a record read before a write that ended while the read ran", () =>
    Effect.gen(function* () {
      const readDone = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const slowFirstRead = Layer.effect(
        CatalogRepository,
        Effect.gen(function* () {
          const real = yield* CatalogRepository
          const first = yield* Ref.make(true)
          return CatalogRepository.of({
            ...real,
            find: Effect.fn("SlowFirstRead.find")(function* (id) {
              const found = yield* real.find(id)
              if (yield* Ref.getAndSet(first, false)) {
                yield* Deferred.succeed(readDone, undefined)
                yield* Deferred.await(release)
              }
              return found
            })
          })
        })
      ).pipe(Layer.provide(CatalogRepositoryMemory.layer))
      yield* Effect.gen(function* () {
        const cache = yield* CatalogRepositoryCached.make({ ttlMillis: 60_000, maxEntries: 10 })
        const repository = cache.repository
        const id = ProductId.make("prd_1")
        yield* repository.insert(record(1))
        const racing = yield* Effect.forkChild(repository.find(id))
        yield* Deferred.await(readDone)
        assert.strictEqual(cache.sizes().inFlight, 1)
        assert.strictEqual(yield* repository.replace(record(1, "Renamed"), record(1).revision), "replaced")
        yield* Deferred.succeed(release, undefined)
        const stale = yield* Fiber.join(racing)
        assert.strictEqual(Option.getOrThrow(stale).title, "Product 1")
        assert.strictEqual(cache.sizes().inFlight, 0)
        const after = yield* repository.find(id)
        assert.strictEqual(Option.getOrThrow(after).title, "Renamed")
      }).pipe(Effect.provide(slowFirstRead))
    })
  )
})
