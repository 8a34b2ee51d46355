import { Clock, Effect, Layer, Option } from "effect"
import type { ProductId } from "@shop/domain/Ids"
import { CatalogRepository, type ProductRecord } from "./CatalogRepository.ts"

export interface CacheOptions {
  // Upper bound on how long an entry is trusted, in case a write happens
  // somewhere this process does not see.
  readonly ttlMillis: number
  readonly maxEntries: number
}

// A read-through cache of product records in front of another repository, for
// runtimes where one process owns the catalog store (node). Every write in
// this process invalidates its product; a per-product version keeps a read
// that raced a write from caching what it read before the write.
// Availability is not cached: it is inventory's and always read live.
export const layer = (options: CacheOptions) =>
  Layer.effect(
    CatalogRepository,
    Effect.gen(function* () {
      const inner = yield* CatalogRepository
      const entries = new Map<ProductId, { readonly record: ProductRecord; readonly expiresAt: number }>()
      const versions = new Map<ProductId, number>()
      const versionOf = (id: ProductId) => versions.get(id) ?? 0
      const invalidate = (id: ProductId) => {
        versions.set(id, versionOf(id) + 1)
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

      return CatalogRepository.of({
        find: (productId) =>
          Effect.gen(function* () {
            const now = yield* Clock.currentTimeMillis
            const hit = entries.get(productId)
            if (hit !== undefined && hit.expiresAt > now) return Option.some(hit.record)
            const version = versionOf(productId)
            const found = yield* inner.find(productId)
            if (Option.isSome(found) && versionOf(productId) === version) store(found.value, now)
            return found
          }),
        // The page's ids come from the store (order and filters are its job);
        // the records come from the cache, the misses in one read.
        list: (query) =>
          Effect.gen(function* () {
            const now = yield* Clock.currentTimeMillis
            const { ids, total } = yield* inner.listIds(query)
            const hits = new Map<ProductId, ProductRecord>()
            const misses: Array<ProductId> = []
            for (const id of ids) {
              const hit = entries.get(id)
              if (hit !== undefined && hit.expiresAt > now) hits.set(id, hit.record)
              else misses.push(id)
            }
            if (misses.length > 0) {
              const before = new Map(misses.map((id) => [id, versionOf(id)]))
              for (const record of yield* inner.findMany(misses)) {
                hits.set(record.productId, record)
                if (versionOf(record.productId) === before.get(record.productId)) store(record, now)
              }
            }
            // A product deleted between the two reads is simply left out.
            const items = ids.flatMap((id) => {
              const record = hits.get(id)
              return record === undefined ? [] : [record]
            })
            return { items, total }
          }),
        listIds: inner.listIds,
        findMany: inner.findMany,
        insert: (product) =>
          inner.insert(product).pipe(Effect.ensuring(Effect.sync(() => invalidate(product.productId)))),
        replace: (product, expectedRevision) =>
          inner
            .replace(product, expectedRevision)
            .pipe(Effect.ensuring(Effect.sync(() => invalidate(product.productId)))),
        remove: (productId) => inner.remove(productId).pipe(Effect.ensuring(Effect.sync(() => invalidate(productId))))
      })
    })
  )
