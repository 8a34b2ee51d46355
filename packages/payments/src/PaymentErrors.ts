import { Effect, Schema } from "effect"

// The typed failures of a payment provider. They follow
// packages/domain/src/Errors.ts: each carries its HTTP status and encodes to
// the standard body `{ error, message, details? }`, with `_tag` filled in on
// decode and left off the wire. They live here until the payments service
// settles which of them its public API shows.
const body = <const Tag extends string, const Code extends string>(tag: Tag, code: Code, message: string) => ({
  _tag: Schema.tagDefaultOmit(tag),
  error: Schema.tag(code),
  message: Schema.String.pipe(Schema.withConstructorDefault(Effect.succeed(message)))
})

/** The provider operation a failure happened in, for logs and the error body. */
export const Operation = Schema.Literals([
  "token",
  "createOrder",
  "captureOrder",
  "getOrder",
  "refundCapture",
  "verifyWebhook"
])
export type Operation = typeof Operation.Type

/**
 * Why the provider could not be used. When `operation` is the call itself (a
 * capture, a refund) the outcome is unknown: the money may have moved. Read
 * the order (`getOrder`) or repeat the call with the same `requestId` before
 * deciding anything. When `operation` is `token`, the call was never sent.
 */
export const UnavailableReason = Schema.Literals([
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
export type UnavailableReason = typeof UnavailableReason.Type

export class PaymentProviderUnavailable extends Schema.Error<PaymentProviderUnavailable>("PaymentProviderUnavailable")(
  {
    ...body("PaymentProviderUnavailable", "payment_provider_unavailable", "The payment provider is not available"),
    details: Schema.Struct({ operation: Operation, reason: UnavailableReason })
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

/** The order was captured already, by a call with another request id. */
export class PaymentAlreadyCaptured extends Schema.Error<PaymentAlreadyCaptured>("PaymentAlreadyCaptured")(
  {
    ...body("PaymentAlreadyCaptured", "payment_already_captured", "The payment was captured already")
  },
  { httpApiStatus: 409 }
) {}

export class ProviderOrderNotFound extends Schema.Error<ProviderOrderNotFound>("ProviderOrderNotFound")(
  {
    ...body("ProviderOrderNotFound", "provider_order_not_found", "The payment provider has no such order")
  },
  { httpApiStatus: 404 }
) {}

export class CaptureNotFound extends Schema.Error<CaptureNotFound>("CaptureNotFound")(
  {
    ...body("CaptureNotFound", "capture_not_found", "The payment provider has no such capture")
  },
  { httpApiStatus: 404 }
) {}

/** The refund would take back more than is left of the capture (or it is fully refunded). */
export class RefundExceedsCaptured extends Schema.Error<RefundExceedsCaptured>("RefundExceedsCaptured")(
  {
    ...body("RefundExceedsCaptured", "refund_exceeds_captured", "The refund is larger than what is left to refund")
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
 * The provider refused the request for a business reason this interface does
 * not name (a payee restriction, a currency the account cannot take...).
 * `issue` is the provider's own code.
 */
export class PaymentRejected extends Schema.Error<PaymentRejected>("PaymentRejected")(
  {
    ...body("PaymentRejected", "payment_rejected", "The payment provider refused the request"),
    details: Schema.Struct({ operation: Operation, status: Schema.Int, issue: Schema.String })
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
