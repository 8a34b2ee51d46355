import { Schema } from "effect"
import { BoundedText, PlainString } from "./Text.ts"
import { ProductId, VariantId } from "./Ids.ts"
import { Price } from "./Money.ts"
import { UploadedImage } from "./Images.ts"

export const Sku = PlainString.pipe(
  Schema.check(
    Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { message: "must be 1-64 letters, digits, '.', '_' or '-'" })
  )
)

export const ImageUrl = PlainString.pipe(
  Schema.check(Schema.isMaxLength(2048)),
  Schema.check(Schema.isPattern(/^https?:\/\/\S+$/, { message: "must be an http(s) URL" }))
)

export const Attributes = Schema.Record(
  PlainString.pipe(Schema.check(Schema.isMaxLength(100))),
  PlainString.pipe(Schema.check(Schema.isMaxLength(500)))
).pipe(Schema.check(Schema.isMaxProperties(32)))

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
  createdAt: Schema.String,
  updatedAt: Schema.String
})
export type Product = typeof Product.Type

export const ProductSort = Schema.Literals(["newest", "price_asc", "price_desc", "title"])
export type ProductSort = typeof ProductSort.Type

export const IntFromString = Schema.NumberFromString.pipe(Schema.check(Schema.isInt()))

// Query strings arrive as text; these decode them into bounded integers.
export const ProductQuery = Schema.Struct({
  limit: Schema.optional(IntFromString.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 100 })))),
  offset: Schema.optional(IntFromString.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000 })))),
  q: Schema.optional(BoundedText(1, 200)),
  category: Schema.optional(BoundedText(1, 100)),
  minPrice: Schema.optional(IntFromString.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))),
  maxPrice: Schema.optional(IntFromString.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))),
  sort: Schema.optional(ProductSort)
})
export type ProductQuery = typeof ProductQuery.Type

export const ListProducts = Schema.Struct({
  limit: Schema.Int,
  offset: Schema.Int,
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
  offset: Schema.Int
})
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
])
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
})
export type UpdateProductInput = typeof UpdateProductInput.Type
