import { Schema } from "effect"
import { AddressCandidate, ShippingAddress, ShippingOption } from "./Fulfillment.ts"
import * as Examples from "./Examples.ts"
import { CartId, ProductId, UserId, VariantId } from "./Ids.ts"
import { Currency, Money } from "./Money.ts"
import { BoundedText, Timestamp } from "./Text.ts"

// The cart (API.md, "Cart"). Prices come from the catalog, never from the
// client; every figure is integer minor units in the cart's currency.

// A line holds 1..999 of one variant; a cart holds at most 100 lines.
export const maxLineQuantity = 999
export const maxLines = 100

export const CartLine = Schema.Struct({
  productId: ProductId,
  variantId: VariantId,
  title: Schema.String,
  quantity: Schema.Int.annotate({ examples: [2] }),
  unitPrice: Money,
  lineTotal: Money
})
export type CartLine = typeof CartLine.Type

// The coupon a cart holds. A coupon that stops applying (the cart fell below
// its minimum, it expired, it was used up or deleted) stays on the cart with
// `applicable: false` and the reason, the error code it would be refused with.
export const CartCouponReason = Schema.Literals([
  "min_cart_not_met",
  "coupon_expired",
  "coupon_exhausted",
  "invalid_coupon",
  "currency_mismatch"
])
export type CartCouponReason = typeof CartCouponReason.Type

export const CartCoupon = Schema.Struct({
  code: Schema.String,
  applicable: Schema.Boolean,
  reason: Schema.optional(CartCouponReason)
})
export type CartCoupon = typeof CartCoupon.Type

// total = subtotal - discount + shipping + tax, always exactly.
export const CartSummary = Schema.Struct({
  subtotal: Money,
  discount: Money,
  shipping: Money,
  tax: Money,
  total: Money
})
export type CartSummary = typeof CartSummary.Type

// Filled in by checkout (the next issue); null until then.
export const CartCheckout = Schema.Struct({
  status: Schema.String,
  reservationId: Schema.String,
  paymentId: Schema.String,
  approveUrl: Schema.String,
  expiresAt: Timestamp
})
export type CartCheckout = typeof CartCheckout.Type

// A line the cart dropped because its product or variant left the catalog,
// reported by the change that dropped it and kept until the next change.
export const RemovedLine = Schema.Struct({
  productId: ProductId,
  variantId: VariantId,
  title: Schema.String,
  reason: Schema.Literal("product_unavailable")
})
export type RemovedLine = typeof RemovedLine.Type

export const Cart = Schema.Struct({
  cartId: CartId,
  userId: Schema.NullOr(UserId),
  items: Schema.Array(CartLine),
  address: Schema.NullOr(ShippingAddress),
  shippingMethod: Schema.NullOr(ShippingOption),
  coupon: Schema.NullOr(CartCoupon),
  summary: CartSummary,
  currency: Currency,
  // ISO 8601: when the cart expires unless it changes before.
  expiresAt: Timestamp,
  checkout: Schema.NullOr(CartCheckout),
  removedItems: Schema.Array(RemovedLine)
}).annotate({ examples: [Examples.cart] })
export type Cart = typeof Cart.Type

// Request bodies (the gateway decodes them; unknown fields are refused).

export const AddItemInput = Schema.Struct({
  productId: ProductId,
  variantId: Schema.optional(VariantId),
  quantity: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: maxLineQuantity })))
}).annotate({ examples: [{ productId: Examples.productId, variantId: Examples.variantId, quantity: 2 }] })
export type AddItemInput = typeof AddItemInput.Type

// Quantity 0 removes the line.
export const UpdateItemInput = Schema.Struct({
  variantId: VariantId,
  quantity: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: maxLineQuantity })))
}).annotate({ examples: [{ variantId: Examples.variantId, quantity: 3 }] })
export type UpdateItemInput = typeof UpdateItemInput.Type

export const RemoveItemInput = Schema.Struct({ variantId: VariantId }).annotate({
  examples: [{ variantId: Examples.variantId }]
})
export type RemoveItemInput = typeof RemoveItemInput.Type

// One of the caller's saved addresses, or an address given inline.
export const SetCartAddressInput = Schema.Union([
  Schema.Struct({ addressId: BoundedText(1, 128) }),
  Schema.Struct({ address: AddressCandidate })
]).annotate({ examples: [{ addressId: Examples.addressId }, { address: Examples.addressInput }] })
export type SetCartAddressInput = typeof SetCartAddressInput.Type

export const ChooseShippingInput = Schema.Struct({ methodId: BoundedText(1, 64) }).annotate({
  examples: [{ methodId: "standard" }]
})
export type ChooseShippingInput = typeof ChooseShippingInput.Type

export const ApplyCouponInput = Schema.Struct({ code: BoundedText(1, 64) }).annotate({
  examples: [{ code: "save10" }]
})
export type ApplyCouponInput = typeof ApplyCouponInput.Type
