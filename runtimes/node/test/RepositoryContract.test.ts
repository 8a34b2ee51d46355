// The repositories behind every service come in two kinds: memory (tests,
// the memory runtime) and SQL (node:sqlite here, D1 on Workers). These tests
// hold both to one contract, so the runtimes cannot drift apart.
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Option, Result } from "effect"
import { SqlClient } from "effect/sql"
import { AuthRepository } from "@shop/auth/AuthRepository"
import * as AuthRepositoryMemory from "@shop/auth/AuthRepositoryMemory"
import * as AuthRepositorySql from "@shop/auth/AuthRepositorySql"
import {
  CatalogRepository,
  type ListPosition,
  type ProductListQuery,
  type ProductRecord,
  positionOf
} from "@shop/catalog/CatalogRepository"
import * as CatalogRepositoryMemory from "@shop/catalog/CatalogRepositoryMemory"
import * as CatalogRepositorySql from "@shop/catalog/CatalogRepositorySql"
import { CouponAttempts, CouponDefinitions, CouponRedemptions } from "@shop/coupons/CouponsRepository"
import * as CouponsRepositoryMemory from "@shop/coupons/CouponsRepositoryMemory"
import * as CouponsRepositorySql from "@shop/coupons/CouponsRepositorySql"
import { AddressId, ProductId, SessionId, UserId, VariantId } from "@shop/domain/Ids"
import { ImageId } from "@shop/domain/Images"
import { Currency } from "@shop/domain/Money"
import { HoldId } from "@shop/domain/Inventory"
import { SqlBatch } from "@shop/domain/SqlBatch"
import { FulfillmentRepository } from "@shop/fulfillment/FulfillmentRepository"
import * as FulfillmentRepositoryMemory from "@shop/fulfillment/FulfillmentRepositoryMemory"
import * as FulfillmentRepositorySql from "@shop/fulfillment/FulfillmentRepositorySql"
import { Inventory } from "@shop/inventory/Inventory"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import { InventoryRepository } from "@shop/inventory/InventoryRepository"
import * as InventoryRepositoryCached from "@shop/inventory/InventoryRepositoryCached"
import * as InventoryRepositoryMemory from "@shop/inventory/InventoryRepositoryMemory"
import * as InventoryRepositorySql from "@shop/inventory/InventoryRepositorySql"
import { migrate } from "../src/Migrations.ts"
import * as SqliteClient from "../src/SqliteClient.ts"
import { OrderId } from "@shop/domain/Ids"
import type { Order } from "@shop/domain/Orders"
import { OrdersRepository } from "@shop/orders/OrdersRepository"
import * as OrdersRepositoryMemory from "@shop/orders/OrdersRepositoryMemory"
import * as OrdersRepositorySql from "@shop/orders/OrdersRepositorySql"
import type { StoredResponse } from "@shop/domain/Idempotency"
import { type ClaimAttempt, IdempotencyRepository } from "@shop/idempotency/IdempotencyRepository"
import * as IdempotencyRepositoryMemory from "@shop/idempotency/IdempotencyRepositoryMemory"
import * as IdempotencyRepositorySql from "@shop/idempotency/IdempotencyRepositorySql"
import { CartId } from "@shop/domain/Ids"
import type { Payment, PaymentId } from "@shop/domain/Payments"
import { PaymentsRepository } from "@shop/payments/PaymentsRepository"
import * as PaymentsRepositoryMemory from "@shop/payments/PaymentsRepositoryMemory"
import * as PaymentsRepositorySql from "@shop/payments/PaymentsRepositorySql"

const migrations = (service: string) => fileURLToPath(new URL(`../../../migrations/${service}/`, import.meta.url))

// A fresh in-memory SQLite database with the service's migrations applied.
const sqlite = (service: string) =>
  Layer.effectDiscard(migrate(migrations(service))).pipe(
    Layer.provideMerge(SqliteClient.layer({ filename: ":memory:" }))
  )

const stores = {
  auth: {
    memory: AuthRepositoryMemory.layer,
    sql: AuthRepositorySql.layer.pipe(Layer.provide(sqlite("auth")))
  },
  catalog: {
    memory: CatalogRepositoryMemory.layer,
    sql: CatalogRepositorySql.layer.pipe(Layer.provide(SqlBatch.layerTransaction), Layer.provide(sqlite("catalog")))
  },
  inventory: {
    memory: InventoryRepositoryMemory.layer,
    sql: InventoryRepositorySql.layer.pipe(Layer.provide(sqlite("inventory"))),
    cached: InventoryRepositoryCached.layer.pipe(
      Layer.provide(InventoryRepositorySql.layer.pipe(Layer.provide(sqlite("inventory"))))
    )
  },
  fulfillment: {
    memory: FulfillmentRepositoryMemory.layer,
    sql: FulfillmentRepositorySql.layer.pipe(Layer.provide(sqlite("fulfillment")))
  },
  coupons: {
    memory: CouponsRepositoryMemory.layer,
    sql: CouponsRepositorySql.layer.pipe(Layer.provide(sqlite("coupons")))
  }
}

const usd = Currency.make("USD")
const userId = UserId.make("usr_contract0000000000000")

const productRecord = (n: number, overrides: Partial<ProductRecord> = {}): ProductRecord => ({
  productId: ProductId.make(`prd_contract${String(n).padStart(12, "0")}`),
  sku: `P-${n}`,
  title: `Product ${n}`,
  description: `Description ${n}`,
  category: n % 2 === 0 ? "even" : "odd",
  images: [`https://example.com/${n}.png`],
  uploadedImages: [
    {
      imageId: ImageId.make(`img_contract${n}`),
      key: `${"0".repeat(64)}-img_contract${n}.png`,
      contentType: "image/png",
      size: 100 + n
    }
  ],
  variants: [
    {
      variantId: VariantId.make(`var_contract${String(n).padStart(12, "0")}a`),
      sku: `P-${n}-A`,
      title: "A",
      price: { amount: 100 * n, currency: usd },
      attributes: { size: "S" },
      weightGrams: 10
    },
    {
      variantId: VariantId.make(`var_contract${String(n).padStart(12, "0")}b`),
      sku: `P-${n}-B`,
      title: "B",
      price: { amount: 100 * n + 50, currency: usd },
      attributes: {},
      weightGrams: 20
    }
  ],
  createdAt: 1_000 + n,
  updatedAt: 1_000 + n,
  revision: `rev_${n}`,
  ...overrides
})

for (const kind of ["memory", "sql"] as const) {
  describe(`AuthRepository (${kind})`, () => {
    const provide = Effect.provide(stores.auth[kind])
    const user = { userId, email: "c@example.com", name: "C", role: "user" as const, passwordHash: "h", createdAt: 1 }

    it.effect("refuses a second user with the same email, and promotes exactly once under concurrency", () =>
      Effect.gen(function* () {
        const repo = yield* AuthRepository
        assert.isTrue(yield* repo.insertUser(user))
        assert.isFalse(yield* repo.insertUser({ ...user, userId: UserId.make("usr_contract0000000000001") }))
        const results = yield* Effect.all(
          Array.from({ length: 10 }, () => repo.promote(userId)),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(results.filter(Boolean).length, 1)
        assert.strictEqual(Option.getOrThrow(yield* repo.findUserById(userId)).role, "admin")
      }).pipe(provide)
    )

    it.effect("sessions are found with their user's current role and revoked once", () =>
      Effect.gen(function* () {
        const repo = yield* AuthRepository
        yield* repo.insertUser(user)
        const sessionId = SessionId.make("ses_contract0000000000000")
        yield* repo.insertSession({ sessionId, userId, createdAt: 1, expiresAt: 100 })
        const found = Option.getOrThrow(yield* repo.findSession(sessionId))
        assert.deepStrictEqual(found, {
          sessionId,
          userId,
          email: "c@example.com",
          role: "user",
          expiresAt: 100,
          revokedAt: null
        })
        yield* repo.revokeSession(sessionId, 5)
        yield* repo.revokeSession(sessionId, 9)
        assert.strictEqual(Option.getOrThrow(yield* repo.findSession(sessionId)).revokedAt, 5)
      }).pipe(provide)
    )

    it.effect("addresses: optional fields absent, patched field by field, owned by one user", () =>
      Effect.gen(function* () {
        const repo = yield* AuthRepository
        yield* repo.insertUser(user)
        const addressId = AddressId.make("adr_contract0000000000000")
        const address = { addressId, line1: "1 Main", city: "Town", postalCode: "1", country: "US" }
        yield* repo.insertAddress(userId, address, 1)
        assert.deepStrictEqual(yield* repo.listAddresses(userId), [address])
        const patched = yield* repo.updateAddress(userId, addressId, { city: "City", phone: "+1 555" })
        assert.deepStrictEqual(Option.getOrThrow(patched), { ...address, city: "City", phone: "+1 555" })
        const stranger = UserId.make("usr_contract0000000000009")
        assert.isTrue(Option.isNone(yield* repo.updateAddress(stranger, addressId, { city: "X" })))
        assert.isFalse(yield* repo.deleteAddress(stranger, addressId))
        assert.isTrue(yield* repo.deleteAddress(userId, addressId))
        assert.deepStrictEqual(yield* repo.listAddresses(userId), [])
      }).pipe(provide)
    )

    it.effect("login attempts: counted atomically, window restarts, released never below zero", () =>
      Effect.gen(function* () {
        const repo = yield* AuthRepository
        const counts = yield* Effect.all(
          Array.from({ length: 8 }, () => repo.recordAttempt("k", 1_000, 100)),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(
          counts.map((c) => c.count).sort((a, b) => a - b),
          [1, 2, 3, 4, 5, 6, 7, 8]
        )
        assert.deepStrictEqual(yield* repo.recordAttempt("k", 1_050, 100), { count: 9, windowStart: 1_000 })
        assert.deepStrictEqual(yield* repo.recordAttempt("k", 1_100, 100), { count: 1, windowStart: 1_100 })
        yield* repo.releaseAttempt("k")
        yield* repo.releaseAttempt("k")
        assert.strictEqual((yield* repo.recordAttempt("k", 1_110, 100)).count, 1)
      }).pipe(provide)
    )
  })

  describe(`CatalogRepository (${kind})`, () => {
    const provide = Effect.provide(stores.catalog[kind])

    it.effect("stores and reads back a product exactly", () =>
      Effect.gen(function* () {
        const repo = yield* CatalogRepository
        const record = productRecord(1)
        yield* repo.insert(record)
        assert.deepStrictEqual(Option.getOrThrow(yield* repo.find(record.productId)), record)
        assert.deepStrictEqual(yield* repo.findMany([record.productId, ProductId.make("prd_nothere000000000000")]), [
          record
        ])
      }).pipe(provide)
    )

    it.effect("a SKU taken by another product refuses the whole write", () =>
      Effect.gen(function* () {
        const repo = yield* CatalogRepository
        yield* repo.insert(productRecord(1))
        const byProductSku = yield* Effect.flip(repo.insert(productRecord(2, { sku: "P-1" })))
        assert.strictEqual(byProductSku.sku, "P-1")
        const second = productRecord(2)
        const byVariantSku = yield* Effect.flip(
          repo.insert({ ...second, variants: [second.variants[0]!, { ...second.variants[1]!, sku: "P-1-A" }] })
        )
        assert.strictEqual(byVariantSku.sku, "P-1-A")
        assert.isTrue(Option.isNone(yield* repo.find(second.productId)))
        assert.strictEqual((yield* repo.list({ limit: 10, offset: 0, sort: "newest" })).total, 1)
      }).pipe(provide)
    )

    it.effect("replace applies only over the expected revision, and lets variants trade SKUs", () =>
      Effect.gen(function* () {
        const repo = yield* CatalogRepository
        const record = productRecord(1)
        yield* repo.insert(record)
        const [a, b] = record.variants
        const swapped = {
          ...record,
          revision: "rev_2",
          variants: [
            { ...a!, sku: b!.sku },
            { ...b!, sku: a!.sku }
          ]
        }
        assert.strictEqual(yield* repo.replace(swapped, "rev_stale"), "conflict")
        assert.deepStrictEqual(Option.getOrThrow(yield* repo.find(record.productId)), record)
        assert.strictEqual(yield* repo.replace(swapped, "rev_1"), "replaced")
        assert.deepStrictEqual(Option.getOrThrow(yield* repo.find(record.productId)), swapped)
        assert.strictEqual(yield* repo.replace(productRecord(9), "rev_9"), "missing")
      }).pipe(provide)
    )

    it.effect("lists, filters, sorts and pages identically", () =>
      Effect.gen(function* () {
        const repo = yield* CatalogRepository
        for (let n = 1; n <= 7; n++) yield* repo.insert(productRecord(n, n === 3 ? { title: "Ünïcode 3" } : {}))
        const page = (query: Partial<ProductListQuery>) =>
          repo
            .list({ limit: 20, offset: 0, sort: "newest", ...query })
            .pipe(Effect.map(({ items, total }) => ({ ids: items.map((p) => p.sku), total })))
        assert.deepStrictEqual(yield* page({}), { ids: ["P-7", "P-6", "P-5", "P-4", "P-3", "P-2", "P-1"], total: 7 })
        assert.deepStrictEqual((yield* page({ sort: "price_desc", limit: 2, offset: 1 })).ids, ["P-6", "P-5"])
        assert.deepStrictEqual(yield* page({ category: "EVEN", sort: "price_asc" }), {
          ids: ["P-2", "P-4", "P-6"],
          total: 3
        })
        assert.deepStrictEqual((yield* page({ minPrice: 250, maxPrice: 500, sort: "price_asc" })).ids, [
          "P-3",
          "P-4",
          "P-5"
        ])
        assert.deepStrictEqual((yield* page({ q: "ÜNÏCODE" })).ids, ["P-3"])
        assert.deepStrictEqual((yield* page({ q: "p-6-b" })).ids, [])
        assert.deepStrictEqual((yield* page({ q: "description 5" })).ids, ["P-5"])
        assert.deepStrictEqual((yield* page({ sort: "title" })).ids, ["P-1", "P-2", "P-4", "P-5", "P-6", "P-7", "P-3"])
        const ids = yield* repo.listIds({ limit: 3, offset: 0, sort: "price_asc" })
        assert.deepStrictEqual(ids.total, 7)
        assert.deepStrictEqual(ids.items, [
          productRecord(1).productId,
          productRecord(2).productId,
          productRecord(3).productId
        ])
      }).pipe(provide)
    )

    it.effect("remove deletes a product and its variants", () =>
      Effect.gen(function* () {
        const repo = yield* CatalogRepository
        yield* repo.insert(productRecord(1))
        assert.isTrue(yield* repo.remove(productRecord(1).productId))
        assert.isFalse(yield* repo.remove(productRecord(1).productId))
        // Its SKUs are free again.
        yield* repo.insert({ ...productRecord(2), variants: productRecord(1).variants })
      }).pipe(provide)
    )
  })

  // The node runtime runs the SQL store behind its stock cache: held to the same contract.
  const inventoryStores: ReadonlyArray<readonly [string, Layer.Layer<InventoryRepository, unknown>]> =
    kind === "sql"
      ? [
          ["sql", stores.inventory.sql],
          ["sql behind InventoryRepositoryCached", stores.inventory.cached]
        ]
      : [["memory", stores.inventory.memory]]
  for (const [inventoryKind, inventoryStore] of inventoryStores)
    describe(`InventoryRepository (${inventoryKind})`, () => {
      const provide = Effect.provide(inventoryStore)
      const a = VariantId.make("var_contractinv00000000a")
      const b = VariantId.make("var_contractinv00000000b")

      it.effect("initialises once, sets and adjusts within reserved and the maximum", () =>
        Effect.gen(function* () {
          const repo = yield* InventoryRepository
          yield* repo.insertMany([{ variantId: a, stock: 5 }], 1)
          yield* repo.insertMany(
            [
              { variantId: a, stock: 99 },
              { variantId: b, stock: 2 }
            ],
            1
          )
          assert.deepStrictEqual(yield* repo.findMany([a, b]), [
            { variantId: a, stock: 5, reserved: 0 },
            { variantId: b, stock: 2, reserved: 0 }
          ])
          assert.strictEqual(Option.getOrThrow(yield* repo.adjustStock(a, -5, 2)).stock, 0)
          assert.isTrue(Option.isNone(yield* repo.adjustStock(a, -1, 2)))
          assert.isTrue(Option.isNone(yield* repo.adjustStock(a, 1_000_000_001, 2)))
          assert.isTrue(Option.isNone(yield* repo.setStock(VariantId.make("var_contractinvmissing0"), 1, 2)))
          assert.strictEqual(Option.getOrThrow(yield* repo.setStock(b, 7, 2)).stock, 7)
          yield* repo.deleteMany([a])
          assert.deepStrictEqual(yield* repo.findMany([a, b]), [{ variantId: b, stock: 7, reserved: 0 }])
        }).pipe(provide)
      )

      it.effect("concurrent decrements never take stock below zero", () =>
        Effect.gen(function* () {
          const repo = yield* InventoryRepository
          yield* repo.insertMany([{ variantId: a, stock: 10 }], 1)
          const results = yield* Effect.all(
            Array.from({ length: 25 }, () => repo.adjustStock(a, -1, 2)),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(results.filter(Option.isSome).length, 10)
          assert.strictEqual(Option.getOrThrow(yield* repo.find(a)).stock, 0)
        }).pipe(provide)
      )

      const holdId = (n: number) => HoldId.make(`res_contract${String(n).padStart(6, "0")}`)
      const place = (n: number, lines: ReadonlyArray<{ variantId: VariantId; quantity: number }>, expiresAt = 100) =>
        Effect.flatMap(Effect.service(InventoryRepository), (repo) =>
          repo.reserve({ holdId: holdId(n), lines, createdAt: 1, expiresAt })
        )
      const levels = Effect.flatMap(Effect.service(InventoryRepository), (repo) => repo.findMany([a, b]))
      const won = <E, R>(settled: Effect.Effect<{ readonly won: boolean }, E, R>) =>
        Effect.map(settled, (result) => result.won)

      it.effect("settle and restock answer the hold as they left it, whoever won, lines in order", () =>
        Effect.gen(function* () {
          const repo = yield* InventoryRepository
          yield* repo.insertMany(
            [
              { variantId: a, stock: 5 },
              { variantId: b, stock: 5 }
            ],
            1
          )
          const lines = [
            { variantId: b, quantity: 1 },
            { variantId: a, quantity: 2 }
          ]
          yield* place(1, lines)
          const held = { holdId: holdId(1), lines, createdAt: 1, expiresAt: 100 }
          const committed = { ...held, status: "committed" as const, settledAt: 50 }
          assert.deepStrictEqual(yield* repo.settle(holdId(1), "committed", 50), {
            won: true,
            hold: Option.some(committed)
          })
          // The loser reads the winner's settlement.
          assert.deepStrictEqual(yield* repo.settle(holdId(1), "released", 51), {
            won: false,
            hold: Option.some(committed)
          })
          assert.deepStrictEqual(yield* repo.restock(holdId(1), 60), {
            won: true,
            hold: Option.some({ ...committed, status: "restocked" as const })
          })
          assert.deepStrictEqual(yield* repo.restock(holdId(1), 61), {
            won: false,
            hold: Option.some({ ...committed, status: "restocked" as const })
          })
          assert.deepStrictEqual(yield* repo.settle(holdId(9), "committed", 50), { won: false, hold: Option.none() })
          assert.deepStrictEqual(yield* repo.restock(holdId(9), 50), { won: false, hold: Option.none() })
        }).pipe(provide)
      )

      it.effect("a hold is placed whole or not at all, once per id", () =>
        Effect.gen(function* () {
          const repo = yield* InventoryRepository
          yield* repo.insertMany(
            [
              { variantId: a, stock: 5 },
              { variantId: b, stock: 1 }
            ],
            1
          )
          const unknown = VariantId.make("var_contractinvmissing0")
          assert.isFalse(
            yield* place(1, [
              { variantId: a, quantity: 2 },
              { variantId: b, quantity: 2 }
            ])
          )
          assert.isFalse(
            yield* place(1, [
              { variantId: a, quantity: 2 },
              { variantId: unknown, quantity: 1 }
            ])
          )
          assert.isTrue(Option.isNone(yield* repo.findHold(holdId(1))))
          assert.deepStrictEqual(yield* levels, [
            { variantId: a, stock: 5, reserved: 0 },
            { variantId: b, stock: 1, reserved: 0 }
          ])

          assert.isTrue(
            yield* place(1, [
              { variantId: b, quantity: 1 },
              { variantId: a, quantity: 2 }
            ])
          )
          assert.deepStrictEqual(Option.getOrThrow(yield* repo.findHold(holdId(1))), {
            holdId: holdId(1),
            status: "active",
            lines: [
              { variantId: b, quantity: 1 },
              { variantId: a, quantity: 2 }
            ],
            createdAt: 1,
            expiresAt: 100,
            settledAt: null
          })
          // The id is taken: nothing more is held, whatever the lines.
          assert.isFalse(yield* place(1, [{ variantId: a, quantity: 1 }]))
          assert.deepStrictEqual(yield* levels, [
            { variantId: a, stock: 5, reserved: 2 },
            { variantId: b, stock: 1, reserved: 1 }
          ])
          // Stock cannot be set below what is held.
          assert.isTrue(Option.isNone(yield* repo.setStock(a, 1, 2)))
        }).pipe(provide)
      )

      it.effect("a hold of 100 lines (past D1's parameter bound per statement) is one group, in order", () =>
        Effect.gen(function* () {
          const repo = yield* InventoryRepository
          const variants = Array.from({ length: 100 }, (_, i) =>
            VariantId.make(`var_contractmany${String(99 - i).padStart(8, "0")}`)
          )
          yield* repo.insertMany(
            variants.map((variantId, i) => ({ variantId, stock: i === 99 ? 1 : 5 })),
            1
          )
          const lines = variants.map((variantId) => ({ variantId, quantity: 2 }))
          // The last line is short: nothing of the 99 others is held.
          assert.isFalse(yield* place(1, lines))
          assert.isTrue((yield* repo.findMany(variants)).every((row) => row.reserved === 0))
          const fitting = lines.map((line, i) => (i === 99 ? { ...line, quantity: 1 } : line))
          assert.isTrue(yield* place(1, fitting))
          assert.deepStrictEqual(Option.getOrThrow(yield* repo.findHold(holdId(1))).lines, fitting)
          assert.isTrue((yield* repo.findMany(variants)).every((row) => row.reserved === (row.stock === 1 ? 1 : 2)))
        }).pipe(provide)
      )

      it.effect("12 concurrent holds of 1 for 3 in stock: exactly 3 are placed", () =>
        Effect.gen(function* () {
          const repo = yield* InventoryRepository
          yield* repo.insertMany([{ variantId: a, stock: 3 }], 1)
          const placed = yield* Effect.all(
            Array.from({ length: 12 }, (_, n) => place(n, [{ variantId: a, quantity: 1 }])),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(placed.filter(Boolean).length, 3)
          assert.deepStrictEqual(Option.getOrThrow(yield* repo.find(a)), { variantId: a, stock: 3, reserved: 3 })
        }).pipe(provide)
      )

      it.effect("a hold leaves active once, on the right side of its expiry, moving its stock", () =>
        Effect.gen(function* () {
          const repo = yield* InventoryRepository
          yield* repo.insertMany(
            [
              { variantId: a, stock: 10 },
              { variantId: b, stock: 10 }
            ],
            1
          )
          const lines = [
            { variantId: a, quantity: 3 },
            { variantId: b, quantity: 1 }
          ]
          yield* place(1, lines)
          yield* place(2, lines)
          yield* place(3, lines)
          // Not due yet; committing or releasing at or past the expiry is refused.
          assert.isFalse(yield* won(repo.settle(holdId(1), "expired", 99)))
          assert.isFalse(yield* won(repo.settle(holdId(1), "committed", 100)))
          assert.isFalse(yield* won(repo.settle(holdId(1), "released", 100)))
          assert.isFalse(yield* won(repo.settle(holdId(9), "committed", 50)))

          assert.isTrue(yield* won(repo.settle(holdId(1), "committed", 50)))
          assert.isFalse(yield* won(repo.settle(holdId(1), "committed", 51)))
          assert.isFalse(yield* won(repo.settle(holdId(1), "released", 51)))
          assert.isFalse(yield* won(repo.settle(holdId(1), "expired", 200)))
          assert.isTrue(yield* won(repo.settle(holdId(2), "released", 60)))
          assert.isFalse(yield* won(repo.settle(holdId(2), "committed", 61)))
          assert.isTrue(yield* won(repo.settle(holdId(3), "expired", 100)))
          assert.isFalse(yield* won(repo.settle(holdId(3), "released", 99)))

          const settled = yield* Effect.forEach([1, 2, 3], (n) => repo.findHold(holdId(n)))
          assert.deepStrictEqual(
            settled.map((hold) => {
              const { status, settledAt } = Option.getOrThrow(hold)
              return { status, settledAt }
            }),
            [
              { status: "committed", settledAt: 50 },
              { status: "released", settledAt: 60 },
              { status: "expired", settledAt: 100 }
            ]
          )
          assert.deepStrictEqual(yield* levels, [
            { variantId: a, stock: 7, reserved: 0 },
            { variantId: b, stock: 9, reserved: 0 }
          ])
        }).pipe(provide)
      )

      it.effect("expiry takes the due holds, oldest first, in groups of the limit", () =>
        Effect.gen(function* () {
          const repo = yield* InventoryRepository
          yield* repo.insertMany([{ variantId: a, stock: 100 }], 1)
          for (const [n, expiresAt] of [
            [1, 30],
            [2, 10],
            [3, 20],
            [4, 40],
            [5, 1_000]
          ] as const) {
            yield* place(n, [{ variantId: a, quantity: n }], expiresAt)
          }
          assert.strictEqual(yield* repo.expireDue(40, 2), 2)
          const status = (n: number) => Effect.map(repo.findHold(holdId(n)), (hold) => Option.getOrThrow(hold).status)
          assert.deepStrictEqual(yield* Effect.forEach([1, 2, 3, 4, 5], status), [
            "active",
            "expired",
            "expired",
            "active",
            "active"
          ])
          assert.strictEqual(Option.getOrThrow(yield* repo.find(a)).reserved, 1 + 4 + 5)
          assert.strictEqual(yield* repo.expireDue(40, 2), 2)
          assert.strictEqual(yield* repo.expireDue(40, 2), 0)
          assert.deepStrictEqual(Option.getOrThrow(yield* repo.find(a)), { variantId: a, stock: 100, reserved: 5 })
        }).pipe(provide)
      )

      it.effect("commit, release and expiry racing for one hold: one wins, reserved never leaks", () =>
        Effect.gen(function* () {
          const repo = yield* InventoryRepository
          const initial = 10_000
          yield* repo.insertMany(
            [
              { variantId: a, stock: initial },
              { variantId: b, stock: initial }
            ],
            1
          )
          let sold = 0
          for (let n = 0; n < 60; n++) {
            const quantity = 1 + (n % 3)
            yield* place(n, [
              { variantId: a, quantity },
              { variantId: b, quantity: 1 }
            ])
            // Commit and release still in time, the sweep and a touch already
            // past it: all four are entitled, so only the store decides.
            const contenders = [
              Effect.map(repo.settle(holdId(n), "committed", 99), ({ won }) => Number(won)),
              Effect.map(repo.settle(holdId(n), "released", 99), ({ won }) => Number(won)),
              repo.expireDue(100, 10),
              Effect.map(repo.settle(holdId(n), "expired", 101), ({ won }) => Number(won))
            ]
            const shift = n % contenders.length
            const wins = yield* Effect.all([...contenders.slice(shift), ...contenders.slice(0, shift)], {
              concurrency: "unbounded"
            })
            assert.strictEqual(
              wins.reduce((x, y) => x + y, 0),
              1
            )
            const hold = Option.getOrThrow(yield* repo.findHold(holdId(n)))
            if (hold.status === "committed") sold += quantity
            const [levelA, levelB] = yield* levels
            assert.deepStrictEqual(levelA, { variantId: a, stock: initial - sold, reserved: 0 })
            assert.strictEqual(levelB?.reserved, 0)
          }
        }).pipe(provide)
      )

      it.effect("a variant removed while held: its hold still settles, the other lines move", () =>
        Effect.gen(function* () {
          const repo = yield* InventoryRepository
          yield* repo.insertMany(
            [
              { variantId: a, stock: 5 },
              { variantId: b, stock: 5 }
            ],
            1
          )
          yield* place(1, [
            { variantId: a, quantity: 2 },
            { variantId: b, quantity: 2 }
          ])
          yield* repo.deleteMany([a])
          assert.isTrue(yield* won(repo.settle(holdId(1), "committed", 50)))
          assert.deepStrictEqual(yield* levels, [{ variantId: b, stock: 3, reserved: 0 }])
        }).pipe(provide)
      )

      it.effect("restock: only a committed hold, once, its lines back into stock", () =>
        Effect.gen(function* () {
          const repo = yield* InventoryRepository
          yield* repo.insertMany(
            [
              { variantId: a, stock: 10 },
              { variantId: b, stock: 10 }
            ],
            1
          )
          const lines = [
            { variantId: a, quantity: 2 },
            { variantId: b, quantity: 1 }
          ]
          yield* place(1, lines)
          yield* place(2, lines)
          yield* place(3, lines)
          assert.isTrue(yield* place(4, lines))
          assert.isTrue(yield* won(repo.settle(holdId(1), "committed", 50)))
          assert.isTrue(yield* won(repo.settle(holdId(2), "released", 50)))
          assert.isTrue(yield* won(repo.settle(holdId(3), "expired", 100)))
          assert.deepStrictEqual(yield* levels, [
            { variantId: a, stock: 8, reserved: 2 },
            { variantId: b, stock: 9, reserved: 1 }
          ])
          // Active (4), released, expired, unknown: nothing moves.
          for (const n of [2, 3, 4, 9]) assert.isFalse(yield* won(repo.restock(holdId(n), 60)))
          assert.deepStrictEqual(yield* levels, [
            { variantId: a, stock: 8, reserved: 2 },
            { variantId: b, stock: 9, reserved: 1 }
          ])
          const wins = yield* Effect.all(
            Array.from({ length: 20 }, () => repo.restock(holdId(1), 60)),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(wins.filter((result) => result.won).length, 1)
          assert.isFalse(yield* won(repo.restock(holdId(1), 61)))
          const restocked = Option.getOrThrow(yield* repo.findHold(holdId(1)))
          assert.deepStrictEqual(
            { status: restocked.status, settledAt: restocked.settledAt, lines: restocked.lines },
            { status: "restocked", settledAt: 50, lines }
          )
          assert.deepStrictEqual(yield* levels, [
            { variantId: a, stock: 10, reserved: 2 },
            { variantId: b, stock: 10, reserved: 1 }
          ])
          // A restocked hold is settled for good: no commit, release or expiry moves it again.
          assert.isFalse(yield* won(repo.settle(holdId(1), "committed", 70)))
          assert.isFalse(yield* won(repo.settle(holdId(1), "released", 70)))
          assert.isFalse(yield* won(repo.settle(holdId(1), "expired", 200)))
          assert.strictEqual(yield* repo.expireDue(200, 10), 1)
          assert.strictEqual(Option.getOrThrow(yield* repo.findHold(holdId(1))).status, "restocked")
          assert.deepStrictEqual(yield* levels, [
            { variantId: a, stock: 10, reserved: 0 },
            { variantId: b, stock: 10, reserved: 0 }
          ])
        }).pipe(provide)
      )

      it.effect("restock of a committed hold whose variant was removed: the hold moves, the other lines go back", () =>
        Effect.gen(function* () {
          const repo = yield* InventoryRepository
          yield* repo.insertMany(
            [
              { variantId: a, stock: 5 },
              { variantId: b, stock: 5 }
            ],
            1
          )
          yield* place(1, [
            { variantId: a, quantity: 2 },
            { variantId: b, quantity: 2 }
          ])
          assert.isTrue(yield* won(repo.settle(holdId(1), "committed", 50)))
          yield* repo.deleteMany([a])
          assert.isTrue(yield* won(repo.restock(holdId(1), 60)))
          assert.deepStrictEqual(yield* levels, [{ variantId: b, stock: 5, reserved: 0 }])
          assert.strictEqual(Option.getOrThrow(yield* repo.findHold(holdId(1))).status, "restocked")
        }).pipe(provide)
      )

      it.effect("through the service: 12 concurrent reserves of 1 for 3, each refusal says why", () =>
        Effect.gen(function* () {
          const inventory = yield* Inventory
          yield* inventory.initialize({ levels: [{ variantId: a, stock: 3 }] })
          const results = yield* Effect.all(
            Array.from({ length: 12 }, (_, n) =>
              Effect.result(inventory.reserve({ holdId: holdId(n % 6), lines: [{ variantId: a, quantity: 1 }] }))
            ),
            { concurrency: "unbounded" }
          )
          // Six ids, each asked twice: the three placed answer both askers.
          const placed = results.filter(Result.isSuccess).map((result) => result.success.holdId)
          assert.strictEqual(new Set(placed).size, 3)
          assert.strictEqual(placed.length, 6)
          for (const result of results.filter(Result.isFailure)) {
            assert.deepStrictEqual(result.failure._tag === "InsufficientStock" && result.failure.details, {
              variantId: a,
              available: 0,
              requested: 1
            })
          }
          assert.deepStrictEqual(yield* inventory.get({ variantId: a }), {
            variantId: a,
            stock: 3,
            reserved: 3,
            available: 0
          })
        }).pipe(Effect.provide(InventoryLive.layer.pipe(Layer.provide(inventoryStore))))
      )
    })

  describe(`FulfillmentRepository (${kind})`, () => {
    const provide = Effect.provide(stores.fulfillment[kind])

    it.effect("upserts tax rates, lists them by code, finds the ones asked for", () =>
      Effect.gen(function* () {
        const repo = yield* FulfillmentRepository
        assert.deepStrictEqual(yield* repo.listTaxRates(), [])
        const us = { country: "US", rate: 500, shippingTaxable: false }
        assert.deepStrictEqual(yield* repo.upsertTaxRate(us, 1), us)
        yield* repo.upsertTaxRate({ country: "US-CA", rate: 825, shippingTaxable: true }, 1)
        yield* repo.upsertTaxRate({ country: "DE", rate: 1900, shippingTaxable: true }, 1)
        const replaced = { country: "US", rate: 0, shippingTaxable: true }
        assert.deepStrictEqual(yield* repo.upsertTaxRate(replaced, 2), replaced)
        assert.deepStrictEqual(yield* repo.listTaxRates(), [
          { country: "DE", rate: 1900, shippingTaxable: true },
          replaced,
          { country: "US-CA", rate: 825, shippingTaxable: true }
        ])
        const found = yield* repo.findTaxRates(["US-CA", "US", "FR"])
        assert.deepStrictEqual(
          [...found].sort((a, b) => a.country.localeCompare(b.country)),
          [replaced, { country: "US-CA", rate: 825, shippingTaxable: true }]
        )
        assert.deepStrictEqual(yield* repo.findTaxRates([]), [])
      }).pipe(provide)
    )
  })

  describe(`CouponDefinitions, CouponRedemptions and CouponAttempts (${kind})`, () => {
    const provide = Effect.provide(stores.coupons[kind])

    it.effect("inserts without overwriting, finds, lists by code, removes", () =>
      Effect.gen(function* () {
        const repo = yield* CouponDefinitions
        assert.deepStrictEqual(yield* repo.list(), [])
        const full = {
          code: "SAVE10",
          type: "percent" as const,
          value: 10,
          minCart: { amount: 5_000, currency: usd },
          expiresAt: "2026-12-31T23:59:59.000Z",
          usageLimit: 100,
          perCustomerLimit: 1,
          createdAt: "2026-12-01T00:00:00.000Z"
        }
        const bare = { code: "FREE", type: "free_shipping" as const, value: 0, createdAt: "2026-12-01T00:00:00.000Z" }
        assert.isTrue(yield* repo.insert(full))
        assert.isTrue(yield* repo.insert(bare))
        assert.isFalse(yield* repo.insert({ ...bare, type: "fixed", value: 500 }))
        assert.deepStrictEqual(yield* repo.find("SAVE10"), Option.some(full))
        assert.deepStrictEqual(yield* repo.find("FREE"), Option.some(bare))
        assert.deepStrictEqual(yield* repo.find("NOPE"), Option.none())
        assert.deepStrictEqual(yield* repo.list(), [bare, full])
        assert.isTrue(yield* repo.remove("FREE"))
        assert.isFalse(yield* repo.remove("FREE"))
        assert.deepStrictEqual(yield* repo.list(), [full])
      }).pipe(provide)
    )

    it.effect("counts no redemptions for new codes, and forgets", () =>
      Effect.gen(function* () {
        const redemptions = yield* CouponRedemptions
        assert.deepStrictEqual(yield* redemptions.counts([]), new Map())
        assert.deepStrictEqual(yield* redemptions.counts(["SAVE10", "FREE"]), new Map())
        yield* redemptions.forget("SAVE10")
      }).pipe(provide)
    )

    const redemption = (n: number, code: string, userId: string) => ({
      redemptionId: `pay_${n}`,
      code,
      userId,
      redeemedAt: 1_000 + n
    })

    it.effect("redemptions: 20 racing for a usageLimit of 3 record exactly 3, per-customer limits hold", () =>
      Effect.gen(function* () {
        const redemptions = yield* CouponRedemptions
        const recorded = yield* Effect.all(
          Array.from({ length: 20 }, (_, i) =>
            redemptions.record(redemption(i, "THREE", `usr_${i}`), { usageLimit: 3 })
          ),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(recorded.filter(Boolean).length, 3)
        assert.deepStrictEqual(yield* redemptions.counts(["THREE"]), new Map([["THREE", 3]]))
        // Two users racing 10 each for a coupon of one use per customer.
        const each = yield* Effect.all(
          Array.from({ length: 20 }, (_, i) =>
            redemptions.record(redemption(100 + i, "EACH", i % 2 === 0 ? "usr_a" : "usr_b"), { perCustomerLimit: 1 })
          ),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(each.filter(Boolean).length, 2)
        assert.deepStrictEqual(yield* redemptions.usage("EACH", "usr_a"), { total: 2, byUser: 1 })
        assert.deepStrictEqual(yield* redemptions.usage("EACH", "usr_b"), { total: 2, byUser: 1 })
        // Both limits: the stricter one decides.
        const both = { usageLimit: 2, perCustomerLimit: 1 }
        assert.isTrue(yield* redemptions.record(redemption(200, "BOTH", "usr_a"), both))
        assert.isFalse(yield* redemptions.record(redemption(201, "BOTH", "usr_a"), both))
        assert.isTrue(yield* redemptions.record(redemption(202, "BOTH", "usr_b"), both))
        assert.isFalse(yield* redemptions.record(redemption(203, "BOTH", "usr_c"), both))
        // No limits: every use is recorded.
        for (let i = 0; i < 5; i++) assert.isTrue(yield* redemptions.record(redemption(300 + i, "OPEN", "usr_a"), {}))
        assert.deepStrictEqual(
          yield* redemptions.counts(["THREE", "EACH", "BOTH", "OPEN", "NONE"]),
          new Map([
            ["THREE", 3],
            ["EACH", 2],
            ["BOTH", 2],
            ["OPEN", 5]
          ])
        )
      }).pipe(provide)
    )

    it.effect("redemptions: one row per id, however often or concurrently it is recorded", () =>
      Effect.gen(function* () {
        const redemptions = yield* CouponRedemptions
        const first = redemption(1, "SAVE10", "usr_a")
        const recorded = yield* Effect.all(
          Array.from({ length: 10 }, () => redemptions.record(first, {})),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(recorded.filter(Boolean).length, 1)
        // Another code, user or time under the id is refused too: the first row stays.
        assert.isFalse(yield* redemptions.record({ ...first, code: "OTHER", userId: "usr_b", redeemedAt: 9 }, {}))
        assert.deepStrictEqual(yield* redemptions.find("pay_1"), Option.some(first))
        assert.deepStrictEqual(yield* redemptions.find("pay_2"), Option.none())
        assert.deepStrictEqual(yield* redemptions.counts(["SAVE10", "OTHER"]), new Map([["SAVE10", 1]]))
        assert.deepStrictEqual(yield* redemptions.usage("OTHER", "usr_b"), { total: 0, byUser: 0 })
      }).pipe(provide)
    )

    it.effect("redemptions: a release deletes that one row, once; forget drops a code's rows and frees their ids", () =>
      Effect.gen(function* () {
        const redemptions = yield* CouponRedemptions
        const limit = { usageLimit: 1 }
        assert.isTrue(yield* redemptions.record(redemption(1, "ONCE", "usr_a"), limit))
        assert.isFalse(yield* redemptions.record(redemption(2, "ONCE", "usr_b"), limit))
        assert.isTrue(yield* redemptions.release("pay_1"))
        assert.isFalse(yield* redemptions.release("pay_1"))
        assert.isFalse(yield* redemptions.release("pay_none"))
        assert.deepStrictEqual(yield* redemptions.find("pay_1"), Option.none())
        assert.isTrue(yield* redemptions.record(redemption(2, "ONCE", "usr_b"), limit))
        assert.isTrue(yield* redemptions.record(redemption(3, "KEEP", "usr_a"), {}))
        yield* redemptions.forget("ONCE")
        assert.deepStrictEqual(yield* redemptions.find("pay_2"), Option.none())
        assert.deepStrictEqual(yield* redemptions.counts(["ONCE", "KEEP"]), new Map([["KEEP", 1]]))
        assert.isTrue(yield* redemptions.record(redemption(2, "ONCE", "usr_c"), limit))
        assert.deepStrictEqual(yield* redemptions.usage("ONCE", "usr_c"), { total: 1, byUser: 1 })
      }).pipe(provide)
    )

    it.effect("bad-code attempts: counted atomically, window restarts in place, released only in their window", () =>
      Effect.gen(function* () {
        const attempts = yield* CouponAttempts
        const counts = yield* Effect.all(
          Array.from({ length: 20 }, () => attempts.record("cart:a", 1_000, 100)),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(
          counts.map((c) => c.count).sort((a, b) => a - b),
          Array.from({ length: 20 }, (_, i) => i + 1)
        )
        assert.deepStrictEqual(yield* attempts.record("cart:a", 1_099, 100), { count: 21, windowStart: 1_000 })
        // At the window's end a new one starts, in the same row.
        assert.deepStrictEqual(yield* attempts.record("cart:a", 1_100, 100), { count: 1, windowStart: 1_100 })
        assert.deepStrictEqual(
          yield* attempts.current(["cart:a"], 0),
          new Map([["cart:a", { count: 1, windowStart: 1_100 }]])
        )
        // A release for the ended window changes nothing; one for this window gives one back, never below zero.
        yield* attempts.release("cart:a", 1_000)
        assert.strictEqual((yield* attempts.current(["cart:a"], 0)).get("cart:a")?.count, 1)
        yield* attempts.release("cart:a", 1_100)
        yield* attempts.release("cart:a", 1_100)
        assert.strictEqual((yield* attempts.current(["cart:a"], 0)).get("cart:a")?.count, 0)
        // Counted back to zero: the next bad code starts the window afresh.
        assert.deepStrictEqual(yield* attempts.record("cart:a", 1_150, 100), { count: 1, windowStart: 1_150 })
      }).pipe(provide)
    )

    it.effect("bad-code attempts: current windows only, for many keys; pruned by window start", () =>
      Effect.gen(function* () {
        const attempts = yield* CouponAttempts
        yield* attempts.record("cart:old", 1_000, 100)
        yield* attempts.record("client:new", 1_050, 100)
        yield* attempts.record("client:new", 1_060, 100)
        const many = Array.from({ length: 150 }, (_, i) => `cart:${i}`)
        assert.deepStrictEqual(
          yield* attempts.current(["cart:old", "client:new", "cart:none", ...many], 1_000),
          new Map([["client:new", { count: 2, windowStart: 1_050 }]])
        )
        assert.strictEqual((yield* attempts.current(["cart:old", "client:new"], 999)).size, 2)
        assert.deepStrictEqual(yield* attempts.current([], 0), new Map())
        yield* attempts.prune(1_000)
        assert.deepStrictEqual(
          yield* attempts.current(["cart:old", "client:new"], 0),
          new Map([["client:new", { count: 2, windowStart: 1_050 }]])
        )
        yield* attempts.prune(1_050)
        assert.deepStrictEqual(yield* attempts.current(["cart:old", "client:new"], 0), new Map())
      }).pipe(provide)
    )
  })
}

// The list is where the two catalog stores work most differently (a scan in
// memory; indexes, a trigram index and bucket counts in SQL), so beside the
// shared examples above, both answer the same battery of queries, before and
// after writes, and must agree on every item, total and `more`.
describe("CatalogRepository: memory and sql list alike", () => {
  const titles = [
    "Blue mug",
    "blue MUG",
    "Café crème",
    "CAFÉ Noir",
    "Straße map",
    "İstanbul print",
    "Emoji 😀 tee",
    "日本の茶碗",
    "Zebra socks",
    "a",
    "Ab",
    'Cable 10% off_ "x"'
  ]
  // Prices with ties, at bucket edges and far up the levels.
  const prices = [0, 1, 15, 16, 17, 255, 256, 4095, 4096, 99, 99, 1_000_000, 2 ** 33, 10_000_000_000]
  const record = (n: number): ProductRecord => {
    const base = productRecord(n)
    return {
      ...base,
      title: titles[n % titles.length]!,
      description: n % 3 === 0 ? `Hand made, batch ${n}` : `Item number ${n}`,
      category: ["Kitchen", "kitchen", "Prints", "Wear", "ÉTÉ"][n % 5]!,
      variants: base.variants.map((v, i) => ({
        ...v,
        price: { ...v.price, amount: prices[(n + i * 3) % prices.length]! }
      })),
      createdAt: 1_000 + Math.floor(n / 3)
    }
  }
  const queries: Array<Partial<ProductListQuery>> = []
  let seed = 7
  const random = (below: number) => {
    seed = (seed * 48271) % 2147483647
    return seed % below
  }
  for (const sort of ["newest", "price_asc", "price_desc", "title"] as const) {
    for (const filter of [
      {},
      { category: "KITCHEN" },
      { category: "été" },
      { category: "nowhere" },
      { minPrice: 16, maxPrice: 4096 },
      { minPrice: 2 ** 33 },
      { maxPrice: 0 },
      { minPrice: 100, maxPrice: 50 },
      { category: "prints", minPrice: 1, maxPrice: 1_000_000 },
      { q: "a" },
      { q: "É" },
      { q: "mu" },
      { q: "mu", category: "wear" },
      // Two characters that end a product's text (its SKU, "P-7"), and none.
      { q: "-7" },
      { q: "😀 " },
      { q: "zq" },
      { q: "blue" },
      { q: "CAFÉ" },
      { q: "straße" },
      { q: "😀 t" },
      { q: "日本の" },
      { q: "10%" },
      { q: '"x"' },
      { q: "off_" },
      { q: "p-1" },
      // Common enough that a small page is read from the sort's index.
      { q: "item" },
      { q: "NUMBER 1" },
      { q: "number 1", category: "wear" },
      { q: "batch", minPrice: 16 }
    ]) {
      queries.push({ sort, ...filter })
    }
    for (let i = 0; i < 6; i++) {
      const a = prices[random(prices.length)]! + random(3)
      const b = prices[random(prices.length)]! + random(3)
      queries.push({ sort, minPrice: Math.min(a, b), maxPrice: Math.max(a, b) })
    }
  }

  const build = Effect.fn(function* () {
    const memory = Context.get(yield* Layer.build(stores.catalog.memory), CatalogRepository)
    const sql = Context.get(yield* Layer.build(stores.catalog.sql), CatalogRepository)
    return { memory, sql }
  })

  // Every query by offset pages and by a cursor walk, on both stores.
  const compare = Effect.fn(function* (repos: {
    memory: CatalogRepository["Service"]
    sql: CatalogRepository["Service"]
  }) {
    for (const query of queries) {
      const full = { limit: 100, offset: 0, sort: "newest" as const, ...query }
      const label = JSON.stringify(query)
      const answer = (repo: CatalogRepository["Service"], q: ProductListQuery) =>
        repo.list(q).pipe(Effect.map(({ items, total, more }) => ({ ids: items.map((p) => p.productId), total, more })))
      const expected = yield* answer(repos.memory, full)
      assert.deepStrictEqual(yield* answer(repos.sql, full), expected, label)
      assert.deepStrictEqual(
        yield* answer(repos.sql, { ...full, limit: 4, offset: 3 }),
        yield* answer(repos.memory, { ...full, limit: 4, offset: 3 }),
        label
      )
      const ids = yield* repos.sql.listIds({ ...full, limit: 4, offset: 3 })
      assert.deepStrictEqual(ids.items, expected.ids.slice(3, 7), label)
      for (const repo of [repos.memory, repos.sql]) {
        const walked: Array<string> = []
        let after: ListPosition | undefined
        for (;;) {
          const page = yield* repo.list({ ...full, limit: 3, after })
          walked.push(...page.items.map((p) => p.productId))
          assert.strictEqual(page.total, expected.total, label)
          const last = page.items.at(-1)
          if (!page.more || last === undefined) break
          after = positionOf(full.sort, last)
        }
        assert.deepStrictEqual(walked, expected.ids, label)
      }
    }
  })

  it.effect("on the same products, through inserts, edits and removals", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const repos = yield* build()
        for (let n = 1; n <= 60; n++) {
          yield* repos.memory.insert(record(n))
          yield* repos.sql.insert(record(n))
        }
        yield* compare(repos)
        // Edits move products between categories, prices and texts; the
        // indexes and counts behind the SQL list must follow.
        for (let n = 1; n <= 60; n += 4) {
          const before = record(n)
          const after = {
            ...record(n + 1),
            productId: before.productId,
            sku: before.sku,
            variants: before.variants.map((v, i) => ({ ...v, price: record(n + 7).variants[i]!.price })),
            revision: `rev_${n}_2`
          }
          assert.strictEqual(yield* repos.memory.replace(after, before.revision), "replaced")
          assert.strictEqual(yield* repos.sql.replace(after, before.revision), "replaced")
        }
        for (let n = 3; n <= 60; n += 5) {
          assert.isTrue(yield* repos.memory.remove(record(n).productId))
          assert.isTrue(yield* repos.sql.remove(record(n).productId))
        }
        yield* compare(repos)
      })
    )
  )

  // A deep offset page starts from the bucket counts (price, creation time)
  // instead of stepping over `offset` entries; here from every offset, with
  // times and prices spread over many levels and tied within them, through
  // edits that move products between categories and removals.
  it.effect("every offset page started from the bucket counts is the page of the scan", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const memory = Context.get(yield* Layer.build(stores.catalog.memory), CatalogRepository)
        const sql = Context.get(
          yield* Layer.build(
            CatalogRepositorySql.layerWith({ walkOffsetFrom: 1 }).pipe(
              Layer.provide(SqlBatch.layerTransaction),
              Layer.provide(sqlite("catalog"))
            )
          ),
          CatalogRepository
        )
        const times = [0, 1, 1, 15, 16, 17, 255, 256, 4095, 4096, 65_536, 2 ** 33, 1_764_000_000_000, 2 ** 52 + 5]
        const timed = (n: number): ProductRecord => ({ ...record(n), createdAt: times[(n * 5) % times.length]! })
        for (let n = 1; n <= 45; n++) {
          yield* memory.insert(timed(n))
          yield* sql.insert(timed(n))
        }
        const check = Effect.fn(function* () {
          for (const sort of ["newest", "price_asc", "price_desc", "title"] as const) {
            for (const category of [undefined, "kitchen", "été", "nowhere"]) {
              const full = { limit: 100, offset: 0, sort, category }
              const all = yield* memory.listIds(full)
              for (let offset = 0; offset <= all.total + 1; offset++) {
                const query = { ...full, limit: 4, offset }
                const label = JSON.stringify(query)
                const expected = {
                  ids: all.items.slice(offset, offset + 4),
                  total: all.total,
                  more: offset + 4 < all.total
                }
                const ids = yield* sql.listIds(query)
                assert.deepStrictEqual({ ids: ids.items, total: ids.total, more: ids.more }, expected, label)
                const page = yield* sql.list(query)
                assert.deepStrictEqual(
                  { ids: page.items.map((p) => p.productId), total: page.total, more: page.more },
                  expected,
                  label
                )
              }
            }
          }
        })
        yield* check()
        for (let n = 1; n <= 45; n += 4) {
          const before = timed(n)
          // Another category, price and text; the creation time stays (replace
          // never changes it).
          const after = {
            ...timed(n + 2),
            productId: before.productId,
            sku: before.sku,
            variants: before.variants.map((v, i) => ({ ...v, price: timed(n + 3).variants[i]!.price })),
            createdAt: before.createdAt,
            revision: `rev_${n}_2`
          }
          assert.strictEqual(yield* memory.replace(after, before.revision), "replaced")
          assert.strictEqual(yield* sql.replace(after, before.revision), "replaced")
        }
        for (let n = 2; n <= 45; n += 5) {
          assert.isTrue(yield* memory.remove(timed(n).productId))
          assert.isTrue(yield* sql.remove(timed(n).productId))
        }
        yield* check()
      })
    )
  )

  // A search's `total` comes from the trigram index alone where
  // trigramIndexDecides(q) says it is exact (CatalogRepositorySql.ts has the
  // argument). Property-style: many generated texts and queries over an
  // alphabet with spaces, punctuation, FTS5 syntax, runs of one letter,
  // non-ASCII, astral code points and the code points SQLite reads as U+FFFD;
  // queries cut from the texts (matches) and made up (mostly none).
  describe("the trigram index alone decides a search", () => {
    const alphabet = [
      "a",
      "a",
      "a",
      "b",
      " ",
      " ",
      ".",
      '"',
      "*",
      "-",
      "\n",
      "\t",
      "é",
      "ß",
      "日",
      "😀",
      "\uFFFD",
      "\uFFFF",
      "\u0301"
    ]
    const generator = (start: number) => {
      let state = start
      const next = (below: number) => {
        state = (state * 48271) % 2147483647
        return state % below
      }
      const text = (min: number, max: number) =>
        Array.from({ length: min + next(max - min + 1) }, () => alphabet[next(alphabet.length)]!).join("")
      return { next, text }
    }
    const queriesFor = (texts: ReadonlyArray<string>, count: number, seed: number) => {
      const { next, text } = generator(seed)
      const queries = ["aaa", "aaaa", "aaaaa", '"""', "a a", "\n\n\n", "***", "😀😀😀", "\uFFFD\uFFFDa", "\uFFFFab"]
      for (let i = 0; i < count; i++) {
        const source = Array.from(texts[next(texts.length)]!)
        const length = 3 + next(6)
        if (i % 2 === 0 && source.length >= length) {
          const at = next(source.length - length + 1)
          queries.push(source.slice(at, at + length).join(""))
        } else {
          queries.push(text(3, 6))
        }
      }
      return queries
    }

    it.effect("the index's matches are exactly the texts holding q, for every q it decides", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const { text } = generator(11)
        const texts = Array.from({ length: 400 }, () => text(0, 30))
        for (const [i, t] of texts.entries()) yield* sql`INSERT INTO products_fts (rowid, text) VALUES (${i + 1}, ${t})`
        let decided = 0
        let matched = 0
        for (const q of queriesFor(texts, 1500, 5)) {
          const expected = texts.flatMap((t, i) => (t.includes(q) ? [i + 1] : []))
          const scanned = yield* sql<{
            id: number
          }>`SELECT rowid AS id FROM products_fts WHERE instr(text, ${q}) > 0 ORDER BY rowid`
          assert.deepStrictEqual(
            scanned.map((r) => r.id),
            expected,
            JSON.stringify(q)
          )
          if (!CatalogRepositorySql.trigramIndexDecides(q)) continue
          decided++
          if (expected.length > 0) matched++
          const phrase = `"${q.replaceAll('"', '""')}"`
          const indexed = yield* sql<{
            id: number
          }>`SELECT rowid AS id FROM products_fts WHERE products_fts MATCH ${phrase} ORDER BY rowid`
          assert.deepStrictEqual(
            indexed.map((r) => r.id),
            expected,
            JSON.stringify(q)
          )
        }
        // The generator reaches both sides: many decided queries, many with matches.
        assert.isAbove(decided, 800)
        assert.isAbove(matched, 500)
      }).pipe(Effect.provide(sqlite("catalog")))
    )

    it.effect("why it does not decide a q holding U+FFFD, U+FFFE or U+FFFF", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO products_fts (rowid, text) VALUES (1, ${"x\uFFFFyz"})`
        const [indexed] = yield* sql<{
          n: number
        }>`SELECT count(*) AS n FROM products_fts WHERE products_fts MATCH ${'"x\uFFFDyz"'}`
        const [scanned] = yield* sql<{
          n: number
        }>`SELECT count(*) AS n FROM products_fts WHERE instr(text, ${"x\uFFFDyz"}) > 0`
        // The tokenizer reads U+FFFF as U+FFFD: the index matches, the text does not hold it.
        assert.deepStrictEqual([indexed?.n, scanned?.n], [1, 0])
        for (const q of ["x\uFFFDyz", "\uFFFEab", "ab\uFFFF", "a\u0000b"])
          assert.isFalse(CatalogRepositorySql.trigramIndexDecides(q), JSON.stringify(q))
        assert.isTrue(CatalogRepositorySql.trigramIndexDecides("日本の😀"))
      }).pipe(Effect.provide(sqlite("catalog")))
    )

    it.effect("memory and sql answer the same searches on generated products", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const repos = yield* build()
          const { text } = generator(23)
          const records = Array.from({ length: 80 }, (_, i) => ({
            ...record(i + 1),
            title: `T${text(1, 12)}`,
            description: text(0, 40)
          }))
          for (const r of records) {
            yield* repos.memory.insert(r)
            yield* repos.sql.insert(r)
          }
          const texts = records.map((r) => `${r.title}\n${r.description}`)
          for (const q of queriesFor(texts, 300, 9)) {
            const query = { limit: 100, offset: 0, sort: "newest" as const, q }
            const answer = (repo: CatalogRepository["Service"]) =>
              repo.list(query).pipe(Effect.map(({ items, total }) => ({ ids: items.map((p) => p.productId), total })))
            assert.deepStrictEqual(yield* answer(repos.sql), yield* answer(repos.memory), JSON.stringify(q))
          }
        })
      )
    )
  })

  // A 2-character search reads the index's terms (fts5vocab) that start with
  // it; every indexed text ends with a mark (migration 0006) so that an
  // occurrence at the very end starts a term too.
  describe("a 2-character search from the trigram index", () => {
    const pairsOf = (alphabet: ReadonlyArray<string>) => alphabet.flatMap((a) => alphabet.map((b) => a + b))
    const alphabet = ["a", "b", " ", "\n", '"', "*", "é", "日", "😀", "\uFFFD", "\uFFFF", "-", "1", "7", "p"]

    it.effect("memory and sql answer every pair of characters alike, after inserts, replaces and removes", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const repos = yield* build()
          let state = 31
          const next = (below: number) => {
            state = (state * 48271) % 2147483647
            return state % below
          }
          const text = (max: number) =>
            Array.from({ length: next(max + 1) }, () => alphabet[next(alphabet.length)]!).join("")
          const records = Array.from({ length: 60 }, (_, i) => ({
            ...record(i + 1),
            title: `T${text(8)}`,
            description: text(24)
          }))
          for (const r of records) {
            yield* repos.memory.insert(r)
            yield* repos.sql.insert(r)
          }
          // Products 1 to 29 keep their first text; some end with a pair ("p-7", "p-11").
          for (const r of records.slice(30, 50)) {
            const after = { ...r, description: text(24), revision: `${r.revision}_2` }
            assert.strictEqual(yield* repos.memory.replace(after, r.revision), "replaced")
            assert.strictEqual(yield* repos.sql.replace(after, r.revision), "replaced")
          }
          for (const r of records.slice(50, 55)) {
            assert.isTrue(yield* repos.memory.remove(r.productId))
            assert.isTrue(yield* repos.sql.remove(r.productId))
          }
          let matched = 0
          for (const q of pairsOf(alphabet)) {
            for (const filter of [{}, { category: "wear" }]) {
              const query = { limit: 100, offset: 0, sort: "newest" as const, q, ...filter }
              const answer = (repo: CatalogRepository["Service"]) =>
                repo.list(query).pipe(Effect.map(({ items, total }) => ({ ids: items.map((p) => p.productId), total })))
              const expected = yield* answer(repos.memory)
              if (expected.total > 0) matched++
              assert.deepStrictEqual(yield* answer(repos.sql), expected, JSON.stringify(query))
            }
          }
          assert.isAbove(matched, 150)
        })
      )
    )

    it.effect("the index's terms that start with q find exactly the texts holding q, its last 2 characters too", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const repo = yield* CatalogRepository
        const texts = ["ab", "xab", "abx", "a\nb", "日😀", "😀", "ba", "a"]
        for (const [i, description] of texts.entries())
          yield* repo.insert({ ...record(i + 1), title: "", description, sku: `S${i}` })
        for (const q of [...pairsOf(["a", "b", "x", "\n", "日", "😀"]), "s1", "s7", "7\u0001"]) {
          const holding = yield* sql<{
            id: string
          }>`SELECT product_id AS id FROM products WHERE instr(search_text, ${q}) > 0 ORDER BY product_id`
          const terms = yield* sql<{
            term: string
          }>`SELECT term FROM products_fts_terms WHERE term >= ${q} AND term <= ${`${q}\u{10FFFF}`}`
          const phrase = terms.map((t) => `"${t.term.replaceAll('"', '""')}"`).join(" OR ")
          const indexed =
            phrase === ""
              ? []
              : yield* sql<{ id: string }>`
                  SELECT product AS id FROM products_fts JOIN product_search_docs ON doc = products_fts.rowid
                  WHERE products_fts MATCH ${phrase} ORDER BY product`
          assert.deepStrictEqual(indexed, holding, JSON.stringify(q))
        }
      }).pipe(
        Effect.provide(
          CatalogRepositorySql.layer.pipe(
            Layer.provide(SqlBatch.layerTransaction),
            Layer.provideMerge(sqlite("catalog"))
          )
        )
      )
    )

    it.effect("migration 0006 marks the texts indexed before it", () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "catalog-migrations-"))
        yield* Effect.gen(function* () {
          // Migrations 0001 to 0005 from a copy of the folder, a product, then 0006.
          const source = migrations("catalog")
          const files = readdirSync(source).filter((file) => file.endsWith(".sql"))
          for (const file of files.filter((file) => file < "0006")) copyFileSync(join(source, file), join(dir, file))
          yield* migrate(dir)
          const repo = yield* CatalogRepository
          // Its text ends with its SKU: "...\ns-zq".
          yield* repo.insert({ ...record(1), sku: "S-ZQ" })
          for (const file of files) copyFileSync(join(source, file), join(dir, file))
          yield* migrate(dir)
          const page = yield* repo.list({ limit: 10, offset: 0, sort: "newest", q: "zq" })
          assert.deepStrictEqual(
            page.items.map((p) => p.sku),
            ["S-ZQ"]
          )
          assert.strictEqual(page.total, 1)
        }).pipe(Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true }))))
      }).pipe(
        Effect.provide(
          CatalogRepositorySql.layer.pipe(
            Layer.provide(SqlBatch.layerTransaction),
            Layer.provideMerge(SqliteClient.layer({ filename: ":memory:" }))
          )
        )
      )
    )
  })

  it.effect("the bucket decomposition covers every price of a range exactly once", () =>
    Effect.sync(() => {
      const cases: Array<readonly [number, number]> = [
        [0, 0],
        [0, 15],
        [1, 16],
        [15, 17],
        [16, 255],
        [17, 4097],
        [123, 98_765],
        [0, Number.MAX_SAFE_INTEGER],
        [2 ** 40 - 3, 2 ** 40 + 300]
      ]
      for (const [min, max] of cases) {
        const buckets = CatalogRepositorySql.priceBuckets(min, max)
        // Each bucket [level, lo, hi] covers prices lo*16^level .. (hi+1)*16^level - 1;
        // laid end to end in order they must tile [min, max] without gap or overlap.
        const spans = buckets
          .map(([level, lo, hi]) => [lo * 16 ** level, (hi + 1) * 16 ** level - 1] as const)
          .sort((x, y) => x[0] - y[0])
        assert.strictEqual(spans[0]![0], min)
        assert.strictEqual(spans.at(-1)![1], max)
        for (let i = 1; i < spans.length; i++) assert.strictEqual(spans[i]![0], spans[i - 1]![1] + 1)
        assert.isAtMost(buckets.length, 28)
      }
      assert.deepStrictEqual(CatalogRepositorySql.priceBuckets(5, 4), [])
    })
  )
})

describe("InventoryRepository (sql) beside another SQL store", () => {
  // Layers are memoized by identity across one build: the node runtime gives
  // the catalog `SqlBatch.layerTransaction` over catalog.sqlite, and if the
  // inventory store shared that instance its groups would run in the
  // catalog's transactions, that is, not atomically at all.
  it.effect("a refused reserve still writes nothing when the catalog's batch was built first", () =>
    Effect.gen(function* () {
      const repo = yield* InventoryRepository
      const variantId = VariantId.make("var_contractinvbeside0a")
      yield* repo.insertMany([{ variantId, stock: 1 }], 1)
      const holdId = HoldId.make("res_contractbeside")
      assert.isFalse(yield* repo.reserve({ holdId, lines: [{ variantId, quantity: 2 }], createdAt: 1, expiresAt: 9 }))
      assert.isTrue(Option.isNone(yield* repo.findHold(holdId)))
      assert.deepStrictEqual(yield* repo.findMany([variantId]), [{ variantId, stock: 1, reserved: 0 }])
    }).pipe(
      Effect.provide(
        InventoryRepositorySql.layer.pipe(
          Layer.provide(sqlite("inventory")),
          Layer.provideMerge(
            CatalogRepositorySql.layer.pipe(Layer.provide(SqlBatch.layerTransaction), Layer.provide(sqlite("catalog")))
          )
        )
      )
    )
  )
})

describe("CouponRedemptions (sql)", () => {
  const provide = Effect.provide(CouponsRepositorySql.layerRedemptions.pipe(Layer.provideMerge(sqlite("coupons"))))

  it.effect("counts redemptions per code, over D1's parameter bound, and forgets a code's", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`INSERT INTO redemptions (redemption_id, code, user_id, redeemed_at) VALUES
        ('o1', 'A', 'c1', 1), ('o2', 'A', 'c2', 1), ('o3', 'B', 'c1', 1)`
      const redemptions = yield* CouponRedemptions
      const many = Array.from({ length: 150 }, (_, i) => `C${i}`)
      assert.deepStrictEqual(
        yield* redemptions.counts(["A", "B", "Z", ...many]),
        new Map([
          ["A", 2],
          ["B", 1]
        ])
      )
      yield* redemptions.forget("A")
      assert.deepStrictEqual(yield* redemptions.counts(["A", "B"]), new Map([["B", 1]]))
    }).pipe(provide)
  )

  // Why `record` is one statement: the same check made by a SELECT and then
  // an INSERT lets every racer through once anything runs between the two
  // (here a yield, as a D1 round trip or any await would), while the
  // statement holds under the same interleaving.
  it.effect(
    "the limit checked by a separate read lets 20 racers through a usageLimit of 3; the one statement does not",
    () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const redemptions = yield* CouponRedemptions
        const readThenWrite = (n: number) =>
          Effect.gen(function* () {
            const [row] = yield* sql<{ used: number }>`SELECT COUNT(*) AS used FROM redemptions WHERE code = 'NAIVE'`
            if ((row?.used ?? 0) >= 3) return false
            yield* Effect.yieldNow
            yield* sql`INSERT INTO redemptions (redemption_id, code, user_id, redeemed_at)
            VALUES (${`naive_${n}`}, 'NAIVE', ${`usr_${n}`}, 1)`
            return true
          })
        const naive = yield* Effect.all(
          Array.from({ length: 20 }, (_, n) => readThenWrite(n)),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(naive.filter(Boolean).length, 20)
        const atomic = yield* Effect.all(
          Array.from({ length: 20 }, (_, n) =>
            Effect.yieldNow.pipe(
              Effect.andThen(
                redemptions.record(
                  { redemptionId: `pay_${n}`, code: "ATOMIC", userId: `usr_${n}`, redeemedAt: 1 },
                  { usageLimit: 3 }
                )
              )
            )
          ),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(atomic.filter(Boolean).length, 3)
        assert.deepStrictEqual(
          yield* redemptions.counts(["NAIVE", "ATOMIC"]),
          new Map([
            ["NAIVE", 20],
            ["ATOMIC", 3]
          ])
        )
      }).pipe(provide)
  )

  it.effect("migration 0004 carries rows of the old shape over, the first code of an order id", () =>
    Effect.gen(function* () {
      // Migrations 0001 to 0003 from a copy of the folder, rows the old way, then 0004.
      const dir = mkdtempSync(join(tmpdir(), "coupons-migrations-"))
      const source = migrations("coupons")
      const files = readdirSync(source).filter((file) => file.endsWith(".sql"))
      for (const file of files.filter((file) => file < "0004")) copyFileSync(join(source, file), join(dir, file))
      yield* migrate(dir)
      const sql = yield* SqlClient.SqlClient
      yield* sql`INSERT INTO redemptions (code, order_id, customer_id, redeemed_at) VALUES
        ('A', 'o1', 'c1', 1), ('B', 'o1', 'c1', 2), ('A', 'o2', 'c2', 3)`
      for (const file of files) copyFileSync(join(source, file), join(dir, file))
      yield* migrate(dir)
      const redemptions = yield* CouponRedemptions
      assert.deepStrictEqual(
        yield* redemptions.find("o1"),
        Option.some({ redemptionId: "o1", code: "A", userId: "c1", redeemedAt: 1 })
      )
      assert.deepStrictEqual(yield* redemptions.counts(["A", "B"]), new Map([["A", 2]]))
      rmSync(dir, { recursive: true })
    }).pipe(
      Effect.provide(
        CouponsRepositorySql.layerRedemptions.pipe(Layer.provideMerge(SqliteClient.layer({ filename: ":memory:" })))
      )
    )
  )
})

// Orders

const orderStores = {
  memory: OrdersRepositoryMemory.layer,
  sql: OrdersRepositorySql.layer.pipe(Layer.provide(sqlite("orders")))
}

const buyer = UserId.make("usr_contractbuyer")
const otherBuyer = UserId.make("usr_contractother")
const orderAt = (millis: number) => new Date(millis).toISOString()

const orderRecord = (n: number, overrides: Partial<Order> = {}): Order => ({
  orderId: OrderId.make(`ord_contract${String(n).padStart(6, "0")}`),
  userId: buyer,
  status: "paid",
  items: [
    {
      productId: ProductId.make("prd_contract1"),
      variantId: VariantId.make("var_contract1"),
      title: "Mug",
      quantity: 2,
      unitPrice: { amount: 2_000, currency: usd },
      lineTotal: { amount: 4_000, currency: usd }
    }
  ],
  address: { name: "C", line1: "1 Main St", city: "Springfield", region: "IL", postalCode: "62701", country: "US" },
  shippingMethod: {
    methodId: "standard",
    title: "Standard",
    cost: { amount: 500, currency: usd },
    transitDays: 5,
    eta: "2026-12-09"
  },
  summary: {
    subtotal: { amount: 4_000, currency: usd },
    discount: { amount: 0, currency: usd },
    shipping: { amount: 500, currency: usd },
    tax: { amount: 500, currency: usd },
    total: { amount: 5_000, currency: usd }
  },
  payment: {
    paymentId: `pay_${n}`,
    provider: "paypal",
    captureId: `cap_${n}`,
    captured: { amount: 5_000, currency: usd },
    refunded: { amount: 0, currency: usd },
    refunds: []
  },
  shipments: [],
  history: [{ status: "paid", at: orderAt(1_000 + n) }],
  reservationId: `res_${n}`,
  createdAt: orderAt(1_000 + n),
  updatedAt: orderAt(1_000 + n),
  ...overrides
})

for (const kind of ["memory", "sql"] as const) {
  describe(`OrdersRepository (${kind})`, () => {
    const provide = Effect.provide(orderStores[kind])

    it.effect("stores an order whole, optional fields absent or present, found by id and by reservation", () =>
      Effect.gen(function* () {
        const repo = yield* OrdersRepository
        const bare = orderRecord(1)
        const full = orderRecord(2, { couponCode: "SAVE10" })
        assert.deepStrictEqual(yield* repo.insert(bare), { stored: { order: bare, version: 1 }, created: true })
        assert.deepStrictEqual(yield* repo.insert(full), { stored: { order: full, version: 1 }, created: true })
        assert.deepStrictEqual(yield* repo.find(bare.orderId), Option.some({ order: bare, version: 1 }))
        assert.deepStrictEqual(yield* repo.find(full.orderId), Option.some({ order: full, version: 1 }))
        assert.deepStrictEqual(yield* repo.findByReservation("res_2"), Option.some({ order: full, version: 1 }))
        assert.deepStrictEqual(yield* repo.find(OrderId.make("ord_none")), Option.none())
        assert.deepStrictEqual(yield* repo.findByReservation("res_none"), Option.none())
      }).pipe(provide)
    )

    it.effect("one order per reservation: a second insert stores nothing and answers the first, also 20 at once", () =>
      Effect.gen(function* () {
        const repo = yield* OrdersRepository
        const first = orderRecord(1)
        yield* repo.insert(first)
        const again = yield* repo.insert(orderRecord(2, { reservationId: "res_1", userId: otherBuyer }))
        assert.deepStrictEqual(again, { stored: { order: first, version: 1 }, created: false })
        assert.deepStrictEqual(yield* repo.find(OrderId.make("ord_contract000002")), Option.none())
        const racing = yield* Effect.all(
          Array.from({ length: 20 }, (_, i) => repo.insert(orderRecord(100 + i, { reservationId: "res_race" }))),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(racing.filter((r) => r.created).length, 1)
        assert.strictEqual(new Set(racing.map((r) => r.stored.order.orderId)).size, 1)
        assert.strictEqual((yield* repo.list({ limit: 100, offset: 0 })).total, 2)
      }).pipe(provide)
    )

    it.effect("replaces what changes after creation, only at the version read; one of racing writers wins", () =>
      Effect.gen(function* () {
        const repo = yield* OrdersRepository
        const order = orderRecord(1)
        yield* repo.insert(order)
        const changed: Order = {
          ...order,
          status: "shipped",
          payment: {
            ...order.payment,
            refunded: { amount: 1_500, currency: usd },
            refunds: [{ refundId: "ref_1", amount: { amount: 1_500, currency: usd }, at: orderAt(5_000) }]
          },
          shipments: [
            { shipmentId: "shp_1", carrier: "UPS", trackingNumber: "1Z", createdAt: orderAt(5_000) },
            {
              shipmentId: "shp_2",
              carrier: "DHL",
              trackingNumber: "JD",
              labelUrl: "https://labels.example.com/JD.pdf",
              createdAt: orderAt(5_000)
            }
          ],
          history: [...order.history, { status: "shipped", at: orderAt(5_000), note: "UPS 1Z" }],
          updatedAt: orderAt(5_000)
        }
        // Fields fixed at creation are not taken from the replacement.
        const tampered: Order = { ...changed, items: [], couponCode: "X", userId: otherBuyer }
        assert.isTrue(yield* repo.replace(tampered, 1))
        assert.deepStrictEqual(yield* repo.find(order.orderId), Option.some({ order: changed, version: 2 }))
        // A stale version writes nothing.
        assert.isFalse(yield* repo.replace({ ...changed, status: "cancelled" }, 1))
        assert.isFalse(yield* repo.replace(orderRecord(9), 1))
        assert.deepStrictEqual(yield* repo.find(order.orderId), Option.some({ order: changed, version: 2 }))
        const racing = yield* Effect.all(
          Array.from({ length: 10 }, (_, i) =>
            repo.replace(
              {
                ...changed,
                history: [...changed.history, { status: "delivered", at: orderAt(6_000 + i) }],
                status: "delivered"
              },
              2
            )
          ),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(racing.filter(Boolean).length, 1)
        const final = Option.getOrThrow(yield* repo.find(order.orderId))
        assert.strictEqual(final.version, 3)
        assert.strictEqual(final.order.history.length, 3)
      }).pipe(provide)
    )

    it.effect("lists newest first (time, then id), by user and by status, with the total", () =>
      Effect.gen(function* () {
        const repo = yield* OrdersRepository
        // Orders 1..12; 5 and 6 share a millisecond; every third is another user's; 4 and 8 are processing.
        const orders = Array.from({ length: 12 }, (_, i) => {
          const n = i + 1
          const time = orderAt(n === 6 ? 1_005 : 1_000 + n)
          return orderRecord(n, {
            userId: n % 3 === 0 ? otherBuyer : buyer,
            status: n % 4 === 0 ? "processing" : "paid",
            createdAt: time,
            updatedAt: time
          })
        })
        // Stored out of order: the order of a page comes from the store.
        for (const order of [...orders].reverse()) yield* repo.insert(order)
        const ids = (page: { readonly orders: ReadonlyArray<Order> }) =>
          page.orders.map((o) => Number(o.orderId.slice(-6)))
        const all = yield* repo.list({ limit: 100, offset: 0 })
        assert.deepStrictEqual(ids(all), [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
        assert.strictEqual(all.total, 12)
        const page = yield* repo.list({ limit: 3, offset: 5 })
        assert.deepStrictEqual(ids(page), [7, 6, 5])
        assert.strictEqual(page.total, 12)
        const mine = yield* repo.list({ userId: buyer, limit: 5, offset: 0 })
        assert.deepStrictEqual(ids(mine), [11, 10, 8, 7, 5])
        assert.strictEqual(mine.total, 8)
        const processing = yield* repo.list({ status: "processing", limit: 100, offset: 0 })
        assert.deepStrictEqual(ids(processing), [12, 8, 4])
        const mineProcessing = yield* repo.list({ userId: buyer, status: "processing", limit: 100, offset: 0 })
        assert.deepStrictEqual(ids(mineProcessing), [8, 4])
        assert.strictEqual(mineProcessing.total, 2)
        const none = yield* repo.list({ status: "refunded", limit: 10, offset: 0 })
        assert.deepStrictEqual(none, { orders: [], total: 0 })
        const past = yield* repo.list({ userId: buyer, limit: 10, offset: 50 })
        assert.deepStrictEqual(past, { orders: [], total: 8 })
      }).pipe(provide)
    )
  })
}

describe("OrdersRepository (sql)", () => {
  it.effect("the table itself refuses more refunded than captured, and a second order for one reservation", () =>
    Effect.gen(function* () {
      const repo = yield* OrdersRepository
      const sql = yield* SqlClient.SqlClient
      const order = orderRecord(1)
      yield* repo.insert(order)
      const over = yield* Effect.exit(
        repo.replace({ ...order, payment: { ...order.payment, refunded: { amount: 5_001, currency: usd } } }, 1)
      )
      assert.isTrue(over._tag === "Failure")
      const duplicate = yield* Effect.exit(
        sql`INSERT INTO orders (order_id, user_id, reservation_id, status, payment_id, provider, capture_id, currency,
          captured_amount, refunded_amount, details, history, shipments, refunds, version, created_at, updated_at)
          VALUES ('ord_x', 'usr_x', 'res_1', 'paid', 'p', 'paypal', 'c', 'USD', 1, 0, '{}', '[]', '[]', '[]', 1, 1, 1)`
      )
      assert.isTrue(duplicate._tag === "Failure")
      assert.deepStrictEqual(yield* repo.find(order.orderId), Option.some({ order, version: 1 }))
    }).pipe(Effect.provide(OrdersRepositorySql.layer.pipe(Layer.provideMerge(sqlite("orders")))))
  )
})

// Payments

const paymentStores = {
  memory: PaymentsRepositoryMemory.layer,
  sql: PaymentsRepositorySql.layer.pipe(Layer.provide(sqlite("payments")))
}

const paymentAt = (millis: number) => new Date(millis).toISOString()
const paymentIdOf = (n: number) => `pay_contract${String(n).padStart(6, "0")}` as PaymentId

const paymentRecord = (n: number, overrides: Partial<Payment> = {}): Payment => ({
  paymentId: paymentIdOf(n),
  userId: buyer,
  cartId: CartId.make("cart_0123456789abcdefghijklmn"),
  reservationId: HoldId.make(`res_${n}`),
  amount: { amount: 5_000, currency: usd },
  provider: "paypal",
  providerOrderId: `ORDER${n}`,
  approveUrl: `https://paypal.test/checkoutnow?token=ORDER${n}`,
  status: "created",
  captures: [],
  refunds: [],
  createdAt: paymentAt(1_000 + n),
  updatedAt: paymentAt(1_000 + n),
  ...overrides
})

for (const kind of ["memory", "sql"] as const) {
  describe(`PaymentsRepository (${kind})`, () => {
    const provide = Effect.provide(paymentStores[kind])

    it.effect("stores a payment whole, found by id, by reservation and by provider order", () =>
      Effect.gen(function* () {
        const repo = yield* PaymentsRepository
        const bare = paymentRecord(1)
        const full = paymentRecord(2, {
          status: "partially_refunded",
          captures: [{ captureId: "CAP2", amount: { amount: 5_000, currency: usd }, at: paymentAt(2_000) }],
          refunds: [
            { refundId: "REF2", amount: { amount: 100, currency: usd }, at: paymentAt(3_000), requestId: "r-1" },
            {
              refundId: "REF3",
              amount: { amount: 200, currency: usd },
              at: paymentAt(3_001),
              reason: "damaged",
              requestId: "r-2"
            }
          ],
          failure: { step: "create_order", reason: "orders unavailable", at: paymentAt(2_500) }
        })
        assert.deepStrictEqual(yield* repo.insert(bare), { stored: { payment: bare, version: 1 }, created: true })
        assert.deepStrictEqual(yield* repo.insert(full), { stored: { payment: full, version: 1 }, created: true })
        assert.deepStrictEqual(yield* repo.find(bare.paymentId), Option.some({ payment: bare, version: 1 }))
        assert.deepStrictEqual(yield* repo.find(full.paymentId), Option.some({ payment: full, version: 1 }))
        assert.deepStrictEqual(yield* repo.findByReservation("res_2"), Option.some({ payment: full, version: 1 }))
        assert.deepStrictEqual(yield* repo.findByProviderOrder("ORDER1"), Option.some({ payment: bare, version: 1 }))
        assert.deepStrictEqual(yield* repo.find(paymentIdOf(99)), Option.none())
        assert.deepStrictEqual(yield* repo.findByReservation("res_none"), Option.none())
        assert.deepStrictEqual(yield* repo.findByProviderOrder("NOSUCHORDER"), Option.none())
      }).pipe(provide)
    )

    it.effect(
      "one payment per reservation: a second insert stores nothing and answers the first, also 20 at once",
      () =>
        Effect.gen(function* () {
          const repo = yield* PaymentsRepository
          const first = paymentRecord(1)
          yield* repo.insert(first)
          const again = yield* repo.insert(
            paymentRecord(2, { reservationId: HoldId.make("res_1"), userId: otherBuyer })
          )
          assert.deepStrictEqual(again, { stored: { payment: first, version: 1 }, created: false })
          assert.deepStrictEqual(yield* repo.find(paymentIdOf(2)), Option.none())
          assert.deepStrictEqual(yield* repo.findByProviderOrder("ORDER2"), Option.none())
          // One provider order is one payment: another reservation cannot take it.
          const sameOrder = yield* Effect.exit(repo.insert(paymentRecord(3, { providerOrderId: "ORDER1" })))
          assert.isTrue(sameOrder._tag === "Failure")
          assert.deepStrictEqual(yield* repo.find(paymentIdOf(3)), Option.none())
          const racing = yield* Effect.all(
            Array.from({ length: 20 }, (_, i) =>
              repo.insert(paymentRecord(100 + i, { reservationId: HoldId.make("res_race") }))
            ),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(racing.filter((r) => r.created).length, 1)
          assert.strictEqual(new Set(racing.map((r) => r.stored.payment.paymentId)).size, 1)
        }).pipe(provide)
    )

    it.effect("replaces what changes after creation, only at the version read; one of racing writers wins", () =>
      Effect.gen(function* () {
        const repo = yield* PaymentsRepository
        const payment = paymentRecord(1)
        yield* repo.insert(payment)
        const captured: Payment = {
          ...payment,
          status: "captured",
          captures: [{ captureId: "CAP1", amount: { amount: 5_000, currency: usd }, at: paymentAt(5_000) }],
          failure: { step: "commit_hold", reason: "hold expired", at: paymentAt(5_000) },
          updatedAt: paymentAt(5_000)
        }
        // Fields fixed at creation are not taken from the replacement.
        const tampered: Payment = {
          ...captured,
          userId: otherBuyer,
          amount: { amount: 1, currency: usd },
          providerOrderId: "OTHER",
          approveUrl: "https://evil.test"
        }
        assert.isTrue(yield* repo.replace(tampered, 1))
        assert.deepStrictEqual(yield* repo.find(payment.paymentId), Option.some({ payment: captured, version: 2 }))
        // A stale version, or an unknown payment, writes nothing.
        assert.isFalse(yield* repo.replace({ ...captured, status: "failed" }, 1))
        assert.isFalse(yield* repo.replace(paymentRecord(9), 1))
        // The failure can be taken away again, and the lists are rewritten whole.
        const { failure: _, ...withoutFailure } = captured
        const refunded: Payment = {
          ...withoutFailure,
          status: "refunded",
          refunds: [
            { refundId: "REF1", amount: { amount: 5_000, currency: usd }, at: paymentAt(6_000), requestId: "r" }
          ],
          updatedAt: paymentAt(6_000)
        }
        assert.isTrue(yield* repo.replace(refunded, 2))
        assert.deepStrictEqual(yield* repo.find(payment.paymentId), Option.some({ payment: refunded, version: 3 }))
        const racing = yield* Effect.all(
          Array.from({ length: 10 }, (_, i) => repo.replace({ ...refunded, updatedAt: paymentAt(7_000 + i) }, 3)),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(racing.filter(Boolean).length, 1)
        assert.strictEqual(Option.getOrThrow(yield* repo.find(payment.paymentId)).version, 4)
      }).pipe(provide)
    )

    it.effect("a webhook event id is recorded once, also when 20 deliveries race", () =>
      Effect.gen(function* () {
        const repo = yield* PaymentsRepository
        assert.isTrue(yield* repo.recordEvent("WH-1", paymentAt(1_000)))
        assert.isFalse(yield* repo.recordEvent("WH-1", paymentAt(2_000)))
        assert.isTrue(yield* repo.recordEvent("WH-2", paymentAt(2_000)))
        const racing = yield* Effect.all(
          Array.from({ length: 20 }, () => repo.recordEvent("WH-3", paymentAt(3_000))),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(racing.filter(Boolean).length, 1)
      }).pipe(provide)
    )

    it.effect("keeps settledAt and orderId through replace; lists the unsettled oldest first, before a time", () =>
      Effect.gen(function* () {
        const repo = yield* PaymentsRepository
        // Inserted newest first, so the order comes from createdAt, not from insertion.
        for (const n of [5, 4, 3, 2, 1]) yield* repo.insert(paymentRecord(n))
        const ids = (payments: ReadonlyArray<Payment>) => payments.map((payment) => payment.paymentId)
        assert.deepStrictEqual(ids(yield* repo.listUnsettled(1_004, 10)), [1, 2, 3].map(paymentIdOf))
        assert.deepStrictEqual(ids(yield* repo.listUnsettled(10_000, 2)), [1, 2].map(paymentIdOf))

        const settled = {
          ...paymentRecord(2),
          settledAt: paymentAt(9_000),
          orderId: "ord_contract2",
          updatedAt: paymentAt(9_000)
        }
        assert.isTrue(yield* repo.replace(settled, 1))
        assert.deepStrictEqual(yield* repo.find(settled.paymentId), Option.some({ payment: settled, version: 2 }))
        // Settled without an order (an abandoned checkout).
        const abandoned = { ...paymentRecord(3), settledAt: paymentAt(9_001), updatedAt: paymentAt(9_001) }
        assert.isTrue(yield* repo.replace(abandoned, 1))
        assert.deepStrictEqual(yield* repo.find(abandoned.paymentId), Option.some({ payment: abandoned, version: 2 }))

        assert.deepStrictEqual(ids(yield* repo.listUnsettled(10_000, 10)), [1, 4, 5].map(paymentIdOf))
        assert.deepStrictEqual(ids(yield* repo.listUnsettled(1_001, 10)), [])
      }).pipe(provide)
    )

    it.effect("settle: once, with its order or without, moving the version on; racing settles leave the first", () =>
      Effect.gen(function* () {
        const repo = yield* PaymentsRepository
        for (const n of [1, 2, 3]) yield* repo.insert(paymentRecord(n))
        const withOrder = {
          ...paymentRecord(1),
          settledAt: paymentAt(9_000),
          orderId: "ord_contract1",
          updatedAt: paymentAt(9_000)
        }
        assert.deepStrictEqual(
          yield* repo.settle(paymentIdOf(1), "ord_contract1", 9_000),
          Option.some({ payment: withOrder, version: 2 })
        )
        // Settled already: nothing changes, the first settlement answers.
        assert.deepStrictEqual(
          yield* repo.settle(paymentIdOf(1), "ord_other", 9_500),
          Option.some({ payment: withOrder, version: 2 })
        )
        // A change computed before the settlement loses its compare-and-set.
        assert.isFalse(yield* repo.replace({ ...paymentRecord(1), status: "failed" }, 1))
        // Without an order (an abandoned checkout) an order already noted stays.
        const noted = { ...paymentRecord(2), orderId: "ord_contract2", updatedAt: paymentAt(8_000) }
        assert.isTrue(yield* repo.replace(noted, 1))
        assert.deepStrictEqual(
          yield* repo.settle(paymentIdOf(2), undefined, 9_001),
          Option.some({ payment: { ...noted, settledAt: paymentAt(9_001), updatedAt: paymentAt(9_001) }, version: 3 })
        )
        assert.isTrue(Option.isNone(yield* repo.settle(paymentIdOf(9), undefined, 9_000)))
        const racing = yield* Effect.all(
          Array.from({ length: 20 }, (_, i) => repo.settle(paymentIdOf(3), `ord_race${i}`, 10_000 + i)),
          { concurrency: "unbounded" }
        )
        const final = Option.getOrThrow(yield* repo.find(paymentIdOf(3)))
        assert.strictEqual(final.version, 2)
        assert.isTrue(racing.every((answer) => Option.getOrThrow(answer).payment.orderId === final.payment.orderId))
        assert.strictEqual((yield* repo.listUnsettled(20_000, 10)).length, 0)
      }).pipe(provide)
    )
  })
}

describe("PaymentsRepository (sql)", () => {
  it.effect("the table itself refuses more refunded than captured", () =>
    Effect.gen(function* () {
      const repo = yield* PaymentsRepository
      const payment = paymentRecord(1)
      yield* repo.insert(payment)
      const over = yield* Effect.exit(
        repo.replace(
          {
            ...payment,
            status: "refunded",
            refunds: [
              { refundId: "REF1", amount: { amount: 100, currency: usd }, at: paymentAt(2_000), requestId: "r" }
            ]
          },
          1
        )
      )
      assert.isTrue(over._tag === "Failure")
      assert.deepStrictEqual(yield* repo.find(payment.paymentId), Option.some({ payment, version: 1 }))
    }).pipe(Effect.provide(PaymentsRepositorySql.layer.pipe(Layer.provideMerge(sqlite("payments")))))
  )
})

// Idempotency keys

const idempotencyStores = {
  memory: IdempotencyRepositoryMemory.layer,
  sql: IdempotencyRepositorySql.layer.pipe(Layer.provide(sqlite("idempotency")))
}

const day = 86_400_000
const claimAt = (now: number, overrides: Partial<ClaimAttempt> = {}): ClaimAttempt => ({
  scope: "user:usr_contract POST /api/cart/cart_1/add",
  key: "key-1",
  fingerprint: "a".repeat(64),
  now,
  expiresAt: now + day,
  staleBefore: now - 120_000,
  ...overrides
})
const storedResponse: StoredResponse = {
  status: 201,
  headers: { "content-type": "application/json", location: "/api/x/1", "cache-control": "private, no-store" },
  body: '{"name":"Zoë ✓","items":[]}'
}

for (const kind of ["memory", "sql"] as const) {
  describe(`IdempotencyRepository (${kind})`, () => {
    const provide = Effect.provide(idempotencyStores[kind])

    it.effect(
      "claims a new key, then answers running, reused for another fingerprint, and done with the response",
      () =>
        Effect.gen(function* () {
          const repo = yield* IdempotencyRepository
          assert.deepStrictEqual(yield* repo.claim(claimAt(1_000)), { state: "claimed" })
          assert.deepStrictEqual(yield* repo.claim(claimAt(1_001)), { state: "running" })
          assert.deepStrictEqual(yield* repo.claim(claimAt(1_001, { fingerprint: "b".repeat(64) })), {
            state: "reused"
          })
          yield* repo.complete(claimAt(0).scope, "key-1", storedResponse)
          assert.deepStrictEqual(yield* repo.claim(claimAt(1_002)), { state: "done", response: storedResponse })
          assert.deepStrictEqual(yield* repo.claim(claimAt(1_002, { fingerprint: "b".repeat(64) })), {
            state: "reused"
          })
          // Another scope or key is another record.
          assert.deepStrictEqual(yield* repo.claim(claimAt(1_003, { scope: "guest POST /api/cart/cart_1/add" })), {
            state: "claimed"
          })
          assert.deepStrictEqual(yield* repo.claim(claimAt(1_003, { key: "key-2" })), { state: "claimed" })
        }).pipe(provide)
    )

    it.effect("a completed record is kept: a second complete and an abandon change nothing", () =>
      Effect.gen(function* () {
        const repo = yield* IdempotencyRepository
        const { scope } = claimAt(0)
        yield* repo.claim(claimAt(1_000))
        yield* repo.complete(scope, "key-1", storedResponse)
        yield* repo.complete(scope, "key-1", { ...storedResponse, status: 500 })
        yield* repo.abandon(scope, "key-1")
        assert.deepStrictEqual(yield* repo.claim(claimAt(1_001)), { state: "done", response: storedResponse })
      }).pipe(provide)
    )

    it.effect("abandon frees a running key; complete without a claim stores nothing", () =>
      Effect.gen(function* () {
        const repo = yield* IdempotencyRepository
        const { scope } = claimAt(0)
        yield* repo.claim(claimAt(1_000))
        yield* repo.abandon(scope, "key-1")
        yield* repo.complete(scope, "key-1", storedResponse)
        assert.deepStrictEqual(yield* repo.claim(claimAt(1_001, { fingerprint: "b".repeat(64) })), {
          state: "claimed"
        })
      }).pipe(provide)
    )

    it.effect("an expired record is absent to a claim, whatever its fingerprint, and removeExpired deletes it", () =>
      Effect.gen(function* () {
        const repo = yield* IdempotencyRepository
        const { scope } = claimAt(0)
        yield* repo.claim(claimAt(1_000))
        yield* repo.complete(scope, "key-1", storedResponse)
        yield* repo.claim(claimAt(1_000, { key: "key-2" }))
        yield* repo.claim(claimAt(5_000, { key: "key-3" }))
        assert.deepStrictEqual(yield* repo.claim(claimAt(1_000 + day - 1)), { state: "done", response: storedResponse })
        assert.deepStrictEqual(yield* repo.claim(claimAt(1_000 + day, { fingerprint: "b".repeat(64) })), {
          state: "claimed"
        })
        // key-2 expired; key-1 was claimed anew and key-3 is still live
        // (another fingerprint is refused by it).
        assert.strictEqual(yield* repo.removeExpired(1_000 + day), 1)
        assert.strictEqual(yield* repo.removeExpired(1_000 + day), 0)
        assert.deepStrictEqual(yield* repo.claim(claimAt(1_000 + day, { key: "key-3", fingerprint: "b".repeat(64) })), {
          state: "reused"
        })
      }).pipe(provide)
    )

    it.effect("a stale running record is taken over by the same fingerprint only", () =>
      Effect.gen(function* () {
        const repo = yield* IdempotencyRepository
        yield* repo.claim(claimAt(1_000))
        const later = 1_000 + 120_000
        assert.deepStrictEqual(yield* repo.claim(claimAt(later - 1)), { state: "running" })
        assert.deepStrictEqual(yield* repo.claim(claimAt(later, { fingerprint: "b".repeat(64) })), { state: "reused" })
        assert.deepStrictEqual(yield* repo.claim(claimAt(later)), { state: "claimed" })
        assert.deepStrictEqual(yield* repo.claim(claimAt(later + 1)), { state: "running" })
      }).pipe(provide)
    )

    it.effect("of 20 concurrent claims of one key exactly one is claimed", () =>
      Effect.gen(function* () {
        const repo = yield* IdempotencyRepository
        const outcomes = yield* Effect.all(
          Array.from({ length: 20 }, () => repo.claim(claimAt(1_000))),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(outcomes.filter((o) => o.state === "claimed").length, 1)
        assert.strictEqual(outcomes.filter((o) => o.state === "running").length, 19)
      }).pipe(provide)
    )
  })
}
