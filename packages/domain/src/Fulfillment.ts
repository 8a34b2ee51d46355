import { Schema } from "effect"
import * as Examples from "./Examples.ts"
import { Money } from "./Money.ts"
import { MaxText } from "./Text.ts"

// Shipping methods every destination is quoted for (API.md, "Cart").
export const ShippingMethodId = Schema.Literals(["standard", "express", "priority"])
export type ShippingMethodId = typeof ShippingMethodId.Type

// A calendar date, `YYYY-MM-DD` (ISO 8601), in UTC.
export const IsoDate = Schema.String.pipe(
  Schema.check(Schema.isPattern(/^\d{4}-\d{2}-\d{2}$/u, { message: "must be a date as YYYY-MM-DD" }))
).annotate({ format: "date" })

export const ShippingOption = Schema.Struct({
  methodId: ShippingMethodId,
  title: Schema.String,
  cost: Money,
  // Business days (Monday to Friday) from today to delivery.
  transitDays: Schema.Int,
  eta: IsoDate
})
export type ShippingOption = typeof ShippingOption.Type

export const ShippingOptions = Schema.Struct({ shippingOptions: Schema.Array(ShippingOption) }).annotate({
  examples: [{ shippingOptions: Examples.shippingOptions }]
})
export type ShippingOptions = typeof ShippingOptions.Type

// Shipping coupons (API.md, "Coupons and taxes"): `free_shipping` makes
// standard shipping free; `percent_shipping` takes `value` percent (1..100)
// off every method; `fixed_shipping` takes `value` minor units off every
// method, never below zero.
export const ShippingCoupon = Schema.Union([
  Schema.Struct({ type: Schema.Literal("free_shipping") }),
  Schema.Struct({
    type: Schema.Literal("percent_shipping"),
    value: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 100 })))
  }),
  Schema.Struct({
    type: Schema.Literal("fixed_shipping"),
    value: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 100_000_000_00 })))
  })
])
export type ShippingCoupon = typeof ShippingCoupon.Type

// An address as a client or a cart hands it over, not yet checked: every
// field may be missing, so that validation can name the one that is.
const Text = MaxText(200)
export const AddressCandidate = Schema.Struct({
  name: Schema.optional(Text),
  line1: Schema.optional(Text),
  line2: Schema.optional(Text),
  city: Schema.optional(Text),
  region: Schema.optional(Text),
  postalCode: Schema.optional(Text),
  country: Schema.optional(Text),
  phone: Schema.optional(Text)
})
export type AddressCandidate = typeof AddressCandidate.Type

// A validated address: required fields present, an ISO 3166-1 alpha-2
// country, the postal code in its country's format (normalized: upper case,
// canonical spacing), and for countries taxed or shipped by region (US, CA,
// AU) the region's code.
export const ShippingAddress = Schema.Struct({
  name: Schema.optional(Schema.String),
  line1: Schema.String,
  line2: Schema.optional(Schema.String),
  city: Schema.String,
  region: Schema.optional(Schema.String),
  postalCode: Schema.String,
  country: Schema.String,
  phone: Schema.optional(Schema.String)
})
export type ShippingAddress = typeof ShippingAddress.Type

export const WeightGrams = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000_000 })))

export const QuoteInput = Schema.Struct({
  destination: AddressCandidate,
  weightGrams: WeightGrams,
  subtotal: Money,
  coupon: Schema.optional(ShippingCoupon)
})
export type QuoteInput = typeof QuoteInput.Type

// A country (`US`) or one of its regions (`US-CA`, ISO 3166-2 style).
export const TaxRegion = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/u, {
      message: "must be an ISO 3166-1 alpha-2 code, optionally with a region (US-CA)"
    })
  )
)

// Basis points: 825 = 8.25%.
export const BasisPoints = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 10_000 })))

export const TaxRate = Schema.Struct({
  country: TaxRegion,
  rate: BasisPoints,
  shippingTaxable: Schema.Boolean
}).annotate({ examples: [{ country: "US-CA", rate: 825, shippingTaxable: false }] })
export type TaxRate = typeof TaxRate.Type

export const SetTaxRateInput = Schema.Struct({
  rate: BasisPoints,
  shippingTaxable: Schema.optional(Schema.Boolean)
}).annotate({ examples: [{ rate: 825, shippingTaxable: false }] })
export type SetTaxRateInput = typeof SetTaxRateInput.Type

export const TaxRates = Schema.Struct({ rates: Schema.Array(TaxRate) }).annotate({
  examples: [
    {
      rates: [
        { country: "US-CA", rate: 825, shippingTaxable: false },
        { country: "DE", rate: 1900, shippingTaxable: true }
      ]
    }
  ]
})
export type TaxRates = typeof TaxRates.Type

// Where the goods go, for picking a tax rate: `region` may be a code (`CA`)
// or already qualified (`US-CA`).
export const TaxDestination = Schema.Struct({
  country: Schema.String,
  region: Schema.optional(Schema.String)
})
export type TaxDestination = typeof TaxDestination.Type

// The label data of a shipment (an admin's "ship" without its own carrier
// and tracking number): the carrier of the order's method and a tracking
// number derived from the order, so asking again gives the same label.
export const LabelInput = Schema.Struct({
  orderId: Schema.String.pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(128))),
  methodId: ShippingMethodId,
  destination: ShippingAddress
})
export type LabelInput = typeof LabelInput.Type

export const ShipmentLabel = Schema.Struct({
  carrier: Schema.String,
  trackingNumber: Schema.String
})
export type ShipmentLabel = typeof ShipmentLabel.Type
