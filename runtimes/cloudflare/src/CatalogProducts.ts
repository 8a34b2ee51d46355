import { Clock, Effect, Layer, Option } from "effect"
import { Catalog } from "@shop/catalog/Catalog"
import type { Product } from "@shop/domain/Catalog"
import type { ProductId } from "@shop/domain/Ids"
import * as Traced from "@shop/domain/Traced"
import * as CatalogVersion from "./CatalogVersion.ts"
import { VersionedCache } from "./CatalogVersion.ts"

// The catalog as a cart's Durable Object sees it (cart.ts): the catalog
// Worker's client, with `getMany` answered from the cart isolate's memory
// while the catalog version (CatalogVersion.ts) stands: the products as the
// catalog Worker answered them, availability included.
//
// Why: every cart change re-prices the cart with getMany and checks stock
// against its `available`. Through the catalog Worker that is two more
// Workers (the catalog's RPC server, then inventory's, and a D1 query) on
// every change. A product changes only with a catalog write and its
// availability only with a stock write (admin set and adjust, every step of
// a hold: reserve, commit, release, restock, expiry), and every one of them
// bumps the version after it commits and before it answers.
//
// Exact, like the edge cache, which keeps the same availability in its
// product answers: the version is read BEFORE the products, a product is
// used only under the version it was read with, so a change (a sale, a hold
// of another cart) is seen by the first call that starts after the write
// answered. A write that commits between the two reads leaves its new value
// under the old version, which its bump then makes unreachable. When the
// version cannot be read, the call goes to the catalog Worker, as before.
// The TTL only bounds how long a value outlives a bump that failed (logged).

export interface ProductCacheOptions {
  readonly ttlMillis: number
  readonly maxEntries: number
}

// Per isolate: every cart object of this isolate shares it (an object builds
// its runtime, and so this layer, once per instance).
let shared: VersionedCache<ProductId, Product> | undefined

/** Catalog over the catalog Worker's client, with getMany's products kept per version; needs Catalog. */
export const layer = (namespace: DurableObjectNamespace | undefined, options: ProductCacheOptions) =>
  Layer.effect(
    Catalog,
    Effect.gen(function* () {
      const catalog = yield* Catalog
      if (namespace === undefined) return catalog
      const cache = (shared ??= new VersionedCache<ProductId, Product>(options))
      const currentVersion = CatalogVersion.reader(namespace)

      const getMany = Traced.fn("CatalogProducts.getMany")(function* (input: {
        readonly productIds: ReadonlyArray<ProductId>
      }) {
        const version = yield* currentVersion
        if (Option.isNone(version)) return yield* catalog.getMany(input)
        cache.seen(version.value)
        const now = yield* Clock.currentTimeMillis
        const kept: Array<Product> = []
        const misses: Array<ProductId> = []
        for (const id of new Set(input.productIds)) {
          const product = cache.get(id, version.value, now)
          if (product === undefined) misses.push(id)
          else kept.push(product)
        }
        if (misses.length === 0) return kept
        // The misses come with their stock, read live by the catalog.
        const fetched = yield* catalog.getMany({ productIds: misses })
        for (const product of fetched) cache.set(product.productId, version.value, product, now)
        return [...kept, ...fetched]
      })

      return Catalog.of({ ...catalog, getMany })
    })
  )
