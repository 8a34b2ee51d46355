import { Clock, Effect, Layer, Option } from "effect"
import { CartStore, decodeRecord, encodeRecord } from "@shop/cart/CartStore"

// The CartStore of one cart's Durable Object (cart.ts): the cart's record as
// JSON in one row of the object's own SQLite storage. The object serves one
// cart id, so the table has one row, keyed by that id all the same so that a
// call routed to the wrong object would find nothing rather than another
// cart. `ctx.storage.sql` is synchronous and a Durable Object runs one event
// at a time between awaits, so each statement is atomic; CartWriter (one
// semaphore) keeps whole operations apart.
//
// Expiry is the object's alarm: each save sets it to the cart's expiry, and
// `sweep` (the alarm handler's work) deletes all the object's storage once
// the cart has expired, so an abandoned cart leaves nothing behind.

const createTable = `CREATE TABLE IF NOT EXISTS cart (
  cart_id TEXT PRIMARY KEY,
  record TEXT NOT NULL,
  expires_at INTEGER NOT NULL
)`

// Reads never create the table: a read of an id nobody created (a guessed
// one) must not leave storage behind in a fresh object, which no alarm
// would ever clean up.
const hasTable = (sql: SqlStorage) =>
  sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cart'").toArray().length > 0

export const layer = (storage: DurableObjectStorage) =>
  Layer.succeed(
    CartStore,
    CartStore.of({
      find: (cartId) =>
        Effect.sync(() => {
          if (!hasTable(storage.sql)) return Option.none()
          const rows = storage.sql
            .exec<{ record: string }>("SELECT record FROM cart WHERE cart_id = ?", cartId)
            .toArray()
          return rows.length === 0 ? Option.none() : Option.some(decodeRecord(rows[0]!.record))
        }),
      save: (record) =>
        Effect.andThen(
          Effect.sync(() => {
            storage.sql.exec(createTable)
            storage.sql.exec(
              `INSERT INTO cart (cart_id, record, expires_at) VALUES (?, ?, ?)
               ON CONFLICT (cart_id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at`,
              record.cart.cartId,
              encodeRecord(record),
              record.expiresAtMillis
            )
          }),
          // Every change moves the expiry, and the alarm with it.
          Effect.promise(() => storage.setAlarm(record.expiresAtMillis))
        ),
      remove: (cartId) =>
        Effect.sync(() => {
          if (hasTable(storage.sql)) storage.sql.exec("DELETE FROM cart WHERE cart_id = ?", cartId)
        }),
      removeExpired: (nowMillis) =>
        Effect.sync(() =>
          hasTable(storage.sql) ? storage.sql.exec("DELETE FROM cart WHERE expires_at <= ?", nowMillis).rowsWritten : 0
        )
    })
  )

export type Swept = "empty" | "deleted" | "rearmed"

/**
 * The alarm's work. An object with no cart table has nothing to do (an
 * alarm may fire again after a delete: idempotent). An object whose carts have
 * all expired is deleted whole (`deleteAll`: table, rows and alarm), which is
 * what frees a Durable Object. An object with a live cart (saved again since
 * the alarm was set) is re-armed at that cart's expiry.
 */
export const sweep = Effect.fn("CartObjectStore.sweep")(function* (storage: DurableObjectStorage) {
  if (!hasTable(storage.sql)) return "empty" as Swept
  const now = yield* Clock.currentTimeMillis
  const next = storage.sql
    .exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM cart WHERE expires_at > ?", now)
    .one().next
  if (next === null) {
    yield* Effect.promise(() => storage.deleteAll())
    // deleteAll takes the alarm with it on SQLite-backed objects; said
    // explicitly so that no alarm outlives the storage it was for.
    yield* Effect.promise(() => storage.deleteAlarm())
    return "deleted" as Swept
  }
  yield* Effect.promise(() => storage.setAlarm(next))
  return "rearmed" as Swept
})
