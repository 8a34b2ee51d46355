// The reads the catalog's reconciliation relies on (CatalogReconciler.ts),
// held to one behaviour on the memory and SQL stores, and the reconciliation
// itself on the SQL stores the node runtime uses.
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import * as CatalogReconciler from "@shop/catalog/CatalogReconciler"
import { CatalogRepository, type ProductRecord } from "@shop/catalog/CatalogRepository"
import * as CatalogRepositoryMemory from "@shop/catalog/CatalogRepositoryMemory"
import * as CatalogRepositorySql from "@shop/catalog/CatalogRepositorySql"
import { ProductId, VariantId } from "@shop/domain/Ids"
import { Currency } from "@shop/domain/Money"
import { SqlBatch } from "@shop/domain/SqlBatch"
import { Inventory } from "@shop/inventory/Inventory"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import { InventoryRepository } from "@shop/inventory/InventoryRepository"
import * as InventoryRepositoryMemory from "@shop/inventory/InventoryRepositoryMemory"
import * as InventoryRepositorySql from "@shop/inventory/InventoryRepositorySql"
import { migrate } from "../src/Migrations.ts"
import * as SqliteClient from "../src/SqliteClient.ts"

const migrations = (service: string) => fileURLToPath(new URL(`../../../migrations/${service}/`, import.meta.url))

// A fresh in-memory SQLite database with the service's migrations applied.
const sqlite = (service: string) =>
  Layer.effectDiscard(migrate(migrations(service))).pipe(
    Layer.provideMerge(SqliteClient.layer({ filename: ":memory:" }))
  )

const stores = {
  memory: {
    catalog: CatalogRepositoryMemory.layer,
    inventory: InventoryRepositoryMemory.layer
  },
  sql: {
    catalog: CatalogRepositorySql.layer.pipe(
      Layer.provide(SqlBatch.layerTransaction),
      Layer.provide(sqlite("catalog"))
    ),
    inventory: InventoryRepositorySql.layer.pipe(Layer.provide(sqlite("inventory")))
  }
}

const usd = Currency.make("USD")

const record = (n: number, variants: ReadonlyArray<string>): ProductRecord => ({
  productId: ProductId.make(`prd_${n}`),
  sku: `RECON-${n}`,
  title: `Product ${n}`,
  description: "",
  category: "recon",
  images: [],
  uploadedImages: [],
  variants: variants.map((id, i) => ({
    variantId: VariantId.make(id),
    sku: `RECON-${n}-${i}`,
    title: "Default",
    price: { amount: 100, currency: usd },
    attributes: {},
    weightGrams: 0
  })),
  createdAt: 1,
  updatedAt: 1,
  revision: `rev_${n}`
})

const v = (id: string) => VariantId.make(id)

for (const kind of ["memory", "sql"] as const) {
  describe(`Reconciliation reads (${kind})`, () => {
    it.effect("the catalog pages its variant ids in id order and says which ids it has", () =>
      Effect.gen(function* () {
        const repo = yield* CatalogRepository
        yield* repo.insert(record(1, ["var_c", "var_a"]))
        yield* repo.insert(record(2, ["var_e", "var_b", "var_d"]))
        assert.deepStrictEqual(yield* repo.variantIds(undefined, 2), [v("var_a"), v("var_b")])
        assert.deepStrictEqual(yield* repo.variantIds(v("var_b"), 2), [v("var_c"), v("var_d")])
        assert.deepStrictEqual(yield* repo.variantIds(v("var_d"), 2), [v("var_e")])
        assert.deepStrictEqual(yield* repo.variantIds(v("var_e"), 2), [])
        const found = yield* repo.existingVariants([v("var_x"), v("var_d"), v("var_a")])
        assert.deepStrictEqual([...found].sort(), [v("var_a"), v("var_d")])
        yield* repo.remove(ProductId.make("prd_1"))
        assert.deepStrictEqual(yield* repo.variantIds(undefined, 10), [v("var_b"), v("var_d"), v("var_e")])
        assert.deepStrictEqual(yield* repo.existingVariants([v("var_a")]), [])
      }).pipe(Effect.provide(stores[kind].catalog))
    )

    it.effect("inventory pages its rows in id order with the time of their last write", () =>
      Effect.gen(function* () {
        const repo = yield* InventoryRepository
        yield* repo.insertMany(
          [
            { variantId: v("var_c"), stock: 1 },
            { variantId: v("var_a"), stock: 1 },
            { variantId: v("var_b"), stock: 1 }
          ],
          5
        )
        // An existing row is left alone, its time too.
        yield* repo.insertMany([{ variantId: v("var_a"), stock: 9 }], 6)
        yield* repo.setStock(v("var_b"), 4, 8)
        yield* repo.adjustStock(v("var_c"), 1, 9)
        assert.deepStrictEqual(yield* repo.scan(undefined, 2), [
          { variantId: v("var_a"), updatedAt: 5 },
          { variantId: v("var_b"), updatedAt: 8 }
        ])
        assert.deepStrictEqual(yield* repo.scan(v("var_b"), 2), [{ variantId: v("var_c"), updatedAt: 9 }])
        yield* repo.deleteMany([v("var_a")])
        assert.deepStrictEqual(
          (yield* repo.scan(undefined, 10)).map((row) => row.variantId),
          [v("var_b"), v("var_c")]
        )
      }).pipe(Effect.provide(stores[kind].inventory))
    )

    it.effect("inventory names the variants that have no stock row", () =>
      Effect.gen(function* () {
        const inventory = yield* Inventory
        yield* inventory.initialize({ levels: [{ variantId: v("var_a"), stock: 2 }] })
        assert.deepStrictEqual(yield* inventory.missing({ variantIds: [v("var_a"), v("var_b"), v("var_b")] }), {
          variantIds: [v("var_b")]
        })
        assert.deepStrictEqual(yield* inventory.missing({ variantIds: [] }), { variantIds: [] })
      }).pipe(Effect.provide(InventoryLive.layer.pipe(Layer.provide(stores[kind].inventory))))
    )
  })
}

describe("Reconciliation on the SQL stores", () => {
  it.effect("creates missing stock rows and removes unclaimed ones past the grace period", () =>
    Effect.gen(function* () {
      const repo = yield* CatalogRepository
      const inventory = yield* Inventory
      const reconciler = yield* CatalogReconciler.CatalogReconciler
      // 150 variants without stock (two pages), one with; 120 unclaimed rows.
      for (let n = 0; n < 75; n++) yield* repo.insert(record(n, [`var_p${n}x0`, `var_p${n}x1`]))
      yield* repo.insert(record(100, ["var_kept"]))
      yield* inventory.initialize({ levels: [{ variantId: v("var_kept"), stock: 4 }] })
      yield* inventory.initialize({
        levels: Array.from({ length: 120 }, (_, n) => ({ variantId: v(`var_orphan${n}`), stock: 1 }))
      })
      assert.deepStrictEqual(yield* reconciler.reconcile(), { stockCreated: 150, stockRemoved: 0 })
      yield* TestClock.adjust("11 minutes")
      assert.deepStrictEqual(yield* reconciler.reconcile(), { stockCreated: 0, stockRemoved: 120 })
      const rows = yield* inventory.stockRows({ limit: 1000 })
      assert.strictEqual(rows.length, 151)
      assert.strictEqual((yield* inventory.get({ variantId: v("var_kept") })).stock, 4)
      assert.strictEqual((yield* inventory.set({ variantId: v("var_p3x1"), stock: 6 })).stock, 6)
    }).pipe(
      Effect.provide(
        CatalogReconciler.layer.pipe(
          Layer.provideMerge(stores.sql.catalog),
          Layer.provideMerge(InventoryLive.layer.pipe(Layer.provide(stores.sql.inventory)))
        )
      )
    )
  )
})
