// The cart store comes in two kinds, memory (tests, the memory runtime) and
// SQL (the node runtime, over node:sqlite); these tests hold both to one
// contract. The SQL store's in-memory copy of hot carts is tested here too,
// because only a SQL store has one: it must never answer differently from the
// table, and it must spare the table every read it can. (The contract lives
// under runtimes/node because the only SqlClient that runs here is this
// runtime's; packages may not import it.)
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { type CartRecord, CartStore, encodeRecord } from "@shop/cart/CartStore"
import * as CartStoreSql from "@shop/cart/CartStoreSql"
import { CartId, ProductId, UserId, VariantId } from "@shop/domain/Ids"
import { Currency } from "@shop/domain/Money"
import { migrate } from "../src/Migrations.ts"
import * as SqliteClient from "../src/SqliteClient.ts"

const migrations = fileURLToPath(new URL("../../../migrations/cart/", import.meta.url))

// A fresh in-memory database with the cart migrations, and every statement it
// runs after them.
const database = () => {
  const statements: Array<string> = []
  const layer = Layer.effectDiscard(
    migrate(migrations).pipe(Effect.ensuring(Effect.sync(() => statements.splice(0))))
  ).pipe(
    Layer.provideMerge(SqliteClient.layer({ filename: ":memory:", onStatement: (sql) => statements.push(sql.trim()) }))
  )
  return { layer, statements }
}

const stores = {
  memory: () => CartStore.layerMemory,
  sql: () => CartStoreSql.layer.pipe(Layer.provide(database().layer)),
  "sql without a cache": () => CartStoreSql.layerWith({ maxCached: 0 }).pipe(Layer.provide(database().layer))
}

const usd = Currency.make("USD")
const money = (amount: number) => ({ amount, currency: usd })
const cartId = (n: number) => CartId.make(`cart_contract${String(n).padStart(16, "0")}`)
const now = Date.UTC(2026, 11, 2, 12, 0, 0)

// Every part of a cart filled in, optional fields both present and absent,
// text that JSON must escape: what goes in must come out.
const fullRecord = (n: number, expiresAtMillis: number): CartRecord => ({
  cart: {
    cartId: cartId(n),
    userId: UserId.make("usr_contract0000000000000"),
    items: [
      {
        productId: ProductId.make("prd_contract000000000001"),
        variantId: VariantId.make("var_contract000000000001"),
        title: 'Mug "Ørsted" \u2014 350 ml\n\u{1F375}',
        quantity: 3,
        unitPrice: money(1299),
        lineTotal: money(3897)
      },
      {
        productId: ProductId.make("prd_contract000000000002"),
        variantId: VariantId.make("var_contract000000000002"),
        title: "Tee / M",
        quantity: 999,
        unitPrice: money(2_000_000),
        lineTotal: money(1_998_000_000)
      }
    ],
    address: { line1: "1 Main St", city: "Springfield", region: "IL", postalCode: "62701", country: "US" },
    shippingMethod: { methodId: "express", title: "Express", cost: money(4999), transitDays: 2, eta: "2026-12-04" },
    coupon: { code: "SAVE10", applicable: false, reason: "min_cart_not_met" },
    summary: {
      subtotal: money(1_998_003_897),
      discount: money(0),
      shipping: money(4999),
      tax: money(164_837_321),
      total: money(2_162_846_217)
    },
    currency: usd,
    expiresAt: new Date(expiresAtMillis).toISOString(),
    checkout: {
      status: "pending",
      reservationId: "res_contract",
      paymentId: "pay_contract",
      approveUrl: "https://www.sandbox.paypal.com/checkoutnow?token=1",
      expiresAt: "2026-12-02T12:15:00.000Z"
    },
    removedItems: [
      {
        productId: ProductId.make("prd_contract000000000003"),
        variantId: VariantId.make("var_contract000000000003"),
        title: "Gone",
        reason: "product_unavailable"
      }
    ]
  },
  weights: [350, 180],
  expiresAtMillis
})

// A guest's empty cart: the nulls and empty arrays.
const emptyRecord = (n: number, expiresAtMillis: number): CartRecord => ({
  cart: {
    cartId: cartId(n),
    userId: null,
    items: [],
    address: null,
    shippingMethod: null,
    coupon: null,
    summary: { subtotal: money(0), discount: money(0), shipping: money(0), tax: money(0), total: money(0) },
    currency: usd,
    expiresAt: new Date(expiresAtMillis).toISOString(),
    checkout: null,
    removedItems: []
  },
  weights: [],
  expiresAtMillis
})

const found = (store: CartStore["Service"], id: string) => Effect.map(store.find(id), Option.getOrUndefined)

for (const [kind, make] of Object.entries(stores)) {
  describe(`CartStore contract (${kind})`, () => {
    const provide = Effect.provide(make())

    it.effect("finds nothing for an unknown cart", () =>
      Effect.gen(function* () {
        const store = yield* CartStore
        assert.isTrue(Option.isNone(yield* store.find(cartId(404))))
      }).pipe(provide)
    )

    it.effect("a saved record comes back exactly, every field and null included", () =>
      Effect.gen(function* () {
        const store = yield* CartStore
        const full = fullRecord(1, now + 60_000)
        const empty = emptyRecord(2, now + 60_000)
        yield* store.save(full)
        yield* store.save(empty)
        assert.deepStrictEqual(yield* found(store, cartId(1)), full)
        assert.deepStrictEqual(yield* found(store, cartId(2)), empty)
        // Byte for byte in the encoding the stores keep, too.
        assert.strictEqual(encodeRecord((yield* found(store, cartId(1)))!), encodeRecord(full))
      }).pipe(provide)
    )

    it.effect("a second save replaces the cart, expiry included; other carts are untouched", () =>
      Effect.gen(function* () {
        const store = yield* CartStore
        yield* store.save(fullRecord(1, now + 1000))
        yield* store.save(emptyRecord(2, now + 1000))
        const replaced = emptyRecord(1, now + 5000)
        yield* store.save(replaced)
        assert.deepStrictEqual(yield* found(store, cartId(1)), replaced)
        assert.deepStrictEqual(yield* found(store, cartId(2)), emptyRecord(2, now + 1000))
        // The new expiry is the one the sweep goes by.
        assert.strictEqual(yield* store.removeExpired(now + 1000), 1)
        assert.deepStrictEqual(yield* found(store, cartId(1)), replaced)
      }).pipe(provide)
    )

    it.effect("removes one cart, and removing an unknown cart is no error", () =>
      Effect.gen(function* () {
        const store = yield* CartStore
        yield* store.save(fullRecord(1, now + 1000))
        yield* store.save(fullRecord(2, now + 1000))
        yield* store.remove(cartId(1))
        yield* store.remove(cartId(404))
        assert.isTrue(Option.isNone(yield* store.find(cartId(1))))
        assert.isTrue(Option.isSome(yield* store.find(cartId(2))))
      }).pipe(provide)
    )

    it.effect("removeExpired deletes carts expiring at or before now (now itself is expired) and counts them", () =>
      Effect.gen(function* () {
        const store = yield* CartStore
        yield* store.save(emptyRecord(1, now - 1))
        yield* store.save(emptyRecord(2, now))
        yield* store.save(emptyRecord(3, now + 1))
        // Read first, so that a store with a copy in memory holds them all.
        for (const n of [1, 2, 3]) assert.isTrue(Option.isSome(yield* store.find(cartId(n))))
        assert.strictEqual(yield* store.removeExpired(now), 2)
        assert.isTrue(Option.isNone(yield* store.find(cartId(1))))
        assert.isTrue(Option.isNone(yield* store.find(cartId(2))))
        assert.deepStrictEqual(yield* found(store, cartId(3)), emptyRecord(3, now + 1))
        assert.strictEqual(yield* store.removeExpired(now), 0)
        assert.strictEqual(yield* store.removeExpired(now + 1), 1)
        assert.isTrue(Option.isNone(yield* store.find(cartId(3))))
      }).pipe(provide)
    )
  })
}

describe("CartStoreSql over node:sqlite", () => {
  it.effect("a hot read costs no statement, a save exactly one (an upsert), a cold read one", () => {
    const db = database()
    return Effect.gen(function* () {
      const { store } = yield* CartStoreSql.make(CartStoreSql.defaultCacheOptions)
      db.statements.splice(0)
      yield* store.save(fullRecord(1, now + 1000))
      assert.strictEqual(db.statements.length, 1)
      assert.match(db.statements[0]!, /^INSERT INTO carts .* ON CONFLICT/s)
      yield* store.save(fullRecord(1, now + 2000))
      assert.strictEqual(db.statements.length, 2)
      db.statements.splice(0)
      for (let i = 0; i < 3; i++) assert.isTrue(Option.isSome(yield* store.find(cartId(1))))
      assert.deepStrictEqual(db.statements, [])
      // Another store on the same file has no copy: its first read goes to the table, the next does not.
      const { store: other } = yield* CartStoreSql.make(CartStoreSql.defaultCacheOptions)
      assert.deepStrictEqual(yield* found(other, cartId(1)), fullRecord(1, now + 2000))
      assert.deepStrictEqual(yield* found(other, cartId(1)), fullRecord(1, now + 2000))
      assert.strictEqual(db.statements.length, 1)
      assert.match(db.statements[0]!, /^SELECT record FROM carts/)
    }).pipe(Effect.provide(db.layer))
  })

  it.effect("writes through: the table holds every save, replace, remove and sweep at once", () =>
    Effect.gen(function* () {
      const { store } = yield* CartStoreSql.make(CartStoreSql.defaultCacheOptions)
      // Reads the table only, with no copy of its own.
      const { store: table } = yield* CartStoreSql.make({ maxCached: 0 })
      yield* store.save(fullRecord(1, now + 1000))
      assert.deepStrictEqual(yield* found(table, cartId(1)), fullRecord(1, now + 1000))
      yield* store.save(emptyRecord(1, now + 2000))
      assert.deepStrictEqual(yield* found(table, cartId(1)), emptyRecord(1, now + 2000))
      yield* store.remove(cartId(1))
      assert.isTrue(Option.isNone(yield* table.find(cartId(1))))
      yield* store.save(emptyRecord(2, now))
      assert.strictEqual(yield* store.removeExpired(now), 1)
      assert.isTrue(Option.isNone(yield* table.find(cartId(2))))
    }).pipe(Effect.provide(database().layer))
  )

  it.effect("saves made together are one upsert, in chunks of 33 rows; each is in the table when it completes", () => {
    const db = database()
    return Effect.gen(function* () {
      const { store } = yield* CartStoreSql.make(CartStoreSql.defaultCacheOptions)
      const { store: table } = yield* CartStoreSql.make({ maxCached: 0 })
      db.statements.splice(0)
      // 40 carts, new and already saved alike, all at once: two statements (33 rows, then 7).
      yield* store.save(emptyRecord(1, now))
      db.statements.splice(0)
      const records = Array.from({ length: 40 }, (_, i) => fullRecord(i + 1, now + 1000 + i))
      yield* Effect.forEach(records, (record) => store.save(record), { concurrency: "unbounded", discard: true })
      assert.strictEqual(db.statements.length, 2)
      for (const statement of db.statements) assert.match(statement, /^INSERT INTO carts .* ON CONFLICT/s)
      assert.strictEqual(db.statements[0]!.match(/\(\?,\s*\?,\s*\?\)/g)?.length, 33, db.statements[0])
      assert.strictEqual(db.statements[1]!.match(/\(\?,\s*\?,\s*\?\)/g)?.length, 7)
      for (const record of records) assert.deepStrictEqual(yield* found(table, record.cart.cartId), record)
      // One at a time, each save is its own statement again.
      db.statements.splice(0)
      yield* store.save(emptyRecord(1, now + 5000))
      yield* store.save(emptyRecord(2, now + 5000))
      assert.strictEqual(db.statements.length, 2)
    }).pipe(Effect.provide(db.layer))
  })

  it.effect(
    "a save whose caller is interrupted while it waits for its batch still writes before the caller ends",
    () => {
      const db = database()
      return Effect.gen(function* () {
        const { store } = yield* CartStoreSql.make(CartStoreSql.defaultCacheOptions)
        const { store: table } = yield* CartStoreSql.make({ maxCached: 0 })
        db.statements.splice(0)
        // Both started at once, so both wait for the batch: the interrupt finds
        // the first one waiting, and must not return before its row is written
        // (its cart's writer is given back when it returns).
        const first = yield* Effect.forkChild(store.save(fullRecord(1, now + 1000)), { startImmediately: true })
        const second = yield* Effect.forkChild(store.save(fullRecord(2, now + 1000)), { startImmediately: true })
        assert.deepStrictEqual(db.statements, [])
        yield* Fiber.interrupt(first)
        assert.strictEqual(db.statements.length, 1)
        assert.deepStrictEqual(yield* found(table, cartId(1)), fullRecord(1, now + 1000))
        yield* Fiber.join(second)
        assert.deepStrictEqual(yield* found(table, cartId(2)), fullRecord(2, now + 1000))
      }).pipe(Effect.provide(db.layer))
    }
  )

  it.effect("a failed upsert fails every save of its batch, and the saves after it write again", () => {
    const db = database()
    return Effect.gen(function* () {
      const { store } = yield* CartStoreSql.make(CartStoreSql.defaultCacheOptions)
      const { store: table } = yield* CartStoreSql.make({ maxCached: 0 })
      const sql = yield* SqlClient.SqlClient
      yield* store.save(emptyRecord(1, now))
      // Nowhere to write: the batch's one statement fails, and so does each save it carried.
      yield* sql`ALTER TABLE carts RENAME TO carts_away`
      const exits = yield* Effect.forEach(
        [fullRecord(1, now + 1000), fullRecord(2, now + 1000), fullRecord(3, now + 1000)],
        (record) => Effect.exit(store.save(record)),
        { concurrency: "unbounded" }
      )
      for (const exit of exits) assert.isTrue(Exit.hasDies(exit), String(exit))
      yield* sql`ALTER TABLE carts_away RENAME TO carts`
      // The failed saves left nothing behind: the copy was dropped, the row is the old one.
      assert.deepStrictEqual(yield* found(store, cartId(1)), emptyRecord(1, now))
      assert.isTrue(Option.isNone(yield* table.find(cartId(2))))
      yield* Effect.forEach([fullRecord(2, now + 2000), fullRecord(3, now + 2000)], (record) => store.save(record), {
        concurrency: "unbounded",
        discard: true
      })
      assert.deepStrictEqual(yield* found(table, cartId(2)), fullRecord(2, now + 2000))
      assert.deepStrictEqual(yield* found(table, cartId(3)), fullRecord(3, now + 2000))
    }).pipe(Effect.provide(db.layer))
  })

  it.effect("the copy in memory is bounded, least recently used first out, and answers the same", () => {
    const db = database()
    return Effect.gen(function* () {
      const { cachedCount, store } = yield* CartStoreSql.make({ maxCached: 3 })
      for (let n = 1; n <= 10; n++) yield* store.save(emptyRecord(n, now + n))
      assert.strictEqual(cachedCount(), 3)
      db.statements.splice(0)
      // 8, 9 and 10 are held; reading 8 makes 9 the least recently used.
      assert.isTrue(Option.isSome(yield* store.find(cartId(8))))
      assert.deepStrictEqual(db.statements, [])
      // 1 comes from the table and pushes 9 out.
      assert.deepStrictEqual(yield* found(store, cartId(1)), emptyRecord(1, now + 1))
      assert.strictEqual(db.statements.length, 1)
      assert.strictEqual(cachedCount(), 3)
      db.statements.splice(0)
      for (const n of [1, 8, 10]) assert.isTrue(Option.isSome(yield* store.find(cartId(n))))
      assert.deepStrictEqual(db.statements, [])
      assert.deepStrictEqual(yield* found(store, cartId(9)), emptyRecord(9, now + 9))
      assert.strictEqual(db.statements.length, 1)
    }).pipe(Effect.provide(db.layer))
  })

  it.effect("a read that a save overlaps answers what it read, but keeps no copy of it", () =>
    Effect.gen(function* () {
      const selected = yield* Deferred.make<void>()
      const resume = yield* Deferred.make<void>()
      // Every read from the table stops after its SELECT until `resume`.
      const { readsInFlight, store } = yield* CartStoreSql.make(CartStoreSql.defaultCacheOptions, {
        afterSelect: Deferred.succeed(selected, undefined).pipe(Effect.andThen(Deferred.await(resume)))
      })
      const { store: other } = yield* CartStoreSql.make({ maxCached: 0 })
      yield* other.save(emptyRecord(1, now + 1000))
      // A plain read (no writer, as CartLive's `get`) has read the old record...
      const read = yield* Effect.forkChild(store.find(cartId(1)))
      yield* Deferred.await(selected)
      // ...when a change of the same cart saves the new one.
      yield* store.save(fullRecord(1, now + 2000))
      yield* Deferred.succeed(resume, undefined)
      assert.deepStrictEqual(Option.getOrUndefined(yield* Fiber.join(read)), emptyRecord(1, now + 1000))
      // The copy is the saved record, not the one the read came back with.
      assert.deepStrictEqual(yield* found(store, cartId(1)), fullRecord(1, now + 2000))
      assert.strictEqual(readsInFlight(), 0)
    }).pipe(Effect.provide(database().layer))
  )

  it.effect("the sweep drops expired copies, even of a cart it found no row for", () =>
    Effect.gen(function* () {
      const { cachedCount, store } = yield* CartStoreSql.make(CartStoreSql.defaultCacheOptions)
      const { store: other } = yield* CartStoreSql.make({ maxCached: 0 })
      yield* store.save(emptyRecord(1, now))
      yield* store.save(emptyRecord(2, now + 1))
      // The row goes behind the copy's back (as if a read had cached it just
      // after a sweep deleted it): the next sweep still drops the copy.
      yield* other.remove(cartId(1))
      assert.strictEqual(yield* store.removeExpired(now), 0)
      assert.strictEqual(cachedCount(), 1)
      assert.isTrue(Option.isNone(yield* store.find(cartId(1))))
      assert.isTrue(Option.isSome(yield* store.find(cartId(2))))
    }).pipe(Effect.provide(database().layer))
  )
})
