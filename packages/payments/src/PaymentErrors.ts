import { Effect, Schema } from "effect"

// The typed failures of a payment provider. They follow
// packages/domain/src/Errors.ts: each carries its HTTP status and encodes to
// the standard body `{ error, message, details? }`, with `_tag` filled in on
// decode and left off the wire. Those the payments service shows its callers
// live in the domain (re-exported below); those defined here the service
// handles itself and never passes on. RefundExceedsCaptured here is the
// provider's refusal without amounts; the service answers the domain's, with
// them.
const body = <const Tag extends string, const Code extends string>(tag: Tag, code: Code, message: string) => ({
  _tag: Schema.tagDefaultOmit(tag),
  error: Schema.tag(code),
  message: Schema.String.pipe(Schema.withConstructorDefault(Effect.succeed(message)))
})

// Moved to the domain (the payments service's contract names them); the
// provider code keeps importing them from here.
export {
  InvalidPaymentAmount,
  PaymentDeclined,
  PaymentNotApproved,
  PaymentOperation as Operation,
  PaymentProviderUnavailable,
  PaymentRejected,
  PaymentUnavailableReason as UnavailableReason,
  WebhookVerificationFailed
} from "@shop/domain/Errors"

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
