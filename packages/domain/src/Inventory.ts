import { Schema } from "effect"
import { VariantId } from "./Ids.ts"

// The most stock one variant may hold; set and adjust both respect it.
export const maxStock = 1_000_000_000

export const StockLevel = Schema.Struct({
  variantId: VariantId,
  stock: Schema.Int,
  reserved: Schema.Int,
  available: Schema.Int
})
export type StockLevel = typeof StockLevel.Type

export const SetStockInput = Schema.Union([
  Schema.Struct({ stock: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: maxStock }))) }),
  Schema.Struct({
    adjust: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: -maxStock, maximum: maxStock })))
  })
])
export type SetStockInput = typeof SetStockInput.Type

export const Availability = Schema.Struct({ variantId: VariantId, available: Schema.Int })
export type Availability = typeof Availability.Type
