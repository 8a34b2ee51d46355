import { Effect, Layer, Option } from "effect"
import type { ProductId } from "@shop/domain/Ids"
import {
  CatalogRepository,
  comparePositions,
  fold,
  minPrice,
  type ProductListQuery,
  type ProductRecord,
  positionOf,
  SkuConflict,
  searchText
} from "./CatalogRepository.ts"

// Mirrors the SQL store's semantics: case-insensitive substring search over
// title, description and SKU; case-insensitive category; price filters on the
// lowest variant price; every sort ends with the id to be stable, and a cursor
// page starts strictly after its position in that same order.
export const layer = Layer.sync(CatalogRepository, () => {
  const products = new Map<ProductId, ProductRecord>()
  const productSkus = new Map<string, ProductId>()
  const variantSkus = new Map<string, ProductId>()

  // Checks every SKU before writing any, so a refused write changes nothing.
  const conflict = (product: ProductRecord): Option.Option<string> => {
    const owner = productSkus.get(product.sku)
    if (owner !== undefined && owner !== product.productId) return Option.some(product.sku)
    for (const variant of product.variants) {
      const variantOwner = variantSkus.get(variant.sku)
      if (variantOwner !== undefined && variantOwner !== product.productId) return Option.some(variant.sku)
    }
    return Option.none()
  }

  const unindex = (product: ProductRecord) => {
    productSkus.delete(product.sku)
    for (const variant of product.variants) variantSkus.delete(variant.sku)
  }

  const index = (product: ProductRecord) => {
    productSkus.set(product.sku, product.productId)
    for (const variant of product.variants) variantSkus.set(variant.sku, product.productId)
  }

  const page = (query: ProductListQuery) => {
    const q = query.q === undefined ? undefined : fold(query.q)
    const category = query.category === undefined ? undefined : fold(query.category)
    const matching = Array.from(products.values()).flatMap((p) => {
      const price = minPrice(p.variants).amount
      if (q !== undefined && !searchText(p).includes(q)) return []
      if (category !== undefined && fold(p.category) !== category) return []
      if (query.minPrice !== undefined && price < query.minPrice) return []
      if (query.maxPrice !== undefined && price > query.maxPrice) return []
      return [{ product: p, position: positionOf(query.sort, p) }]
    })
    matching.sort((a, b) => comparePositions(query.sort, a.position, b.position))
    const after = query.after
    const start =
      after === undefined ? 0 : matching.findIndex((m) => comparePositions(query.sort, m.position, after) > 0)
    const from = (start < 0 ? matching.length : start) + query.offset
    return {
      items: matching.slice(from, from + query.limit).map((m) => m.product),
      total: matching.length,
      more: from + query.limit < matching.length
    }
  }

  return CatalogRepository.of({
    insert: (product) =>
      Effect.suspend(() => {
        const taken = conflict(product)
        if (Option.isSome(taken)) return Effect.fail(new SkuConflict({ sku: taken.value }))
        products.set(product.productId, product)
        index(product)
        return Effect.void
      }),
    find: (productId) => Effect.sync(() => Option.fromNullishOr(products.get(productId))),
    list: (query) => Effect.sync(() => page(query)),
    listIds: (query) =>
      Effect.sync(() => {
        const { items, total, more } = page(query)
        return { items: items.map((p) => p.productId), total, more }
      }),
    findMany: (ids) =>
      Effect.sync(() =>
        ids.flatMap((id) => {
          const found = products.get(id)
          return found === undefined ? [] : [found]
        })
      ),
    replace: (product, expectedRevision) =>
      Effect.suspend(() => {
        const existing = products.get(product.productId)
        if (!existing) return Effect.succeed("missing" as const)
        if (existing.revision !== expectedRevision) return Effect.succeed("conflict" as const)
        const taken = conflict(product)
        if (Option.isSome(taken)) return Effect.fail(new SkuConflict({ sku: taken.value }))
        unindex(existing)
        products.set(product.productId, product)
        index(product)
        return Effect.succeed("replaced" as const)
      }),
    remove: (productId) =>
      Effect.sync(() => {
        const existing = products.get(productId)
        if (!existing) return false
        products.delete(productId)
        unindex(existing)
        return true
      }),
    // Ids are ASCII, where `<` orders as SQLite's BINARY collation does.
    variantIds: (after, limit) =>
      Effect.sync(() =>
        Array.from(products.values())
          .flatMap((p) => p.variants.map((v) => v.variantId))
          .filter((id) => after === undefined || id > after)
          .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))
          .slice(0, limit)
      ),
    existingVariants: (ids) =>
      Effect.sync(() => {
        const wanted = new Set(ids)
        return Array.from(products.values()).flatMap((p) =>
          p.variants.flatMap((v) => (wanted.has(v.variantId) ? [v.variantId] : []))
        )
      })
  })
})
