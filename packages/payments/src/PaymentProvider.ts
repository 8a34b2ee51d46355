import { Context, type Effect, Schema } from "effect"
import { Money } from "@shop/domain/Money"
import type { VerifyWebhookInput, WebhookEvent } from "@shop/domain/Payments"
import type {
  CaptureNotFound,
  InvalidPaymentAmount,
  PaymentAlreadyCaptured,
  PaymentDeclined,
  PaymentNotApproved,
  PaymentProviderUnavailable,
  PaymentRejected,
  ProviderOrderNotFound,
  RefundExceedsCaptured,
  WebhookVerificationFailed
} from "./PaymentErrors.ts"

// The payment provider as the checkout sees it: provider-neutral names, money
// as integer minor units with a currency (never a float, never the provider's
// decimal strings), and typed failures. PaypalProvider.ts implements it over
// PayPal's REST API; the fake PayPal (@shop/paypal-fake) stands in for PayPal
// in tests and on machines without credentials.

/**
 * Names the attempt of one operation, so that repeating it (a retry after a
 * timeout, a double click) does it once. Use the same id for the same intent,
 * a new one for a new intent. PayPal takes at most 108 characters.
 */
export const RequestId = Schema.String.pipe(
  Schema.check(Schema.isMinLength(1), Schema.isMaxLength(108), Schema.isPattern(/^[\x21-\x7e]+$/))
)

/** The order's state at the provider. PayPal's names; a new provider maps onto them. */
export const ProviderOrderStatus = Schema.Literals([
  "CREATED",
  "SAVED",
  "APPROVED",
  "VOIDED",
  "COMPLETED",
  "PAYER_ACTION_REQUIRED"
])
export type ProviderOrderStatus = typeof ProviderOrderStatus.Type

/** A capture's state. `PENDING` money is not there yet: a webhook says when it completes or is declined. */
export const CaptureStatus = Schema.Literals([
  "COMPLETED",
  "PENDING",
  "DECLINED",
  "PARTIALLY_REFUNDED",
  "REFUNDED",
  "FAILED"
])
export type CaptureStatus = typeof CaptureStatus.Type

export const RefundStatus = Schema.Literals(["COMPLETED", "PENDING", "CANCELLED", "FAILED"])
export type RefundStatus = typeof RefundStatus.Type

export const CreateOrderInput = Schema.Struct({
  amount: Money,
  // Ours, shown back on the order (PayPal `reference_id` and `custom_id`): the payment id.
  reference: Schema.String.pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(127))),
  // Where the provider sends the buyer after approving, and after cancelling.
  returnUrl: Schema.String,
  cancelUrl: Schema.String,
  requestId: RequestId
})
export type CreateOrderInput = typeof CreateOrderInput.Type

export const CreatedOrder = Schema.Struct({
  providerOrderId: Schema.String,
  // Where to send the buyer to approve the payment.
  approveUrl: Schema.String,
  status: ProviderOrderStatus
})
export type CreatedOrder = typeof CreatedOrder.Type

export const CaptureOrderInput = Schema.Struct({ providerOrderId: Schema.String, requestId: RequestId })
export type CaptureOrderInput = typeof CaptureOrderInput.Type

export const Capture = Schema.Struct({
  captureId: Schema.String,
  amount: Money,
  status: CaptureStatus
})
export type Capture = typeof Capture.Type

export const CaptureResult = Schema.Struct({
  providerOrderId: Schema.String,
  ...Capture.fields
})
export type CaptureResult = typeof CaptureResult.Type

export const Refund = Schema.Struct({
  refundId: Schema.String,
  // Absent when the provider did not say (PayPal answers some refunds minimally).
  amount: Schema.optional(Money),
  status: RefundStatus
})
export type Refund = typeof Refund.Type

export const ProviderOrder = Schema.Struct({
  providerOrderId: Schema.String,
  status: ProviderOrderStatus,
  amount: Money,
  reference: Schema.optional(Schema.String),
  // Every capture the provider made for this order, whoever asked: the way to
  // learn the outcome of a capture whose answer was lost.
  captures: Schema.Array(Capture),
  refunds: Schema.Array(Refund)
})
export type ProviderOrder = typeof ProviderOrder.Type

export const GetOrderInput = Schema.Struct({ providerOrderId: Schema.String })
export type GetOrderInput = typeof GetOrderInput.Type

export const RefundCaptureInput = Schema.Struct({
  captureId: Schema.String,
  // Absent: everything not yet refunded.
  amount: Schema.optional(Money),
  requestId: RequestId
})
export type RefundCaptureInput = typeof RefundCaptureInput.Type

// Moved to the domain: the payments service's contract passes them through.
export { VerifyWebhookInput, WebhookEvent } from "@shop/domain/Payments"

export class PaymentProvider extends Context.Service<
  PaymentProvider,
  {
    /** Creates an order for `amount`, for the buyer to approve at `approveUrl`. */
    readonly createOrder: (
      input: CreateOrderInput
    ) => Effect.Effect<CreatedOrder, InvalidPaymentAmount | PaymentRejected | PaymentProviderUnavailable>
    /**
     * Takes the money of an approved order. The same `requestId` answers the
     * first capture again; another one fails with `PaymentAlreadyCaptured`.
     */
    readonly captureOrder: (
      input: CaptureOrderInput
    ) => Effect.Effect<
      CaptureResult,
      | PaymentDeclined
      | PaymentNotApproved
      | PaymentAlreadyCaptured
      | ProviderOrderNotFound
      | PaymentRejected
      | PaymentProviderUnavailable
    >
    /** The order as the provider has it now, with its captures and refunds. */
    readonly getOrder: (
      input: GetOrderInput
    ) => Effect.Effect<ProviderOrder, ProviderOrderNotFound | PaymentProviderUnavailable>
    /** Gives back part (`amount`) or the rest (no amount) of a capture. Idempotent by `requestId`. */
    readonly refundCapture: (
      input: RefundCaptureInput
    ) => Effect.Effect<
      Refund,
      RefundExceedsCaptured | CaptureNotFound | InvalidPaymentAmount | PaymentRejected | PaymentProviderUnavailable
    >
    /** The event of a webhook delivery whose signature the provider confirms. */
    readonly verifyWebhook: (
      input: VerifyWebhookInput
    ) => Effect.Effect<WebhookEvent, WebhookVerificationFailed | PaymentProviderUnavailable>
  }
>()("@shop/payments/PaymentProvider") {}
