import { Context, type Effect, type Option, Schema, Struct } from "effect"
import { Product, type ProductSort, Variant } from "@shop/domain/Catalog"
import type { ProductId, VariantId } from "@shop/domain/Ids"
import { ImageContentType, ImageId } from "@shop/domain/Images"

// The stored shapes are the public ones (Catalog.ts) without what is worked
// out when a product is served (availability, which inventory owns; the
// lowest price; ISO dates), plus the write revision: a field added to
// `Variant` or `Product` is a stored field too.
export const VariantRecord = Variant.mapFields(Struct.omit(["available"]))
export type VariantRecord = typeof VariantRecord.Type

// An uploaded image: its bytes are the object `key` in the ImageStore.
export const ImageRecord = Schema.Struct({
  imageId: ImageId,
  key: Schema.String,
  contentType: ImageContentType,
  size: Schema.Int
})
export type ImageRecord = typeof ImageRecord.Type

export const ProductRecord = Product.mapFields((fields) => ({
  ...Struct.omit(fields, ["price", "variants", "createdAt", "updatedAt", "uploadedImages"]),
  variants: Schema.Array(VariantRecord),
  // `images` holds only the URLs typed in with create/update; the public
  // list puts these first (CatalogLive.toProduct).
  uploadedImages: Schema.Array(ImageRecord),
  createdAt: Schema.Number,
  updatedAt: Schema.Number,
  // Changes on every write; see `replace`.
  revision: Schema.String
}))
export type ProductRecord = typeof ProductRecord.Type

// A write refused because a SKU is taken; the service turns it into SkuExists.
export class SkuConflict extends Schema.TaggedError<SkuConflict>()("SkuConflict", { sku: Schema.String }) {}

// Where a cursor page starts: just after the product with this sort key
// (`sortKey`) and id, in the sort's order.
export interface ListPosition {
  readonly key: number | string
  readonly id: ProductId
}

// A list as the stores take it: `offset` rows skipped after `after` (when
// given), in `sort` order.
export interface ProductListQuery {
  readonly limit: number
  readonly offset: number
  readonly q?: string | undefined
  readonly category?: string | undefined
  readonly minPrice?: number | undefined
  readonly maxPrice?: number | undefined
  readonly sort: ProductSort
  readonly after?: ListPosition | undefined
}

// A page: `more` tells whether any matching product comes after it.
export interface ListResult<A> {
  readonly items: ReadonlyArray<A>
  readonly total: number
  readonly more: boolean
}

export class CatalogRepository extends Context.Service<
  CatalogRepository,
  {
    // Product and variants are written together or not at all.
    readonly insert: (product: ProductRecord) => Effect.Effect<void, SkuConflict>
    readonly find: (productId: ProductId) => Effect.Effect<Option.Option<ProductRecord>>
    readonly list: (query: ProductListQuery) => Effect.Effect<ListResult<ProductRecord>>
    // The same page as `list`, ids only: a cache in front can fill in the records.
    readonly listIds: (query: ProductListQuery) => Effect.Effect<ListResult<ProductId>>
    // The records that exist among `ids`, in any order.
    readonly findMany: (ids: ReadonlyArray<ProductId>) => Effect.Effect<ReadonlyArray<ProductRecord>>
    // Replaces the stored product (same id, same variant ids) in one atomic
    // step, only if its stored revision is still `expectedRevision`: an edit
    // made from a stale read is refused ("conflict") rather than applied.
    readonly replace: (
      product: ProductRecord,
      expectedRevision: string
    ) => Effect.Effect<"replaced" | "missing" | "conflict", SkuConflict>
    readonly remove: (productId: ProductId) => Effect.Effect<boolean>
    // For the reconciliation with inventory, read from the store itself (a
    // cache in front passes them through): up to `limit` variant ids in id
    // order, after `after` when given; and which of `ids` belong to a product.
    readonly variantIds: (after: VariantId | undefined, limit: number) => Effect.Effect<ReadonlyArray<VariantId>>
    readonly existingVariants: (ids: ReadonlyArray<VariantId>) => Effect.Effect<ReadonlyArray<VariantId>>
  }
>()("@shop/catalog/CatalogRepository") {}

export const minPrice = (variants: ReadonlyArray<VariantRecord>) =>
  variants.reduce((min, v) => (v.price.amount < min.price.amount ? v : min), variants[0]!).price

// Shared by the memory and SQL stores so that search, category match and
// title order agree on every runtime. SQLite's NOCASE and LIKE fold ASCII
// only, so the folded keys are computed here and stored beside the row.
export const fold = (text: string) => text.toLowerCase()

export const searchText = (product: { readonly title: string; readonly description: string; readonly sku: string }) =>
  fold(`${product.title}\n${product.description}\n${product.sku}`)

// The value a product is sorted by (then by id): what a cursor carries.
export const sortKey = (sort: ProductSort, product: ProductRecord): number | string => {
  switch (sort) {
    case "newest":
      return product.createdAt
    case "price_asc":
    case "price_desc":
      return minPrice(product.variants).amount
    case "title":
      return fold(product.title)
  }
}

// SQLite's BINARY collation compares UTF-8 bytes, which orders like code
// points; JavaScript's `<` compares UTF-16 units, which differs above U+FFFF.
export const compareCodePoints = (a: string, b: string): number => {
  const left = a[Symbol.iterator]()
  const right = b[Symbol.iterator]()
  for (;;) {
    const x = left.next()
    const y = right.next()
    if (x.done === true || y.done === true) return x.done === y.done ? 0 : x.done === true ? -1 : 1
    const cx = x.value.codePointAt(0) ?? 0
    const cy = y.value.codePointAt(0) ?? 0
    if (cx !== cy) return cx < cy ? -1 : 1
  }
}

const compareValues = (a: number | string, b: number | string): number =>
  typeof a === "number" && typeof b === "number" ? a - b : compareCodePoints(String(a), String(b))

/**
 * The order of every sort, as the SQL store's ORDER BY states it: negative
 * when `a` comes first. Newest is newest first then id descending; the others
 * end with the id ascending. Ids are ASCII, where `<` orders as BINARY does.
 */
export const comparePositions = (sort: ProductSort, a: ListPosition, b: ListPosition): number => {
  const byId = a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  switch (sort) {
    case "newest":
      return compareValues(b.key, a.key) || -byId
    case "price_desc":
      return compareValues(b.key, a.key) || byId
    case "price_asc":
    case "title":
      return compareValues(a.key, b.key) || byId
  }
}

export const positionOf = (sort: ProductSort, product: ProductRecord): ListPosition => ({
  key: sortKey(sort, product),
  id: product.productId
})
