import { Schema } from "effect"
import * as Examples from "./Examples.ts"
import { VariantId } from "./Ids.ts"

// The most stock one variant may hold; set and adjust both respect it.
export const maxStock = 1_000_000_000

export const StockLevel = Schema.Struct({
  variantId: VariantId,
  stock: Schema.Int,
  reserved: Schema.Int,
  available: Schema.Int
}).annotate({ examples: [{ variantId: Examples.variantId, stock: 120, reserved: 2, available: 118 }] })
export type StockLevel = typeof StockLevel.Type

export const SetStockInput = Schema.Union([
  Schema.Struct({ stock: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: maxStock }))) }),
  Schema.Struct({
    adjust: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: -maxStock, maximum: maxStock })))
  })
]).annotate({ examples: [{ stock: 120 }, { adjust: -5 }] })
export type SetStockInput = typeof SetStockInput.Type

export const Availability = Schema.Struct({ variantId: VariantId, available: Schema.Int })
export type Availability = typeof Availability.Type

// Holds (reservations): stock set aside for a checkout until it is committed
// (sold), released, or expires. The checkout saga chooses the id, so that a
// retried start names the same hold instead of placing a second one; API.md
// calls it the reservationId.
export const HoldId = Schema.String.pipe(
  Schema.check(Schema.isPattern(/^res_[A-Za-z0-9]{1,64}$/u)),
  Schema.brand("HoldId")
)
export type HoldId = typeof HoldId.Type

// A hold leaves `active` exactly once, for committed, released or expired,
// and never comes back; a committed hold whose order was cancelled becomes
// `restocked` (its stock back on the shelf), once.
export const HoldStatus = Schema.Literals(["active", "committed", "released", "expired", "restocked"])
export type HoldStatus = typeof HoldStatus.Type

// A cart has at most 100 lines; a hold is taken for a whole cart.
export const maxHoldLines = 100
// HOLD_TTL_SECONDS and a reserve's own ttlSeconds stay within a day: a hold
// keeps stock from every other shopper while it lasts.
export const maxHoldTtlSeconds = 24 * 60 * 60

export const HoldLine = Schema.Struct({
  variantId: VariantId,
  quantity: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: maxStock })))
})
export type HoldLine = typeof HoldLine.Type

export const ReserveInput = Schema.Struct({
  holdId: HoldId,
  // The same variant twice counts as one line of the summed quantity.
  lines: Schema.Array(HoldLine).pipe(Schema.check(Schema.isBetweenLength(1, maxHoldLines))),
  // Absent: HOLD_TTL_SECONDS.
  ttlSeconds: Schema.optional(
    Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: maxHoldTtlSeconds })))
  )
})
export type ReserveInput = typeof ReserveInput.Type

export const Hold = Schema.Struct({
  holdId: HoldId,
  status: HoldStatus,
  // One line per variant, in the order first reserved.
  lines: Schema.Array(HoldLine),
  // ISO 8601.
  createdAt: Schema.String,
  expiresAt: Schema.String,
  // When it left `active`; null while active.
  settledAt: Schema.NullOr(Schema.String)
})
export type Hold = typeof Hold.Type

export const ExpiredHolds = Schema.Struct({ expired: Schema.Int })
export type ExpiredHolds = typeof ExpiredHolds.Type
