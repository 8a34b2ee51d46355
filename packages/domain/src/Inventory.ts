import { Schema } from "effect"
import { VariantId } from "./Ids.ts"

export const StockLevel = Schema.Struct({
  variantId: VariantId,
  stock: Schema.Int,
  reserved: Schema.Int,
  available: Schema.Int
})
export type StockLevel = typeof StockLevel.Type

export const SetStockInput = Schema.Union([
  Schema.Struct({ stock: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000_000 }))) }),
  Schema.Struct({
    adjust: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: -1_000_000_000, maximum: 1_000_000_000 })))
  })
])
export type SetStockInput = typeof SetStockInput.Type

export const Availability = Schema.Struct({ variantId: VariantId, available: Schema.Int })
export type Availability = typeof Availability.Type
