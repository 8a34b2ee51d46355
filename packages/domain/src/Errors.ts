import { Effect, Schema } from "effect"
import { Money } from "./Money.ts"

// Every error crosses the wire as `{ error, message, details? }` (API.md). The
// `_tag` is filled in on decode and omitted on encode, so the typed clients can
// still match errors by tag while the body stays the public shape.
const body = <const Tag extends string, const Code extends string>(tag: Tag, code: Code, message: string) => ({
  _tag: Schema.tagDefaultOmit(tag),
  error: Schema.tag(code),
  // The default message is the document's example (ApiDocument.ts).
  message: Schema.String.annotate({ examples: [message] }).pipe(Schema.withConstructorDefault(Effect.succeed(message)))
})

const Details = Schema.Record(Schema.String, Schema.Unknown)

export class ValidationError extends Schema.Error<ValidationError>("ValidationError")(
  {
    ...body("ValidationError", "validation_error", "The request is not valid"),
    details: Schema.optionalKey(Details)
  },
  { httpApiStatus: 400 }
) {}

export class Unauthorized extends Schema.Error<Unauthorized>("Unauthorized")(
  {
    ...body("Unauthorized", "unauthorized", "Authentication is required")
  },
  { httpApiStatus: 401 }
) {}

export class Forbidden extends Schema.Error<Forbidden>("Forbidden")(
  {
    ...body("Forbidden", "forbidden", "You are not allowed to do this")
  },
  { httpApiStatus: 403 }
) {}

export class NotFound extends Schema.Error<NotFound>("NotFound")(
  {
    ...body("NotFound", "not_found", "No such resource")
  },
  { httpApiStatus: 404 }
) {}

export class MethodNotAllowed extends Schema.Error<MethodNotAllowed>("MethodNotAllowed")(
  {
    ...body("MethodNotAllowed", "method_not_allowed", "This method is not allowed on this resource"),
    details: Schema.optionalKey(Schema.Struct({ allowed: Schema.Array(Schema.String) }))
  },
  { httpApiStatus: 405 }
) {}

export class PayloadTooLarge extends Schema.Error<PayloadTooLarge>("PayloadTooLarge")(
  {
    ...body("PayloadTooLarge", "payload_too_large", "The request body is too large"),
    details: Schema.optionalKey(Schema.Struct({ maxBytes: Schema.Number }))
  },
  { httpApiStatus: 413 }
) {}

export class UnsupportedMediaType extends Schema.Error<UnsupportedMediaType>("UnsupportedMediaType")(
  {
    ...body("UnsupportedMediaType", "unsupported_media_type", "The request body must be application/json")
  },
  { httpApiStatus: 415 }
) {}

export class RateLimited extends Schema.Error<RateLimited>("RateLimited")(
  {
    ...body("RateLimited", "rate_limited", "Too many attempts, try again later"),
    details: Schema.Struct({ retryAfter: Schema.Int })
  },
  { httpApiStatus: 429 }
) {}

export class InternalError extends Schema.Error<InternalError>("InternalError")(
  {
    ...body("InternalError", "internal_error", "Something went wrong on our side")
  },
  { httpApiStatus: 500 }
) {}

export class UpstreamError extends Schema.Error<UpstreamError>("UpstreamError")(
  {
    ...body("UpstreamError", "upstream_error", "A service this request depends on failed")
  },
  { httpApiStatus: 502 }
) {}

export class UpstreamTimeout extends Schema.Error<UpstreamTimeout>("UpstreamTimeout")(
  {
    ...body("UpstreamTimeout", "upstream_timeout", "A service this request depends on did not answer in time")
  },
  { httpApiStatus: 504 }
) {}

// Auth

export class EmailExists extends Schema.Error<EmailExists>("EmailExists")(
  {
    ...body("EmailExists", "email_exists", "An account with this email already exists")
  },
  { httpApiStatus: 409 }
) {}

export class InvalidCredentials extends Schema.Error<InvalidCredentials>("InvalidCredentials")(
  {
    ...body("InvalidCredentials", "invalid_credentials", "Email or password is wrong")
  },
  { httpApiStatus: 401 }
) {}

export class UserNotFound extends Schema.Error<UserNotFound>("UserNotFound")(
  {
    ...body("UserNotFound", "user_not_found", "No such user")
  },
  { httpApiStatus: 404 }
) {}

export class AlreadyAdmin extends Schema.Error<AlreadyAdmin>("AlreadyAdmin")(
  {
    ...body("AlreadyAdmin", "already_admin", "This user is already an admin")
  },
  { httpApiStatus: 409 }
) {}

export class AddressNotFound extends Schema.Error<AddressNotFound>("AddressNotFound")(
  {
    ...body("AddressNotFound", "address_not_found", "No such address")
  },
  { httpApiStatus: 404 }
) {}

// Catalog

export class ProductNotFound extends Schema.Error<ProductNotFound>("ProductNotFound")(
  {
    ...body("ProductNotFound", "product_not_found", "No such product")
  },
  { httpApiStatus: 404 }
) {}

export class SkuExists extends Schema.Error<SkuExists>("SkuExists")(
  {
    ...body("SkuExists", "sku_exists", "A product or variant with this SKU already exists"),
    details: Schema.Struct({ sku: Schema.String })
  },
  { httpApiStatus: 409 }
) {}

export class UpdateConflict extends Schema.Error<UpdateConflict>("UpdateConflict")(
  {
    ...body("UpdateConflict", "update_conflict", "The resource kept changing while this update was applied; try again")
  },
  { httpApiStatus: 409 }
) {}

// Inventory

export class VariantNotFound extends Schema.Error<VariantNotFound>("VariantNotFound")(
  {
    ...body("VariantNotFound", "variant_not_found", "No such variant")
  },
  { httpApiStatus: 404 }
) {}

export class StockBelowReserved extends Schema.Error<StockBelowReserved>("StockBelowReserved")(
  {
    ...body("StockBelowReserved", "stock_below_reserved", "Stock cannot go below the reserved quantity"),
    details: Schema.Struct({ stock: Schema.Int, reserved: Schema.Int, requested: Schema.Int })
  },
  { httpApiStatus: 409 }
) {}

// Fulfillment

export class InvalidShippingMethod extends Schema.Error<InvalidShippingMethod>("InvalidShippingMethod")(
  {
    ...body("InvalidShippingMethod", "invalid_shipping_method", "No such shipping method for this destination"),
    details: Schema.optionalKey(Schema.Struct({ methodId: Schema.String, available: Schema.Array(Schema.String) }))
  },
  { httpApiStatus: 400 }
) {}

// Coupons

export class CouponExists extends Schema.Error<CouponExists>("CouponExists")(
  {
    ...body("CouponExists", "coupon_exists", "A coupon with this code already exists"),
    details: Schema.optionalKey(Schema.Struct({ code: Schema.String }))
  },
  { httpApiStatus: 409 }
) {}

export class CouponNotFound extends Schema.Error<CouponNotFound>("CouponNotFound")(
  {
    ...body("CouponNotFound", "coupon_not_found", "No such coupon")
  },
  { httpApiStatus: 404 }
) {}

// A code a cart was given that names no coupon.
export class InvalidCoupon extends Schema.Error<InvalidCoupon>("InvalidCoupon")(
  {
    ...body("InvalidCoupon", "invalid_coupon", "This coupon code is not valid")
  },
  { httpApiStatus: 404 }
) {}

export class MinCartNotMet extends Schema.Error<MinCartNotMet>("MinCartNotMet")(
  {
    ...body("MinCartNotMet", "min_cart_not_met", "The cart does not reach this coupon's minimum"),
    details: Schema.Struct({ min: Money })
  },
  { httpApiStatus: 400 }
) {}

export class CouponExpired extends Schema.Error<CouponExpired>("CouponExpired")(
  {
    ...body("CouponExpired", "coupon_expired", "This coupon has expired")
  },
  { httpApiStatus: 400 }
) {}

export class CouponExhausted extends Schema.Error<CouponExhausted>("CouponExhausted")(
  {
    ...body("CouponExhausted", "coupon_exhausted", "This coupon has been used up"),
    // Which limit was reached, when a redemption was refused (checkout).
    details: Schema.optionalKey(Schema.Struct({ limit: Schema.Literals(["usageLimit", "perCustomerLimit"]) }))
  },
  { httpApiStatus: 409 }
) {}

// Cart

export class CartNotFound extends Schema.Error<CartNotFound>("CartNotFound")(
  {
    ...body("CartNotFound", "cart_not_found", "No such cart")
  },
  { httpApiStatus: 404 }
) {}

export class ItemNotFound extends Schema.Error<ItemNotFound>("ItemNotFound")(
  {
    ...body("ItemNotFound", "item_not_found", "The cart has no line for this variant")
  },
  { httpApiStatus: 404 }
) {}

export class InsufficientStock extends Schema.Error<InsufficientStock>("InsufficientStock")(
  {
    ...body("InsufficientStock", "insufficient_stock", "Not enough stock for this quantity"),
    details: Schema.Struct({ variantId: Schema.String, available: Schema.Int, requested: Schema.Int })
  },
  { httpApiStatus: 409 }
) {}

export class AddressRequired extends Schema.Error<AddressRequired>("AddressRequired")(
  {
    ...body("AddressRequired", "address_required", "The cart needs a shipping address first")
  },
  { httpApiStatus: 400 }
) {}

// Checkout (API.md, "Checkout and payments")

export class CartEmpty extends Schema.Error<CartEmpty>("CartEmpty")(
  {
    ...body("CartEmpty", "cart_empty", "The cart has no items")
  },
  { httpApiStatus: 400 }
) {}

export class ShippingRequired extends Schema.Error<ShippingRequired>("ShippingRequired")(
  {
    ...body("ShippingRequired", "shipping_required", "The cart needs a shipping method first")
  },
  { httpApiStatus: 400 }
) {}

// Inventory holds

export class HoldNotFound extends Schema.Error<HoldNotFound>("HoldNotFound")(
  {
    ...body("HoldNotFound", "hold_not_found", "No such hold")
  },
  { httpApiStatus: 404 }
) {}

// Committing a hold whose time ran out: its stock went back to the shelf.
export class HoldExpired extends Schema.Error<HoldExpired>("HoldExpired")(
  {
    ...body("HoldExpired", "hold_expired", "The hold on this stock has expired"),
    details: Schema.Struct({ holdId: Schema.String, expiresAt: Schema.String })
  },
  { httpApiStatus: 409 }
) {}

// Committing a hold that was released: its stock went back to the shelf.
export class HoldReleased extends Schema.Error<HoldReleased>("HoldReleased")(
  {
    ...body("HoldReleased", "hold_released", "The hold on this stock was released"),
    details: Schema.Struct({ holdId: Schema.String })
  },
  { httpApiStatus: 409 }
) {}

// Releasing a hold that was committed: that stock is sold, and only a restock
// (an order's cancellation) returns it.
export class HoldCommitted extends Schema.Error<HoldCommitted>("HoldCommitted")(
  {
    ...body("HoldCommitted", "hold_committed", "The hold was already committed"),
    details: Schema.Struct({ holdId: Schema.String })
  },
  { httpApiStatus: 409 }
) {}

// Reserving again under a hold id that holds other lines. A retry repeats the
// same lines; different lines are a different hold and need their own id.
export class HoldMismatch extends Schema.Error<HoldMismatch>("HoldMismatch")(
  {
    ...body("HoldMismatch", "hold_mismatch", "This hold id is already used for other lines"),
    details: Schema.Struct({ holdId: Schema.String })
  },
  { httpApiStatus: 409 }
) {}

// Orders

// Also the answer for another user's order: its existence is not revealed.
export class OrderNotFound extends Schema.Error<OrderNotFound>("OrderNotFound")(
  {
    ...body("OrderNotFound", "order_not_found", "No such order")
  },
  { httpApiStatus: 404 }
) {}

export class InvalidStatus extends Schema.Error<InvalidStatus>("InvalidStatus")(
  {
    ...body("InvalidStatus", "invalid_status", "No such order status"),
    details: Schema.Struct({ validStatuses: Schema.Array(Schema.String) })
  },
  { httpApiStatus: 400 }
) {}

// `allowed` is where the order may go from its current status.
export class InvalidTransition extends Schema.Error<InvalidTransition>("InvalidTransition")(
  {
    ...body("InvalidTransition", "invalid_transition", "The order cannot move to this status from its current one"),
    details: Schema.Struct({ from: Schema.String, to: Schema.String, allowed: Schema.Array(Schema.String) })
  },
  { httpApiStatus: 409 }
) {}

export class RefundExceedsCaptured extends Schema.Error<RefundExceedsCaptured>("RefundExceedsCaptured")(
  {
    ...body("RefundExceedsCaptured", "refund_exceeds_captured", "The refund is more than what is left of the payment"),
    details: Schema.Struct({ captured: Money, refunded: Money, requested: Money })
  },
  { httpApiStatus: 409 }
) {}

// Coupon redemptions

// A redemption id (a checkout's payment or hold id) that already redeemed
// another code, or for another user: each checkout draws its own id, so the
// caller reused one it should not have. Nothing was redeemed.
export class RedemptionMismatch extends Schema.Error<RedemptionMismatch>("RedemptionMismatch")(
  {
    ...body("RedemptionMismatch", "redemption_mismatch", "This redemption id already redeemed another coupon or user"),
    details: Schema.Struct({ redemptionId: Schema.String })
  },
  { httpApiStatus: 409 }
) {}

// Payments

// The provider operation a payment failure happened in, for logs and the error body.
export const PaymentOperation = Schema.Literals([
  "token",
  "createOrder",
  "captureOrder",
  "getOrder",
  "refundCapture",
  "verifyWebhook"
])
export type PaymentOperation = typeof PaymentOperation.Type

/**
 * Why the payment provider could not be used. When `operation` is the call
 * itself (a capture, a refund) the outcome is unknown: the money may have
 * moved. Read the order or repeat the call with the same request id before
 * deciding anything. When `operation` is `token`, the call was never sent.
 */
export const PaymentUnavailableReason = Schema.Literals([
  // No answer within the per-call timeout.
  "timeout",
  // The connection failed or broke before a full answer arrived.
  "network",
  // A 5xx answer.
  "server_error",
  // 429: the provider throttles us.
  "rate_limited",
  // Our client credentials were refused (a configuration problem, not the buyer's).
  "authentication",
  // An answer we could not read: not JSON, or not the shape the API documents.
  "unexpected_response"
])
export type PaymentUnavailableReason = typeof PaymentUnavailableReason.Type

// Also the answer for another user's payment: its existence is not revealed.
export class PaymentNotFound extends Schema.Error<PaymentNotFound>("PaymentNotFound")(
  {
    ...body("PaymentNotFound", "payment_not_found", "No such payment")
  },
  { httpApiStatus: 404 }
) {}

export class PaymentProviderUnavailable extends Schema.Error<PaymentProviderUnavailable>("PaymentProviderUnavailable")(
  {
    ...body("PaymentProviderUnavailable", "payment_provider_unavailable", "The payment provider is not available"),
    details: Schema.Struct({ operation: PaymentOperation, reason: PaymentUnavailableReason })
  },
  { httpApiStatus: 502 }
) {}

/** The buyer's funding source was refused (PayPal `INSTRUMENT_DECLINED` and kin): send the buyer back to approve. */
export class PaymentDeclined extends Schema.Error<PaymentDeclined>("PaymentDeclined")(
  {
    ...body("PaymentDeclined", "payment_declined", "The payment was declined"),
    details: Schema.Struct({ issue: Schema.String })
  },
  { httpApiStatus: 402 }
) {}

/** Capture before the buyer approved the order. */
export class PaymentNotApproved extends Schema.Error<PaymentNotApproved>("PaymentNotApproved")(
  {
    ...body("PaymentNotApproved", "payment_not_approved", "The buyer has not approved the payment")
  },
  { httpApiStatus: 409 }
) {}

/**
 * An amount the provider cannot take exactly: not whole minor units, not
 * positive, too large, or a currency it does not support or that has no
 * fractional units there (PayPal takes HUF and TWD in whole units only).
 */
export class InvalidPaymentAmount extends Schema.Error<InvalidPaymentAmount>("InvalidPaymentAmount")(
  {
    ...body("InvalidPaymentAmount", "invalid_payment_amount", "The provider cannot take this amount")
  },
  { httpApiStatus: 400 }
) {}

/**
 * The provider refused the request for a business reason the payments
 * interface does not name (a payee restriction, a currency the account cannot
 * take...). `issue` is the provider's own code.
 */
export class PaymentRejected extends Schema.Error<PaymentRejected>("PaymentRejected")(
  {
    ...body("PaymentRejected", "payment_rejected", "The payment provider refused the request"),
    details: Schema.Struct({ operation: PaymentOperation, status: Schema.Int, issue: Schema.String })
  },
  { httpApiStatus: 422 }
) {}

/** A webhook whose signature the provider did not confirm, or that is not a webhook at all. */
export class WebhookVerificationFailed extends Schema.Error<WebhookVerificationFailed>("WebhookVerificationFailed")(
  {
    ...body("WebhookVerificationFailed", "invalid_webhook_signature", "The webhook's signature is not valid"),
    details: Schema.Struct({ reason: Schema.Literals(["missing_headers", "malformed_body", "signature_refused"]) })
  },
  { httpApiStatus: 400 }
) {}

// Capturing a payment the checkout gave up on (markFailed before any money
// moved): taking the money now would leave it without an order.
export class PaymentFailed extends Schema.Error<PaymentFailed>("PaymentFailed")(
  {
    ...body("PaymentFailed", "payment_failed", "The payment was abandoned and can no longer be captured"),
    details: Schema.Struct({ step: Schema.String, reason: Schema.String })
  },
  { httpApiStatus: 409 }
) {}

// Idempotency keys

// The same key (for the same caller, method and path) was first sent with
// another body: the request is refused rather than answered with the
// response to a different request.
export class IdempotencyKeyReused extends Schema.Error<IdempotencyKeyReused>("IdempotencyKeyReused")(
  {
    ...body("IdempotencyKeyReused", "idempotency_key_reused", "This Idempotency-Key was used with another request body")
  },
  { httpApiStatus: 422 }
) {}

// The first request with this key is still running; its response is not
// there to replay yet. `retryAfter` (seconds) becomes the Retry-After header.
export class IdempotencyKeyInUse extends Schema.Error<IdempotencyKeyInUse>("IdempotencyKeyInUse")(
  {
    ...body("IdempotencyKeyInUse", "idempotency_key_in_use", "A request with this Idempotency-Key is still running"),
    details: Schema.Struct({ retryAfter: Schema.Int })
  },
  { httpApiStatus: 409 }
) {}
