import { Clock, Effect, Layer, Option } from "effect"
import type { ProductId } from "@shop/domain/Ids"
import * as Traced from "@shop/domain/Traced"
import { CatalogRepository, type ProductRecord } from "./CatalogRepository.ts"

export interface CacheOptions {
  // Upper bound on how long an entry is trusted, in case a write happens
  // somewhere this process does not see.
  readonly ttlMillis: number
  readonly maxEntries: number
}

// A read-through cache of product records in front of another repository, for
// runtimes where one process owns the catalog store (node). Every write in
// this process invalidates its product, and a read that raced a write must not
// cache what it read before the write. Only products with a read in flight are
// tracked for that (a write counter each, dropped with the last such read), so
// the cache's memory follows `maxEntries` and the concurrency, not the number
// of products ever written.
// Availability is not cached here: it is inventory's, read from inventory on
// every request (on node, inventory keeps its own exact copy of its stock
// rows: InventoryRepositoryCached).
/** @internal `layer` without the Layer, and the sizes the tests bound. */
export const make = Traced.fn("CatalogRepositoryCached.make")(function* (options: CacheOptions) {
  const inner = yield* CatalogRepository
  const entries = new Map<ProductId, { readonly record: ProductRecord; readonly expiresAt: number }>()
  const inFlight = new Map<ProductId, { readers: number; writes: number }>()

  const invalidate = (id: ProductId) => {
    const reads = inFlight.get(id)
    if (reads !== undefined) reads.writes++
    entries.delete(id)
  }
  const store = (record: ProductRecord, now: number) => {
    // A Map iterates in insertion order: the first key is the oldest entry.
    if (entries.size >= options.maxEntries) {
      const oldest = entries.keys().next()
      if (oldest.done !== true) entries.delete(oldest.value)
    }
    entries.set(record.productId, { record, expiresAt: now + options.ttlMillis })
  }
  // Runs `read` while `ids` are tracked; `cache` gets the ids no write
  // touched meanwhile, before the tracking ends.
  const readTracked = <A>(
    ids: ReadonlyArray<ProductId>,
    read: Effect.Effect<A>,
    cache: (value: A, untouched: (id: ProductId) => boolean) => void
  ) =>
    Effect.acquireUseRelease(
      Effect.sync(() =>
        ids.map((id) => {
          let reads = inFlight.get(id)
          if (reads === undefined) {
            reads = { readers: 0, writes: 0 }
            inFlight.set(id, reads)
          }
          reads.readers++
          return { id, reads, writesBefore: reads.writes }
        })
      ),
      (tracked) =>
        Effect.map(read, (value) => {
          const untouched = new Set(tracked.filter((t) => t.reads.writes === t.writesBefore).map((t) => t.id))
          cache(value, (id) => untouched.has(id))
          return value
        }),
      (tracked) =>
        Effect.sync(() => {
          for (const { id, reads } of tracked) {
            reads.readers--
            if (reads.readers === 0) inFlight.delete(id)
          }
        })
    )

  // The records of `ids` that exist, in the order of `ids`: hits from the
  // cache, the misses in one read of the store.
  const recordsOf = Effect.fnUntraced(function* (ids: ReadonlyArray<ProductId>) {
    const now = yield* Clock.currentTimeMillis
    const hits = new Map<ProductId, ProductRecord>()
    const misses: Array<ProductId> = []
    for (const id of ids) {
      const hit = entries.get(id)
      if (hit !== undefined && hit.expiresAt > now) hits.set(id, hit.record)
      else misses.push(id)
    }
    if (misses.length > 0) {
      const records = yield* readTracked(misses, inner.findMany(misses), (found, untouched) => {
        for (const record of found) if (untouched(record.productId)) store(record, now)
      })
      for (const record of records) hits.set(record.productId, record)
    }
    // A product deleted meanwhile is simply left out.
    return ids.flatMap((id) => {
      const record = hits.get(id)
      return record === undefined ? [] : [record]
    })
  })

  const repository = CatalogRepository.of({
    // Untraced, as `findMany` and the store's own reads are: it runs in the catalog method's span.
    find: Effect.fnUntraced(function* (productId: ProductId) {
      const now = yield* Clock.currentTimeMillis
      const hit = entries.get(productId)
      if (hit !== undefined && hit.expiresAt > now) return Option.some(hit.record)
      return yield* readTracked([productId], inner.find(productId), (found, untouched) => {
        if (Option.isSome(found) && untouched(productId)) store(found.value, now)
      })
    }),
    // The page's ids come from the store (order and filters are its job);
    // the records come from the cache, the misses in one read.
    list: Effect.fnUntraced(function* (query) {
      const { items: ids, total, more } = yield* inner.listIds(query)
      return { items: yield* recordsOf(ids), total, more }
    }),
    listIds: inner.listIds,
    findMany: (ids) => recordsOf([...new Set(ids)]),
    insert: (product) => inner.insert(product).pipe(Effect.ensuring(Effect.sync(() => invalidate(product.productId)))),
    replace: (product, expectedRevision) =>
      inner.replace(product, expectedRevision).pipe(Effect.ensuring(Effect.sync(() => invalidate(product.productId)))),
    remove: (productId) => inner.remove(productId).pipe(Effect.ensuring(Effect.sync(() => invalidate(productId)))),
    // The reconciliation decides what to create and delete from these: they
    // must see the store as it is, not as it was cached.
    variantIds: inner.variantIds,
    existingVariants: inner.existingVariants
  })
  return { repository, sizes: () => ({ entries: entries.size, inFlight: inFlight.size }) }
})

export const layer = (options: CacheOptions) =>
  Layer.effect(
    CatalogRepository,
    Effect.map(make(options), (cache) => cache.repository)
  )
