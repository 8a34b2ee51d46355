import { Context, type Effect } from "effect"
import type { StockBelowReserved, ValidationError, VariantNotFound } from "@shop/domain/Errors"
import type { VariantId } from "@shop/domain/Ids"
import type { Availability, StockLevel } from "@shop/domain/Inventory"

// The interface of the inventory service (implementation: InventoryLive.ts).
export class Inventory extends Context.Service<
  Inventory,
  {
    readonly get: (input: { readonly variantId: VariantId }) => Effect.Effect<StockLevel, VariantNotFound>
    readonly set: (input: {
      readonly variantId: VariantId
      readonly stock: number
    }) => Effect.Effect<StockLevel, VariantNotFound | StockBelowReserved | ValidationError>
    readonly adjust: (input: {
      readonly variantId: VariantId
      readonly delta: number
    }) => Effect.Effect<StockLevel, VariantNotFound | StockBelowReserved | ValidationError>
    // One call for any number of variants, so a product page or list costs one
    // round trip to this service. Unknown variants are reported with 0.
    readonly availability: (input: {
      readonly variantIds: ReadonlyArray<VariantId>
    }) => Effect.Effect<ReadonlyArray<Availability>>
    // Creates stock rows for new variants; existing rows are left as they are.
    readonly initialize: (input: {
      readonly levels: ReadonlyArray<{ readonly variantId: VariantId; readonly stock: number }>
    }) => Effect.Effect<void>
    readonly remove: (input: { readonly variantIds: ReadonlyArray<VariantId> }) => Effect.Effect<void>
  }
>()("@shop/inventory/Inventory") {}
