import { Clock, Effect, Layer, Option } from "effect"
import { type CartRecord, CartStore, decodeRecord, encodeRecordUnchecked } from "@shop/cart/CartStore"
import * as Traced from "@shop/domain/Traced"

// The CartStore of one cart's Durable Object (cart.ts): the cart's record as
// JSON in one row of the object's own SQLite storage. The object serves one
// cart id, so the table has one row, keyed by that id all the same so that a
// call routed to the wrong object would find nothing rather than another
// cart. `ctx.storage.sql` is synchronous and a Durable Object runs one event
// at a time between awaits, so each statement is atomic; CartWriter (one
// semaphore) keeps whole operations apart.
//
// Expiry is the object's alarm: the first save of an instance sets it to the
// cart's expiry, and `sweep` (the alarm handler's work) deletes all the
// object's storage once the cart has expired, so an abandoned cart leaves
// nothing behind. A later save whose expiry is later leaves the alarm where
// it is: when it fires early, `sweep` finds the cart alive and re-arms it at
// the cart's expiry. Each setAlarm is a storage write (billed as one), and
// was about 4% of the cart object's CPU on an add-to-cart (profile of the
// cart isolate under load, `scripts/profile-workerd.ts`).

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

// What this object last read or wrote, kept in memory. Only the object
// itself writes its storage, one event at a time, so the copy is never stale:
// every write below (and the alarm's deleteAll in `sweep`) updates or drops
// it. A cart call then skips the SELECT and the Schema decode of the whole
// record (the hot path of add-to-cart and of reading a cart); the record is
// immutable data (readonly types), so handing out the same object is safe. A
// fresh instance (after eviction) starts empty and reads storage again.
interface Memo {
  // Whether the cart table exists; unknown until asked.
  table?: boolean
  record?: CartRecord
  // The alarm this instance set; unknown in a fresh instance.
  alarmAt?: number
}
const memos = new WeakMap<DurableObjectStorage, Memo>()
const memoOf = (storage: DurableObjectStorage): Memo => {
  let memo = memos.get(storage)
  if (memo === undefined) memos.set(storage, (memo = {}))
  return memo
}

const tableExists = (storage: DurableObjectStorage, memo: Memo) => (memo.table ??= hasTable(storage.sql))

export const layer = (storage: DurableObjectStorage) =>
  Layer.succeed(
    CartStore,
    CartStore.of({
      find: (cartId) =>
        Effect.sync(() => {
          const memo = memoOf(storage)
          if (memo.record !== undefined && memo.record.cart.cartId === cartId) return Option.some(memo.record)
          if (!tableExists(storage, memo)) return Option.none()
          const rows = storage.sql
            .exec<{ record: string }>("SELECT record FROM cart WHERE cart_id = ?", cartId)
            .toArray()
          if (rows.length === 0) return Option.none()
          const record = decodeRecord(rows[0]!.record)
          memo.record = record
          return Option.some(record)
        }),
      save: (record) =>
        Effect.andThen(
          Effect.sync(() => {
            const memo = memoOf(storage)
            // Dropped first: if a statement throws, the next read goes to storage.
            memo.record = undefined
            if (memo.table !== true) {
              storage.sql.exec(createTable)
              memo.table = true
            }
            storage.sql.exec(
              `INSERT INTO cart (cart_id, record, expires_at) VALUES (?, ?, ?)
               ON CONFLICT (cart_id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at`,
              record.cart.cartId,
              encodeRecordUnchecked(record),
              record.expiresAtMillis
            )
            memo.record = record
            return memo
          }),
          (memo) =>
            // Set unless an alarm at or before this expiry is known to be set.
            memo.alarmAt !== undefined && memo.alarmAt <= record.expiresAtMillis
              ? Effect.void
              : Effect.promise(async () => {
                  await storage.setAlarm(record.expiresAtMillis)
                  memo.alarmAt = record.expiresAtMillis
                })
        ),
      remove: (cartId) =>
        Effect.sync(() => {
          const memo = memoOf(storage)
          memo.record = undefined
          if (tableExists(storage, memo)) storage.sql.exec("DELETE FROM cart WHERE cart_id = ?", cartId)
        }),
      removeExpired: (nowMillis) =>
        Effect.sync(() => {
          const memo = memoOf(storage)
          memo.record = undefined
          return tableExists(storage, memo)
            ? storage.sql.exec("DELETE FROM cart WHERE expires_at <= ?", nowMillis).rowsWritten
            : 0
        })
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
export const sweep = Traced.fn("CartObjectStore.sweep")(function* (storage: DurableObjectStorage) {
  if (!hasTable(storage.sql)) return "empty" as Swept
  const now = yield* Clock.currentTimeMillis
  const next = storage.sql
    .exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM cart WHERE expires_at > ?", now)
    .one().next
  if (next === null) {
    // Nothing of the object's storage survives: neither does the memo.
    memos.delete(storage)
    yield* Effect.promise(() => storage.deleteAll())
    // deleteAll takes the alarm with it on SQLite-backed objects; said
    // explicitly so that no alarm outlives the storage it was for.
    yield* Effect.promise(() => storage.deleteAlarm())
    return "deleted" as Swept
  }
  yield* Effect.promise(() => storage.setAlarm(next))
  memoOf(storage).alarmAt = next
  return "rearmed" as Swept
})
