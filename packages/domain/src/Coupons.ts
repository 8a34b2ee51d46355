import { Schema } from "effect"
import { Timestamp } from "./Text.ts"
import * as Examples from "./Examples.ts"
import { Money } from "./Money.ts"

// Coupons (API.md, "Coupons and taxes"). Codes are case-insensitive: they are
// stored and shown in upper case, so `save10` and `SAVE10` are one coupon.
export const CouponCode = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(/^[A-Za-z0-9_-]{3,32}$/u, {
      message: "must be 3 to 32 letters, digits, '-' or '_'"
    })
  )
)
export type CouponCode = typeof CouponCode.Type

// The canonical form of a code (the key in every store).
export const normalizeCode = (code: string): string => code.trim().toUpperCase()

// `percent`: `value` percent (1..100) off the cart; `fixed`: `value` minor
// units off, in the cart's currency; the shipping types are applied by
// fulfillment (Fulfillment.ShippingCoupon): `free_shipping` (no value, or 0),
// `percent_shipping` (1..100), `fixed_shipping` (minor units, more than 0).
export const CouponType = Schema.Literals(["percent", "fixed", "free_shipping", "percent_shipping", "fixed_shipping"])
export type CouponType = typeof CouponType.Type

export const CouponValue = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 100_000_000_00 })))

// An instant, ISO 8601 with a zone (`2026-12-31T23:59:59Z`); shown as UTC.
const instantPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/u
export const Instant = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(instantPattern, {
      message: "must be an ISO 8601 date and time with a zone, e.g. 2026-12-31T23:59:59Z"
    }),
    Schema.makeFilter((s: string) => !Number.isNaN(Date.parse(s)) || "must be a real date and time", {
      expected: "a real date and time"
    })
  )
).annotate({
  format: "date-time",
  description: "ISO 8601 date and time with a zone (2026-12-31T23:59:59Z), a real calendar instant"
})

export const Limit = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 1_000_000_000 })))

export const CreateCouponInput = Schema.Struct({
  code: CouponCode,
  type: CouponType,
  value: Schema.optional(CouponValue),
  minCart: Schema.optional(Money),
  expiresAt: Schema.optional(Instant),
  usageLimit: Schema.optional(Limit),
  perCustomerLimit: Schema.optional(Limit)
}).annotate({ examples: [Examples.createCoupon] })
export type CreateCouponInput = typeof CreateCouponInput.Type

// A coupon's definition, as stored (without its redemption count).
export const CouponDefinition = Schema.Struct({
  code: Schema.String,
  type: CouponType,
  value: Schema.Int,
  minCart: Schema.optional(Money),
  expiresAt: Schema.optional(Timestamp),
  usageLimit: Schema.optional(Schema.Int),
  perCustomerLimit: Schema.optional(Schema.Int),
  createdAt: Timestamp
})
export type CouponDefinition = typeof CouponDefinition.Type

// A coupon as shown: its definition and `used`, the count of its redemptions.
export const Coupon = Schema.Struct({ ...CouponDefinition.fields, used: Schema.Int }).annotate({
  examples: [Examples.coupon]
})
export type Coupon = typeof Coupon.Type

export const Coupons = Schema.Struct({ coupons: Schema.Array(Coupon) }).annotate({
  examples: [{ coupons: [Examples.coupon] }]
})
export type Coupons = typeof Coupons.Type
