import { Schema } from "effect"
import { CartSummary } from "./Cart.ts"
import * as Examples from "./Examples.ts"
import { CartId, OrderId, UserId } from "./Ids.ts"
import { HoldId } from "./Inventory.ts"
import { Money } from "./Money.ts"
import { PaymentCapture, PaymentId, PaymentRefund, PaymentStatus } from "./Payments.ts"
import { BoundedText, plainText, Timestamp } from "./Text.ts"

// Checkout (API.md, "Checkout and payments"; docs/CHECKOUT.md): start places
// the hold and creates the PayPal order for the cart; capture takes the money
// once, commits the hold, redeems the coupon, creates the order and empties
// the cart. Both run as one operation of the cart (its single writer), so
// racing repeats on one cart are one start (one capture) and its repeats.

// Where the provider sends the buyer back: absolute http(s) URLs.
export const ReturnUrl = plainText({
  format: "uri",
  description: "An absolute http(s) URL (it must also parse as a WHATWG URL)"
}).pipe(
  Schema.check(Schema.isBetweenCodePoints(1, 2048, { toJsonSchema: () => ({ minLength: 1, maxLength: 2048 }) })),
  Schema.check(
    Schema.isPattern(/^[Hh][Tt][Tt][Pp][Ss]?:\/\/\S+$/u, { message: "must be an http or https URL" }),
    Schema.makeFilter<string>((text) => URL.canParse(text) || "must be an absolute URL", {
      expected: "an absolute http(s) URL"
    })
  )
)

// Request bodies (the gateway decodes them; unknown fields are refused).

export const StartCheckoutBody = Schema.Struct({
  // A path-free string: a malformed id names no cart (404 at the gateway).
  cartId: BoundedText(1, 128),
  returnUrl: Schema.optional(ReturnUrl),
  cancelUrl: Schema.optional(ReturnUrl)
}).annotate({
  examples: [
    {
      cartId: Examples.cartId,
      returnUrl: "https://shop.example.com/checkout/return",
      cancelUrl: "https://shop.example.com/cart"
    }
  ]
})
export type StartCheckoutBody = typeof StartCheckoutBody.Type

export const CaptureCheckoutBody = Schema.Struct({ paypalOrderId: BoundedText(1, 128) }).annotate({
  examples: [{ paypalOrderId: Examples.paypalOrderId }]
})
export type CaptureCheckoutBody = typeof CaptureCheckoutBody.Type

// Answers.

// The same answer for every start on an unchanged cart: same hold, same payment.
export const CheckoutStarted = Schema.Struct({
  reservationId: HoldId,
  paymentId: PaymentId,
  paypalOrderId: Schema.String,
  approveUrl: Schema.String,
  summary: CartSummary,
  // ISO 8601: when the hold expires; capture after it charges nothing.
  expiresAt: Timestamp
}).annotate({ examples: [Examples.checkoutStarted] })
export type CheckoutStarted = typeof CheckoutStarted.Type

// The same answer for every capture of one payment, charged once.
export const CheckoutCaptured = Schema.Struct({
  orderId: OrderId,
  status: Schema.Literal("paid"),
  paymentId: PaymentId,
  captureId: Schema.String
}).annotate({
  examples: [
    { orderId: Examples.orderId, status: "paid", paymentId: Examples.paymentId, captureId: Examples.captureId }
  ]
})
export type CheckoutCaptured = typeof CheckoutCaptured.Type

// `GET /api/payments/:paymentId`: what the payer or an admin may see of a
// payment (the record also holds the user, cart, hold and failure note).
export const PaymentView = Schema.Struct({
  paymentId: PaymentId,
  status: PaymentStatus,
  amount: Money,
  captures: Schema.Array(PaymentCapture),
  refunds: Schema.Array(PaymentRefund)
}).annotate({ examples: [Examples.paymentView] })
export type PaymentView = typeof PaymentView.Type

export const WebhookAck = Schema.Struct({ ok: Schema.Literal(true) }).annotate({ examples: [{ ok: true }] })
export type WebhookAck = typeof WebhookAck.Type

// Service inputs (CartRpcs).

// Start: the caller must be signed in. A guest cart becomes the caller's.
export const StartCheckoutInput = Schema.Struct({
  cartId: CartId,
  caller: UserId,
  returnUrl: BoundedText(1, 2048),
  cancelUrl: BoundedText(1, 2048)
})
export type StartCheckoutInput = typeof StartCheckoutInput.Type

// Capture of the payment of a checkout started on `cartId`. `caller` null:
// the shop itself (a verified webhook, the reconciliation pass), which may
// capture any payment; a user may capture only their own.
export const CaptureCheckoutInput = Schema.Struct({
  cartId: CartId,
  paymentId: PaymentId,
  caller: Schema.NullOr(UserId)
})
export type CaptureCheckoutInput = typeof CaptureCheckoutInput.Type

// Reconciliation (PaymentsRpcs.listUnsettled / settle): a payment is settled
// once the checkout is done with it: its order exists, or it was abandoned
// with nothing kept (never captured, or captured and refunded in full).
export const ListUnsettledInput = Schema.Struct({
  // ISO 8601: only payments created before this (a checkout in progress is left alone).
  createdBefore: Schema.String,
  limit: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 500 })))
})
export type ListUnsettledInput = typeof ListUnsettledInput.Type

export const SettlePaymentInput = Schema.Struct({
  paymentId: PaymentId,
  // The order the payment paid for; absent when the checkout was abandoned.
  orderId: Schema.optional(OrderId)
})
export type SettlePaymentInput = typeof SettlePaymentInput.Type

// Admin refund (OrdersRpcs.refund), run by the orders service with payments:
// idempotent, so a retry after a lost answer gives nothing back twice.
export const AdminRefundInput = Schema.Struct({
  orderId: OrderId,
  // Absent: everything captured and not yet refunded.
  amount: Schema.optional(Money)
})
export type AdminRefundInput = typeof AdminRefundInput.Type
