import { Context, type Effect } from "effect"
import type { CreateProductInput, ListProducts, Product, ProductPage, UpdateProductInput } from "@shop/domain/Catalog"
import type { ProductNotFound, SkuExists, UpdateConflict, ValidationError } from "@shop/domain/Errors"
import type { ProductId } from "@shop/domain/Ids"

// The interface of the catalog service (implementation: CatalogLive.ts).
export class Catalog extends Context.Service<
  Catalog,
  {
    readonly list: (input: ListProducts) => Effect.Effect<ProductPage>
    readonly get: (input: { readonly productId: ProductId }) => Effect.Effect<Product, ProductNotFound>
    readonly create: (input: CreateProductInput) => Effect.Effect<Product, SkuExists | ValidationError>
    readonly update: (input: {
      readonly productId: ProductId
      readonly patch: UpdateProductInput
    }) => Effect.Effect<Product, ProductNotFound | SkuExists | UpdateConflict | ValidationError>
    readonly remove: (input: { readonly productId: ProductId }) => Effect.Effect<void, ProductNotFound>
  }
>()("@shop/catalog/Catalog") {}
