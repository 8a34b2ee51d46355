import { Clock, Effect, Layer, Option } from "effect"
import { Catalog } from "@shop/catalog/Catalog"
import type { Product } from "@shop/domain/Catalog"
import type { ProductId } from "@shop/domain/Ids"
import * as Traced from "@shop/domain/Traced"
import { Inventory } from "@shop/inventory/Inventory"
import * as CatalogVersion from "./CatalogVersion.ts"
import { VersionedCache } from "./CatalogVersion.ts"

// The catalog as a cart's Durable Object sees it (cart.ts): the catalog
// Worker's client, with `getMany` answered from the cart isolate's memory
// while the catalog version (CatalogVersion.ts) stands, and the stock of
// every variant read live from inventory, as Catalog.getMany itself does.
//
// Why: every cart change re-prices the cart with getMany. Through the catalog
// Worker that is one more Worker (its RPC server, the products encoded and
// decoded once more) in front of the same two reads this does: the version,
// and availability from the inventory Worker. A product changes only with a
// catalog write, and every committed write bumps the version before it
// answers; stock is never kept here.
//
// Exact, like the edge cache: the version is read BEFORE the products, a
// product is used only under the version it was read with, so a change is
// seen by the first call that starts after the write answered. When the
// version cannot be read, the call goes to the catalog Worker as before.

export interface ProductCacheOptions {
  readonly ttlMillis: number
  readonly maxEntries: number
}

// Per isolate: every cart object of this isolate shares it (an object builds
// its runtime, and so this layer, once per instance).
let shared: VersionedCache<ProductId, Product> | undefined

const withStock = (product: Product, available: ReadonlyMap<string, number>): Product => ({
  ...product,
  // As Catalog.getMany: a variant with no stock row has none available.
  variants: product.variants.map((variant) => ({ ...variant, available: available.get(variant.variantId) ?? 0 }))
})

/** Catalog over the catalog Worker's client, with getMany's products kept per version; needs Catalog and Inventory. */
export const layer = (namespace: DurableObjectNamespace | undefined, options: ProductCacheOptions) =>
  Layer.effect(
    Catalog,
    Effect.gen(function* () {
      const catalog = yield* Catalog
      const inventory = yield* Inventory
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
        const [fetched, levels] = yield* Effect.all(
          [
            // The misses come with their stock, read live by the catalog.
            misses.length === 0 ? Effect.succeed([]) : catalog.getMany({ productIds: misses }),
            kept.length === 0
              ? Effect.succeed([])
              : inventory.availability({ variantIds: kept.flatMap((p) => p.variants.map((v) => v.variantId)) })
          ],
          { concurrency: "unbounded" }
        )
        for (const product of fetched) cache.set(product.productId, version.value, product, now)
        const available = new Map(levels.map((level) => [level.variantId as string, level.available]))
        return [...kept.map((product) => withStock(product, available)), ...fetched]
      })

      return Catalog.of({ ...catalog, getMany })
    })
  )
