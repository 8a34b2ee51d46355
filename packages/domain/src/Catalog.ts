import { Schema, SchemaTransformation } from "effect"
import { BoundedText, MaxText, PlainString, plainText, Timestamp } from "./Text.ts"
import * as Examples from "./Examples.ts"
import { ProductId, VariantId } from "./Ids.ts"
import { Price } from "./Money.ts"
import { UploadedImage } from "./Images.ts"

export const Sku = PlainString.pipe(
  Schema.check(
    Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/u, { message: "must be 1-64 letters, digits, '.', '_' or '-'" })
  )
)

export const ImageUrl = plainText({ format: "uri", description: "An absolute http(s) URL" }).pipe(
  Schema.check(Schema.isMaxCodePoints(2048)),
  Schema.check(Schema.isPattern(/^https?:\/\/\S+$/u, { message: "must be an http(s) URL" }))
)

export const Attributes = Schema.Record(MaxText(100), MaxText(500)).pipe(Schema.check(Schema.isMaxProperties(32)))

export const WeightGrams = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000 })))
export const StockQuantity = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000_000 })))

export const Variant = Schema.Struct({
  variantId: VariantId,
  sku: Schema.String,
  title: Schema.String,
  price: Price,
  attributes: Schema.Record(Schema.String, Schema.String),
  weightGrams: Schema.Int,
  available: Schema.Int
})
export type Variant = typeof Variant.Type

export const Product = Schema.Struct({
  productId: ProductId,
  sku: Schema.String,
  title: Schema.String,
  description: Schema.String,
  category: Schema.String,
  // The uploaded images' URLs in the admin's order, then the URLs typed in
  // with create/update (`images` of the input).
  images: Schema.Array(Schema.String),
  // The uploaded images with their ids, for reordering and deleting them.
  uploadedImages: Schema.Array(UploadedImage),
  price: Price,
  variants: Schema.Array(Variant),
  createdAt: Timestamp,
  updatedAt: Timestamp
}).annotate({ examples: [Examples.product] })
export type Product = typeof Product.Type

export const ProductSort = Schema.Literals(["newest", "price_asc", "price_desc", "title"])
export type ProductSort = typeof ProductSort.Type

const decimal = /^-?[0-9]+$/u

/**
 * An integer query parameter. Query strings arrive as text; this takes only
 * plain decimal digits (no `1e3`, `0x10` or blanks) and bounds the number.
 * JSON Schema sees the text; `x-query-integer` carries the integer it stands
 * for, which the document's last step (ApiDocument.ts) turns into
 * `type: integer` with these bounds and default: one definition for both.
 */
export const QueryInt = (options: {
  readonly minimum: number
  readonly maximum: number
  readonly default?: number
  readonly description: string
}) => {
  const { minimum, maximum, description } = options
  const fallback = options.default === undefined ? {} : { default: options.default }
  return Schema.String.pipe(
    Schema.check(
      Schema.isPattern(decimal, {
        message: "must be an integer",
        toJsonSchema: () => ({
          pattern: decimal.source,
          "x-query-integer": { type: "integer", minimum, maximum, ...fallback, description }
        })
      })
    ),
    Schema.decodeTo(
      Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum, maximum }))),
      SchemaTransformation.transform<number, string>({ decode: (s) => Number(s), encode: (n) => String(n) })
    )
  )
}

export const defaultProductPageSize = 20
export const defaultProductSort: ProductSort = "newest"

export const ProductQuery = Schema.Struct({
  limit: Schema.optional(
    QueryInt({ minimum: 1, maximum: 100, default: defaultProductPageSize, description: "Page size" })
  ),
  offset: Schema.optional(
    QueryInt({
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
      description: "How many products to skip; costs grow with it, `cursor` does not"
    })
  ),
  q: Schema.optional(BoundedText(1, 200)),
  category: Schema.optional(BoundedText(1, 100)),
  minPrice: Schema.optional(
    QueryInt({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "Lowest price, minor units" })
  ),
  maxPrice: Schema.optional(
    QueryInt({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "Highest price, minor units" })
  ),
  sort: Schema.optional(ProductSort.annotate({ default: defaultProductSort })),
  cursor: Schema.optional(
    BoundedText(1, 2000).annotate({
      description:
        "Opaque: the `nextCursor` of the previous page, with the same q, category, price range and sort (no `offset`). Costs the same however deep the page"
    })
  )
})
export type ProductQuery = typeof ProductQuery.Type

export const ListProducts = Schema.Struct({
  limit: Schema.Int,
  // Absent when the caller gave none: a `cursor` with an `offset` is refused.
  offset: Schema.optional(Schema.Int),
  // The previous page's `nextCursor`; only the catalog service reads it.
  cursor: Schema.optional(Schema.String),
  q: Schema.optional(Schema.String),
  category: Schema.optional(Schema.String),
  minPrice: Schema.optional(Schema.Int),
  maxPrice: Schema.optional(Schema.Int),
  sort: ProductSort
})
export type ListProducts = typeof ListProducts.Type

export const ProductPage = Schema.Struct({
  items: Schema.Array(Product),
  total: Schema.Int,
  limit: Schema.Int,
  offset: Schema.Int,
  // Where the next page starts (pass it as `cursor`), null on the last page.
  nextCursor: Schema.NullOr(Schema.String)
}).annotate({ examples: [{ items: [Examples.product], total: 1, limit: 20, offset: 0, nextCursor: null }] })
export type ProductPage = typeof ProductPage.Type

export const VariantInput = Schema.Struct({
  sku: Sku,
  title: Schema.optional(BoundedText(1, 200)),
  price: Price,
  attributes: Schema.optional(Attributes),
  weightGrams: Schema.optional(WeightGrams),
  stock: Schema.optional(StockQuantity)
})
export type VariantInput = typeof VariantInput.Type

const productFields = {
  sku: Sku,
  title: BoundedText(1, 200),
  description: Schema.optional(BoundedText(0, 10_000)),
  category: Schema.optional(BoundedText(1, 100)),
  images: Schema.optional(Schema.Array(ImageUrl).pipe(Schema.check(Schema.isMaxLength(20))))
}

// API.md: a product with one variant may give `price` (and `stock`) at the top
// level instead of a `variants` array. Both forms are accepted, never both.
export const CreateProductInput = Schema.Union([
  Schema.Struct({
    ...productFields,
    variants: Schema.Array(VariantInput).pipe(Schema.check(Schema.isBetweenLength(1, 100)))
  }),
  Schema.Struct({
    ...productFields,
    price: Price,
    stock: Schema.optional(StockQuantity),
    attributes: Schema.optional(Attributes),
    weightGrams: Schema.optional(WeightGrams)
  })
]).annotate({
  examples: [
    {
      sku: "TEE-ORG",
      title: "Organic cotton T-shirt",
      description: "A heavyweight T-shirt of organic cotton, cut straight.",
      category: "apparel",
      images: ["https://cdn.example.com/products/tee-org-black.jpg"],
      variants: [
        {
          sku: "TEE-ORG-BLK-M",
          title: "Black / M",
          price: Examples.price(1299),
          attributes: { color: "black", size: "M" },
          weightGrams: 180,
          stock: 120
        },
        {
          sku: "TEE-ORG-BLK-L",
          title: "Black / L",
          price: Examples.price(1299),
          attributes: { color: "black", size: "L" },
          weightGrams: 195,
          stock: 64
        }
      ]
    },
    { sku: "MUG-ENAMEL", title: "Enamel camp mug", category: "kitchen", price: Examples.price(1500), stock: 40 }
  ]
})
export type CreateProductInput = typeof CreateProductInput.Type

export const VariantPatch = Schema.Struct({
  variantId: VariantId,
  sku: Schema.optional(Sku),
  title: Schema.optional(BoundedText(1, 200)),
  price: Schema.optional(Price),
  attributes: Schema.optional(Attributes),
  weightGrams: Schema.optional(WeightGrams)
})
export type VariantPatch = typeof VariantPatch.Type

export const UpdateProductInput = Schema.Struct({
  sku: Schema.optional(Sku),
  title: Schema.optional(BoundedText(1, 200)),
  description: Schema.optional(BoundedText(0, 10_000)),
  category: Schema.optional(BoundedText(1, 100)),
  images: Schema.optional(Schema.Array(ImageUrl).pipe(Schema.check(Schema.isMaxLength(20)))),
  // Shorthand for a one-variant product, mirroring create.
  price: Schema.optional(Price),
  variants: Schema.optional(Schema.Array(VariantPatch).pipe(Schema.check(Schema.isMaxLength(100))))
}).annotate({
  examples: [
    {
      title: "Organic cotton T-shirt, heavyweight",
      variants: [{ variantId: Examples.otherVariantId, price: Examples.price(1399) }]
    }
  ]
})
export type UpdateProductInput = typeof UpdateProductInput.Type
