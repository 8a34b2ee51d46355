import { Array as Arr, Deferred, Effect, Layer, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { maxSqlParameters } from "@shop/domain/SqlBatch"
import * as Traced from "@shop/domain/Traced"
import { type CartRecord, CartStore, decodeRecord, encodeRecordUnchecked } from "./CartStore.ts"

// Carts in one SQL table (migrations/cart/0001_init.sql), each cart one row
// holding its record as JSON text.
//
// The runtime that uses this store (node) is the only writer of its database,
// and every change to one cart runs under that cart's CartWriter, so a copy of
// the records this process read or wrote cannot go stale: a read of a hot cart
// is answered from memory, without SQL or JSON. The copy is write-through (a
// save writes the row first, then the copy), bounded (least recently used
// carts leave it first), and the sweep drops what it deletes.
//
// Plain reads (CartLive's `get`) do not take the writer, so a read from the
// table may overlap a save of the same cart and come back with the record the
// save replaced. Such a read answers what it read, but keeps no copy: only a
// read that no write of its cart overlapped fills the copy.
//
// A store shared by several processes must not keep one: use `maxCached: 0`.

export interface CacheOptions {
  // At most this many records are kept in memory; 0 keeps none.
  readonly maxCached: number
}

// A few thousand carts at a few KiB each: a few MiB at most.
export const defaultCacheOptions: CacheOptions = { maxCached: 5_000 }

// Three parameters a row.
const rowsPerUpsert = Math.floor(maxSqlParameters / 3)

const RecordRows = Schema.Array(Schema.Struct({ record: Schema.String }))
const decodeRows = Schema.decodeUnknownEffect(RecordRows)

/** @internal Lets a test hold a read between its SELECT and its copy, to overlap a write there. */
export interface TestHooks {
  readonly afterSelect?: Effect.Effect<void>
}

/** @internal `layer` without the Layer, and the cache size the tests bound. */
export const make = Traced.fn("CartStoreSql.make")(function* (
  options: CacheOptions = defaultCacheOptions,
  hooks: TestHooks = {}
) {
  const sql = yield* SqlClient.SqlClient
  // A Map iterates in insertion order; re-inserting on use keeps the least
  // recently used cart first, where eviction takes it.
  const cached = new Map<string, CartRecord>()
  // Carts with a read from the table in flight, and how many writes of each
  // finished since; entries leave with their last read, so this follows the
  // concurrency, not the number of carts.
  const reading = new Map<string, { readers: number; writes: number }>()
  // Called once a write is in the table.
  const wrote = (cartId: string) => {
    const reads = reading.get(cartId)
    if (reads !== undefined) reads.writes++
  }

  const remember = (record: CartRecord) => {
    if (options.maxCached <= 0) return
    const cartId = record.cart.cartId
    cached.delete(cartId)
    if (cached.size >= options.maxCached) {
      const oldest = cached.keys().next()
      if (oldest.done !== true) cached.delete(oldest.value)
    }
    cached.set(cartId, record)
  }

  const select = (cartId: string) =>
    sql`SELECT record FROM carts WHERE cart_id = ${cartId}`.pipe(
      Effect.flatMap(decodeRows),
      Effect.map((rows) => rows[0]),
      Effect.orDie
    )

  // Untraced (a read, mostly from memory, inside the cart method's span); `save` keeps its span.
  const find = Effect.fnUntraced(function* (cartId: string) {
    const hit = cached.get(cartId)
    if (hit !== undefined) {
      cached.delete(cartId)
      cached.set(cartId, hit)
      return Option.some(hit)
    }
    return yield* Effect.acquireUseRelease(
      Effect.sync(() => {
        let reads = reading.get(cartId)
        if (reads === undefined) {
          reads = { readers: 0, writes: 0 }
          reading.set(cartId, reads)
        }
        reads.readers++
        return { reads, writesBefore: reads.writes }
      }),
      ({ reads, writesBefore }) =>
        Effect.gen(function* () {
          const row = yield* select(cartId)
          if (hooks.afterSelect !== undefined) yield* hooks.afterSelect
          if (row === undefined) return Option.none<CartRecord>()
          // A stored record that does not decode was not written by this code: a defect.
          const record = decodeRecord(row.record)
          if (reads.writes === writesBefore) remember(record)
          return Option.some(record)
        }),
      ({ reads }) =>
        Effect.sync(() => {
          reads.readers--
          if (reads.readers === 0) reading.delete(cartId)
        })
    )
  })

  // The saves made at the same moment (the carts of concurrent requests) go
  // to the table as one multi-row upsert, new carts and old alike: one
  // statement and one commit for all of them instead of one each, which was
  // the biggest single cost of an add-to-cart on node (a commit writes its
  // pages to the WAL; a multi-row statement writes each page once). Every
  // caller still waits until its row is in the table, and each statement is
  // atomic on its own: a batch adds no new way to half-write a cart. A failed
  // statement fails every save it carried, as it failed the one save before.
  const writeAll = Effect.fnUntraced(function* (records: ReadonlyArray<CartRecord>) {
    // A cart has one writer, so one batch never holds two saves of a cart;
    // were it to, the later one is the cart's state, as in sequence.
    const latest = new Map<string, CartRecord>()
    for (const record of records) latest.set(record.cart.cartId, record)
    for (const part of Arr.chunksOf(Array.from(latest.values()), rowsPerUpsert)) {
      const rows: Array<Record<string, unknown>> = part.map((record) => ({
        cart_id: record.cart.cartId,
        record: encodeRecordUnchecked(record),
        expires_at: record.expiresAtMillis
      }))
      if (!Arr.isArrayNonEmpty(rows)) continue
      yield* sql`
        INSERT INTO carts ${sql.insert(rows)}
        ON CONFLICT (cart_id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at
      `.pipe(Effect.orDie)
    }
    for (const record of latest.values()) {
      wrote(record.cart.cartId)
      remember(record)
    }
  })

  // How saves are gathered: the first save of a moment leads. It yields once
  // (Effect.yieldNow, the window RequestResolver's default batching uses), so
  // that the saves other fibers make meanwhile join it, then writes them all
  // and hands each joiner the outcome. A joiner only waits. It replaced
  // Effect.request with a RequestResolver (an entry per save, a fiber forked
  // per batch): the same batches, and 491 against 512 us of CPU for one
  // add-to-cart at a time (runtimes/node/test/Pipeline.ts, four alternated
  // runs each); the same req/s under 32 connections. Writing each save at
  // once, without the yield, took 447 us alone but lost 9% of req/s under
  // load, where the batches are what saves the time.
  let gathering: Array<{ readonly record: CartRecord; readonly done: Deferred.Deferred<void> | undefined }> = []
  const lead = Effect.suspend(() => {
    const batch = gathering
    gathering = []
    return writeAll(batch.map((entry) => entry.record)).pipe(
      Effect.onExit((exit) =>
        Effect.sync(() => {
          for (const entry of batch) if (entry.done !== undefined) Deferred.doneUnsafe(entry.done, exit)
        })
      )
    )
  })
  const gather = (record: CartRecord): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (gathering.length > 0) {
        const done = Deferred.makeUnsafe<void>()
        gathering.push({ record, done })
        return Deferred.await(done)
      }
      gathering.push({ record, done: undefined })
      return Effect.andThen(Effect.yieldNow, lead)
    })

  const save = Traced.fn("CartStoreSql.save")(function* (record: CartRecord) {
    // Forgotten first: if the write fails, the next read goes to the table.
    cached.delete(record.cart.cartId)
    // Uninterruptible: an interrupted caller would otherwise give its cart's
    // writer back while its row may still be on its way to the table, and the
    // cart's next change could load the row this one replaces; and a leader
    // carries the saves of others.
    yield* Effect.uninterruptible(gather(record))
  })

  const remove = Traced.fn("CartStoreSql.remove")(function* (cartId: string) {
    cached.delete(cartId)
    yield* sql`DELETE FROM carts WHERE cart_id = ${cartId}`.pipe(Effect.orDie)
    wrote(cartId)
    // Again: a read that ended meanwhile may have put the row back.
    cached.delete(cartId)
  })

  // The sweep does not run under the carts' writers. Dropping every cached
  // record that is expired at `nowMillis` (rather than only the rows deleted)
  // also drops one that a read put back after the DELETE; a save that renewed
  // a cart meanwhile has a later expiry, and neither its row nor its copy goes.
  const removeExpired = Traced.fn("CartStoreSql.removeExpired")(function* (nowMillis: number) {
    const deleted = yield* sql`DELETE FROM carts WHERE expires_at <= ${nowMillis} RETURNING cart_id`.pipe(Effect.orDie)
    for (const [cartId, record] of cached) {
      if (record.expiresAtMillis <= nowMillis) cached.delete(cartId)
    }
    return deleted.length
  })

  return {
    store: CartStore.of({ find, save, remove, removeExpired }),
    cachedCount: () => cached.size,
    readsInFlight: () => reading.size
  }
})

/** The cart store over the SqlClient in context, with a bounded in-memory copy (see above). */
export const layerWith = (options: CacheOptions) =>
  Layer.effect(
    CartStore,
    Effect.map(make(options), ({ store }) => store)
  )

export const layer = layerWith(defaultCacheOptions)
