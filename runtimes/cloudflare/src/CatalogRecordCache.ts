import { Clock, Effect, Layer, Option } from "effect"
import { CatalogRepository, type ProductRecord } from "@shop/catalog/CatalogRepository"
import type { ProductId } from "@shop/domain/Ids"
import * as Traced from "@shop/domain/Traced"
import * as CatalogVersion from "./CatalogVersion.ts"
import { VersionedCache } from "./CatalogVersion.ts"

// The catalog Worker's product records, kept in the isolate's memory under the
// catalog version (CatalogVersion.ts), in front of the D1 repository.
//
// Why: every cart change re-prices the cart with Catalog.getMany, which read
// the records from D1 each time (two queries, each two more isolate hops
// under local workerd and a round trip to the database when deployed). One
// read of the version (an object answering from memory) replaces them while
// the catalog is unchanged. Availability is not a record: Catalog still reads
// it live from inventory on every call, so stock is never served from here.
//
// Exact, like the gateway's edge cache: the version is read BEFORE the
// records, an entry is used only under the version it was read with, and
// every committed write bumps the version before it answers (the Catalog
// wrapper in CatalogVersion.ts). A reader racing a write can only keep what
// it read under the version it read first, which the bump makes unreachable;
// a read that starts after a write answered sees the new version. The
// node runtime's cache (CatalogRepositoryCached) tracks writes itself because
// one process owns the store there; here other isolates write, hence the
// shared version.
//
// When the version cannot be read, the read goes to D1 and nothing is kept.
// The TTL only bounds how long a record outlives a bump that failed (logged
// by the writer).

export interface RecordCacheOptions {
  readonly ttlMillis: number
  readonly maxEntries: number
}

/** CatalogRepository with `find` and `findMany` served from the isolate's memory; needs the D1 one. */
export const layer = (namespace: DurableObjectNamespace | undefined, options: RecordCacheOptions) =>
  Layer.effect(
    CatalogRepository,
    Effect.gen(function* () {
      const inner = yield* CatalogRepository
      if (namespace === undefined) return inner
      const cache = new VersionedCache<ProductId, ProductRecord>(options)
      const currentVersion = Effect.tap(CatalogVersion.reader(namespace), (version) =>
        Option.isSome(version) ? Effect.sync(() => cache.seen(version.value)) : Effect.void
      )
      // A write made here drops its product at once (the bump after it does
      // the same for every isolate).
      const forget = (id: ProductId) => Effect.sync(() => cache.delete(id))

      const findMany = Traced.fn("CatalogRecordCache.findMany")(function* (ids: ReadonlyArray<ProductId>) {
        const version = yield* currentVersion
        if (Option.isNone(version)) return yield* inner.findMany(ids)
        const now = yield* Clock.currentTimeMillis
        const found: Array<ProductRecord> = []
        const misses: Array<ProductId> = []
        for (const id of new Set(ids)) {
          const record = cache.get(id, version.value, now)
          if (record === undefined) misses.push(id)
          else found.push(record)
        }
        if (misses.length === 0) return found
        for (const record of yield* inner.findMany(misses)) {
          cache.set(record.productId, version.value, record, now)
          found.push(record)
        }
        return found
      })

      const find = Traced.fn("CatalogRecordCache.find")(function* (productId: ProductId) {
        const version = yield* currentVersion
        if (Option.isNone(version)) return yield* inner.find(productId)
        const now = yield* Clock.currentTimeMillis
        const record = cache.get(productId, version.value, now)
        if (record !== undefined) return Option.some(record)
        const read = yield* inner.find(productId)
        if (Option.isSome(read)) cache.set(productId, version.value, read.value, now)
        return read
      })

      return CatalogRepository.of({
        ...inner,
        find,
        findMany,
        insert: (product) => inner.insert(product).pipe(Effect.ensuring(forget(product.productId))),
        replace: (product, expectedRevision) =>
          inner.replace(product, expectedRevision).pipe(Effect.ensuring(forget(product.productId))),
        remove: (productId) => inner.remove(productId).pipe(Effect.ensuring(forget(productId)))
      })
    })
  )
