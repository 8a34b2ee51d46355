import { Schema } from "effect"
import { Role } from "./Auth.ts"
import { CartId, UserId } from "./Ids.ts"
import { HoldId } from "./Inventory.ts"
import { Money } from "./Money.ts"
import { BoundedText, Timestamp } from "./Text.ts"

// Payments (API.md, "Checkout and payments"). The payments service keeps one
// record per checkout attempt (per inventory hold): the provider's order the
// buyer approves, the money captured and given back, and the checkout's note
// when it gave up. The provider (PayPal) holds the money; this record is what
// the shop knows of it, kept in step by idempotent calls.

export const PaymentId = Schema.String.pipe(
  Schema.check(Schema.isPattern(/^pay_[A-Za-z0-9]{1,64}$/u)),
  Schema.brand("PaymentId")
)
export type PaymentId = typeof PaymentId.Type

export const paymentStatuses = ["created", "captured", "refunded", "partially_refunded", "failed"] as const
export const PaymentStatus = Schema.Literals(paymentStatuses)
export type PaymentStatus = typeof PaymentStatus.Type

export const PaymentProviderName = Schema.Literal("paypal")
export type PaymentProviderName = typeof PaymentProviderName.Type

// Names one refund intent: the same id repeats that refund (once at the
// provider, once in the record), another id is another refund. Printable
// ASCII, short enough to be part of the provider's own request id.
export const RefundRequestId = Schema.String.pipe(
  Schema.check(Schema.isMinLength(1), Schema.isMaxLength(64), Schema.isPattern(/^[\x21-\x7e]+$/u))
)

export const PaymentCapture = Schema.Struct({
  // The provider's capture id.
  captureId: Schema.String,
  amount: Money,
  at: Timestamp
})
export type PaymentCapture = typeof PaymentCapture.Type

export const PaymentRefund = Schema.Struct({
  // The provider's refund id.
  refundId: Schema.String,
  amount: Money,
  at: Timestamp,
  reason: Schema.optional(Schema.String),
  // The caller's id for this refund: a repeat with it records nothing new.
  requestId: Schema.String
})
export type PaymentRefund = typeof PaymentRefund.Type

// Where the checkout gave up, and why (a compensation's record).
export const PaymentFailure = Schema.Struct({
  step: Schema.String,
  reason: Schema.String,
  at: Timestamp
})
export type PaymentFailure = typeof PaymentFailure.Type

// `captures` has at most one entry (an order is captured once, in full);
// `refunds` add up to at most the capture. Times are ISO 8601 (UTC) from the
// service's Clock.
export const Payment = Schema.Struct({
  paymentId: PaymentId,
  userId: UserId,
  cartId: CartId,
  reservationId: HoldId,
  amount: Money,
  provider: PaymentProviderName,
  providerOrderId: Schema.String,
  // Where the buyer approves the payment at the provider.
  approveUrl: Schema.String,
  status: PaymentStatus,
  captures: Schema.Array(PaymentCapture),
  refunds: Schema.Array(PaymentRefund),
  failure: Schema.optional(PaymentFailure),
  // Set once the checkout is done with the payment (Payments.settle): its
  // order exists, or it was abandoned with nothing kept. The reconciliation
  // pass visits only payments without it.
  settledAt: Schema.optional(Schema.String),
  orderId: Schema.optional(Schema.String),
  createdAt: Timestamp,
  updatedAt: Timestamp
})
export type Payment = typeof Payment.Type

/** What has been captured and not given back, in the payment's currency. */
export const capturedOf = (payment: Payment): Money => ({
  amount: payment.captures.reduce((sum, capture) => sum + capture.amount.amount, 0),
  currency: payment.amount.currency
})

export const refundedOf = (payment: Payment): Money => ({
  amount: payment.refunds.reduce((sum, refund) => sum + refund.amount.amount, 0),
  currency: payment.amount.currency
})

// Service inputs (PaymentsRpcs).

// Who asks for a payment: its owner sees it, an admin sees every payment.
export const PaymentCaller = Schema.Struct({ userId: UserId, role: Role })
export type PaymentCaller = typeof PaymentCaller.Type

const Url = BoundedText(1, 2048)

export const CreatePaymentInput = Schema.Struct({
  userId: UserId,
  cartId: CartId,
  // One payment per hold: a repeat answers the payment created first.
  reservationId: HoldId,
  amount: Money,
  // Where the provider sends the buyer after approving, and after cancelling.
  returnUrl: Url,
  cancelUrl: Url
})
export type CreatePaymentInput = typeof CreatePaymentInput.Type

export const GetPaymentInput = Schema.Struct({ paymentId: PaymentId, caller: PaymentCaller })
export type GetPaymentInput = typeof GetPaymentInput.Type

export const FindByProviderOrderInput = Schema.Struct({ providerOrderId: Schema.String })
export type FindByProviderOrderInput = typeof FindByProviderOrderInput.Type

export const CapturePaymentInput = Schema.Struct({ paymentId: PaymentId })
export type CapturePaymentInput = typeof CapturePaymentInput.Type

export const RefundPaymentInput = Schema.Struct({
  paymentId: PaymentId,
  // Absent: everything captured and not yet refunded.
  amount: Schema.optional(Money),
  reason: BoundedText(1, 500),
  requestId: RefundRequestId
})
export type RefundPaymentInput = typeof RefundPaymentInput.Type

export const MarkFailedInput = Schema.Struct({
  paymentId: PaymentId,
  // The checkout step that failed ("capture", "commit_hold", "create_order"...).
  step: BoundedText(1, 64),
  reason: BoundedText(1, 500)
})
export type MarkFailedInput = typeof MarkFailedInput.Type

export const RecordEventInput = Schema.Struct({ eventId: BoundedText(1, 255) })
export type RecordEventInput = typeof RecordEventInput.Type

// `first`: no event with this id was recorded before, so the caller processes it.
export const RecordEventResult = Schema.Struct({ first: Schema.Boolean })
export type RecordEventResult = typeof RecordEventResult.Type

export const VerifyWebhookInput = Schema.Struct({
  // Header names in any case.
  headers: Schema.Record(Schema.String, Schema.String),
  // The body exactly as received: the signature covers its bytes.
  body: Schema.String
})
export type VerifyWebhookInput = typeof VerifyWebhookInput.Type

export const WebhookEvent = Schema.Struct({
  // The provider's event id: the same event can be delivered more than once.
  id: Schema.String,
  eventType: Schema.String,
  resourceType: Schema.optional(Schema.String),
  createTime: Schema.optional(Schema.String),
  // The object the event is about (a capture, an order, a refund), as the provider sent it.
  resource: Schema.Record(Schema.String, Schema.Unknown)
})
export type WebhookEvent = typeof WebhookEvent.Type
