import { assert, describe, it } from "@effect/vitest"
import { DatabaseSync } from "node:sqlite"
import { Effect, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import { CartRecord, CartStore } from "@shop/cart/CartStore"
import * as CartObjectStore from "../src/CartObjectStore.ts"

// The cart object's store and alarm work on a stand-in for a Durable
// Object's storage: `sql.exec` on node:sqlite (the same SQLite), and the
// alarm and deleteAll recorded. The Workers tests run the real thing; this
// covers what they cannot reach on demand (an alarm that finds a live cart,
// an alarm on an empty object, a repeated alarm).

type Storage = Parameters<typeof CartObjectStore.layer>[0]

const makeStorage = () => {
  let db = new DatabaseSync(":memory:")
  const state = { alarm: null as number | null, alarmWrites: 0, deleteAlls: 0, statements: 0 }
  const exec = (query: string, ...bindings: Array<string | number | null>) => {
    state.statements++
    const statement = db.prepare(query)
    // A statement without a result (DDL, writes) is run, not iterated.
    if (statement.columns().length === 0) {
      const result = statement.run(...bindings)
      const rows: Array<Record<string, unknown>> = []
      return { toArray: () => rows, one: () => rows[0], rowsWritten: Number(result.changes) }
    }
    const rows = statement.all(...bindings).map((row) => ({ ...row }))
    return {
      toArray: () => rows,
      one: () => {
        if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}`)
        return rows[0]
      },
      rowsWritten: 0
    }
  }
  const storage = {
    sql: { exec },
    setAlarm: async (at: number) => {
      state.alarm = at
      state.alarmWrites++
    },
    deleteAlarm: async () => {
      state.alarm = null
    },
    // Everything goes, as on a Durable Object: a new, empty database.
    deleteAll: async () => {
      state.deleteAlls++
      db.close()
      db = new DatabaseSync(":memory:")
      state.alarm = null
    }
  }
  const tables = () =>
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((row) => row["name"])
  return { storage: storage as unknown as Storage, state, tables }
}

const cartId = "cart_AAAAAAAAAAAAAAAAAAAAAAAA"
const record = (expiresAtMillis: number) =>
  Schema.decodeUnknownSync(CartRecord)({
    cart: {
      cartId,
      userId: null,
      items: [],
      address: null,
      shippingMethod: null,
      coupon: null,
      summary: Object.fromEntries(
        ["subtotal", "discount", "shipping", "tax", "total"].map((key) => [key, { amount: 0, currency: "USD" }])
      ),
      currency: "USD",
      expiresAt: new Date(expiresAtMillis).toISOString(),
      checkout: null,
      removedItems: []
    },
    weights: [],
    expiresAtMillis
  })

const withStore = <A, E>(storage: Storage, f: (store: (typeof CartStore)["Service"]) => Effect.Effect<A, E>) =>
  Effect.flatMap(CartStore, f).pipe(Effect.provide(CartObjectStore.layer(storage)))

describe("CartObjectStore", () => {
  it.effect("a read of a cart nobody saved finds nothing and creates nothing", () =>
    Effect.gen(function* () {
      const { storage, tables, state } = makeStorage()
      const found = yield* withStore(storage, (store) => store.find(cartId))
      assert.isTrue(Option.isNone(found))
      assert.deepStrictEqual(tables(), [])
      assert.strictEqual(yield* withStore(storage, (store) => store.removeExpired(Date.now())), 0)
      assert.deepStrictEqual(tables(), [])
      assert.isNull(state.alarm)
    })
  )

  it.effect("saves the record as it was, sets the alarm at its expiry once, and earlier when the expiry is", () =>
    Effect.gen(function* () {
      const { storage, state } = makeStorage()
      const first = record(10_000)
      yield* withStore(storage, (store) => store.save(first))
      assert.strictEqual(state.alarm, 10_000)
      assert.strictEqual(state.alarmWrites, 1)
      assert.deepStrictEqual(yield* withStore(storage, (store) => store.find(cartId)), Option.some(first))
      // A later expiry leaves the alarm: it fires early and re-arms (next test).
      const second = record(20_000)
      yield* withStore(storage, (store) => store.save(second))
      yield* withStore(storage, (store) => store.save(record(30_000)))
      assert.strictEqual(state.alarm, 10_000)
      assert.strictEqual(state.alarmWrites, 1)
      assert.deepStrictEqual(yield* withStore(storage, (store) => store.find(cartId)), Option.some(record(30_000)))
      // An earlier one than the alarm moves it, so that no cart outlives its alarm.
      yield* withStore(storage, (store) => store.save(record(8_000)))
      assert.strictEqual(state.alarm, 8_000)
      assert.strictEqual(state.alarmWrites, 2)
      // Another id is another cart, even in this object.
      assert.isTrue(Option.isNone(yield* withStore(storage, (store) => store.find("cart_BBBBBBBBBBBBBBBBBBBBBBBB"))))
    })
  )

  it.effect("the alarm re-arms while the cart lives and deletes everything once it has expired, once", () =>
    Effect.gen(function* () {
      const { storage, state, tables } = makeStorage()
      yield* withStore(storage, (store) => store.save(record(5_000)))

      // Early (the cart was saved again after the alarm was set): re-armed.
      yield* TestClock.setTime(4_999)
      assert.strictEqual(yield* CartObjectStore.sweep(storage), "rearmed")
      assert.strictEqual(state.alarm, 5_000)
      assert.deepStrictEqual(tables(), ["cart"])

      yield* TestClock.setTime(5_000)
      assert.strictEqual(yield* CartObjectStore.sweep(storage), "deleted")
      assert.strictEqual(state.deleteAlls, 1)
      assert.isNull(state.alarm)
      assert.deepStrictEqual(tables(), [])

      // Again, on an empty object: nothing to do, nothing written.
      assert.strictEqual(yield* CartObjectStore.sweep(storage), "empty")
      assert.strictEqual(state.deleteAlls, 1)
      assert.deepStrictEqual(tables(), [])
      assert.isTrue(Option.isNone(yield* withStore(storage, (store) => store.find(cartId))))
    })
  )

  it.effect("a cart saved again after its alarm was set: the alarm re-arms at its expiry, then deletes it", () =>
    Effect.gen(function* () {
      const { storage, state, tables } = makeStorage()
      yield* withStore(storage, (store) => store.save(record(5_000)))
      yield* withStore(storage, (store) => store.save(record(9_000)))
      assert.strictEqual(state.alarm, 5_000)
      yield* TestClock.setTime(5_000)
      assert.strictEqual(yield* CartObjectStore.sweep(storage), "rearmed")
      assert.strictEqual(state.alarm, 9_000)
      // The instance knows the alarm it re-armed: a later expiry writes none.
      yield* withStore(storage, (store) => store.save(record(9_500)))
      assert.strictEqual(state.alarm, 9_000)
      yield* TestClock.setTime(9_000)
      assert.strictEqual(yield* CartObjectStore.sweep(storage), "rearmed")
      assert.strictEqual(state.alarm, 9_500)
      yield* TestClock.setTime(9_500)
      assert.strictEqual(yield* CartObjectStore.sweep(storage), "deleted")
      assert.deepStrictEqual(tables(), [])
      // A fresh cart in the emptied object sets its alarm again.
      yield* withStore(storage, (store) => store.save(record(20_000)))
      assert.strictEqual(state.alarm, 20_000)
    })
  )

  it.effect("the alarm deletes an object whose cart was removed", () =>
    Effect.gen(function* () {
      const { storage, state, tables } = makeStorage()
      yield* withStore(storage, (store) => Effect.andThen(store.save(record(5_000)), store.remove(cartId)))
      assert.strictEqual(yield* CartObjectStore.sweep(storage), "deleted")
      assert.strictEqual(state.deleteAlls, 1)
      assert.deepStrictEqual(tables(), [])
    })
  )

  it.effect("removeExpired deletes the carts at or past their expiry", () =>
    Effect.gen(function* () {
      const { storage } = makeStorage()
      yield* withStore(storage, (store) => store.save(record(5_000)))
      assert.strictEqual(yield* withStore(storage, (store) => store.removeExpired(4_999)), 0)
      assert.strictEqual(yield* withStore(storage, (store) => store.removeExpired(5_000)), 1)
      assert.isTrue(Option.isNone(yield* withStore(storage, (store) => store.find(cartId))))
    })
  )

  it.effect("reads a cart it saved or read from memory, with no statement, until it is removed", () =>
    Effect.gen(function* () {
      const { storage, state } = makeStorage()
      const saved = record(10_000)
      yield* withStore(storage, (store) => store.save(saved))
      const before = state.statements
      assert.deepStrictEqual(yield* withStore(storage, (store) => store.find(cartId)), Option.some(saved))
      assert.strictEqual(state.statements, before)
      // Another id is not the remembered cart: storage answers.
      assert.isTrue(Option.isNone(yield* withStore(storage, (store) => store.find("cart_BBBBBBBBBBBBBBBBBBBBBBBB"))))
      assert.strictEqual(state.statements, before + 1)
      yield* withStore(storage, (store) => store.remove(cartId))
      assert.isTrue(Option.isNone(yield* withStore(storage, (store) => store.find(cartId))))
    })
  )
})
