import { Effect, Layer, Option } from "effect"
import type { VariantId } from "@shop/domain/Ids"
import * as Traced from "@shop/domain/Traced"
import { InventoryRepository, type LevelRow } from "./InventoryRepository.ts"

export interface CacheOptions {
  // At most this many stock rows are kept; the least recently filled leaves first.
  readonly maxEntries: number
}

// A few tens of bytes a row: a few MiB at most.
export const defaultCacheOptions: CacheOptions = { maxEntries: 50_000 }

// Stock rows kept in memory in front of another repository, for a runtime
// where one process is the only writer of the inventory store and every
// write goes through this repository (node). Every product page and every
// cart change reads availability; with this, a read is a Map lookup instead
// of a statement.
//
// Why it is exact, not merely fresh:
// - What a read answers is the stored row (stock, reserved), nothing derived
//   from the time: a hold past its expiry still counts in `reserved` until
//   the sweep or a settlement expires it, and that is a write through here.
//   So the row read from the store changes only when a write changes it, and
//   an entry can be kept until the next write, whatever the clock says.
// - Every write drops the rows it may change when it starts and again when it
//   ends (however it ends: success, refusal, defect, interruption). Writes
//   that name their variants (stock set and adjusted, rows inserted and
//   deleted, a hold placed) drop those; writes that find their variants
//   through a hold (settle, expire, restock) drop every row.
// - A read fills entries only if no write was in flight when it started and
//   none started or ended before it finished (one counter of writes begun or
//   ended, and one of writes in flight). A read that overlapped a write may
//   have read the row from before the write: it answers what it read but
//   keeps nothing. So an entry is always a row read after the last write of
//   it ended, which is what the store holds.
// - Variants with no row are not kept: they go to the store every time.
//
// A store written by another process (Workers: one per isolate, D1 shared)
// must not be behind this.

/** @internal `layer` without the Layer, and the sizes the tests bound. */
export const make = Traced.fn("InventoryRepositoryCached.make")(function* (
  options: CacheOptions = defaultCacheOptions
) {
  const inner = yield* InventoryRepository
  // A Map iterates in insertion order: the first key is the oldest entry.
  const entries = new Map<VariantId, LevelRow>()
  let epoch = 0
  let writing = 0

  const drop = (variantIds: ReadonlyArray<VariantId> | "all") => {
    if (variantIds === "all") entries.clear()
    else for (const variantId of variantIds) entries.delete(variantId)
  }
  // `write` with its rows dropped before and after, and the counters that
  // keep overlapping reads from filling.
  const asWrite = <A>(variantIds: ReadonlyArray<VariantId> | "all", write: Effect.Effect<A>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        writing++
        epoch++
        drop(variantIds)
      }),
      () => write,
      () =>
        Effect.sync(() => {
          writing--
          epoch++
          drop(variantIds)
        })
    )

  const keep = (rows: ReadonlyArray<LevelRow>) => {
    for (const row of rows) {
      entries.delete(row.variantId)
      if (entries.size >= options.maxEntries) {
        const oldest = entries.keys().next()
        if (oldest.done !== true) entries.delete(oldest.value)
      }
      entries.set(row.variantId, row)
    }
  }
  // Runs `read`; `rowsOf` its answer are kept only if no write overlapped it.
  const readFilling = <A>(read: Effect.Effect<A>, rowsOf: (value: A) => ReadonlyArray<LevelRow>) =>
    Effect.suspend(() => {
      const before = writing === 0 ? epoch : -1
      return Effect.map(read, (value) => {
        if (before === epoch && writing === 0) keep(rowsOf(value))
        return value
      })
    })

  const repository = InventoryRepository.of({
    find: (variantId) =>
      Effect.suspend(() => {
        const hit = entries.get(variantId)
        if (hit !== undefined) return Effect.succeed(Option.some(hit))
        return readFilling(inner.find(variantId), (found) => (Option.isSome(found) ? [found.value] : []))
      }),
    // The rows of the variants asked for that exist, in the order asked: hits
    // from memory, the misses in one read of the store.
    findMany: (variantIds) =>
      Effect.suspend(() => {
        const found = new Map<VariantId, LevelRow>()
        let misses: Array<VariantId> | undefined
        for (const variantId of variantIds) {
          const hit = entries.get(variantId)
          if (hit !== undefined) found.set(variantId, hit)
          else (misses ??= []).push(variantId)
        }
        const inOrder = () => {
          const rows: Array<LevelRow> = []
          for (const variantId of new Set(variantIds)) {
            const row = found.get(variantId)
            if (row !== undefined) rows.push(row)
          }
          return rows
        }
        if (misses === undefined) return Effect.succeed(inOrder())
        return readFilling(inner.findMany(misses), (rows) => rows).pipe(
          Effect.map((rows) => {
            for (const row of rows) found.set(row.variantId, row)
            return inOrder()
          })
        )
      }),
    setStock: (variantId, stock, now) => asWrite([variantId], inner.setStock(variantId, stock, now)),
    adjustStock: (variantId, delta, now) => asWrite([variantId], inner.adjustStock(variantId, delta, now)),
    insertMany: (levels, now) =>
      asWrite(
        levels.map((level) => level.variantId),
        inner.insertMany(levels, now)
      ),
    deleteMany: (variantIds) => asWrite(variantIds, inner.deleteMany(variantIds)),
    // Reads only `updated_at`, which nothing here keeps.
    scan: inner.scan,
    reserve: (hold) =>
      asWrite(
        hold.lines.map((line) => line.variantId),
        inner.reserve(hold)
      ),
    findHold: inner.findHold,
    settle: (holdId, to, now) => asWrite("all", inner.settle(holdId, to, now)),
    expireDue: (now, limit) => asWrite("all", inner.expireDue(now, limit)),
    restock: (holdId, now) => asWrite("all", inner.restock(holdId, now))
  })
  return { repository, size: () => entries.size }
})

/** The repository in context, behind a cache of its stock rows (see above). */
export const layerWith = (options: CacheOptions) =>
  Layer.effect(
    InventoryRepository,
    Effect.map(make(options), (cache) => cache.repository)
  )

export const layer = layerWith(defaultCacheOptions)
