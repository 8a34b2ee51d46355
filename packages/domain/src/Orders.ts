import { Schema } from "effect"
import { Role } from "./Auth.ts"
import { CartLine, CartSummary } from "./Cart.ts"
import { ShippingAddress, ShippingOption } from "./Fulfillment.ts"
import * as Examples from "./Examples.ts"
import { OrderId, UserId } from "./Ids.ts"
import { Money } from "./Money.ts"
import { BoundedText, Timestamp } from "./Text.ts"

// Orders (API.md, "Orders"). The orders service keeps the record of what was
// sold and where it is in its life; money and stock move elsewhere (payments,
// inventory), and the checkout orchestrator records their outcome here.

export const orderStatuses = ["paid", "processing", "shipped", "delivered", "cancelled", "refunded"] as const
export const OrderStatus = Schema.Literals(orderStatuses)
export type OrderStatus = typeof OrderStatus.Type

export const isOrderStatus = (status: string): status is OrderStatus =>
  (orderStatuses as ReadonlyArray<string>).includes(status)

// The state machine of API.md, the one place it is stated: `paid ->
// processing -> shipped -> delivered`; `paid`/`processing` -> `cancelled`
// (the orchestrator refunds and restocks); `delivered` -> `refunded`.
// `cancelled` and `refunded` are final.
export const orderTransitions: { readonly [S in OrderStatus]: ReadonlyArray<OrderStatus> } = {
  paid: ["processing", "cancelled"],
  processing: ["shipped", "cancelled"],
  shipped: ["delivered"],
  delivered: ["refunded"],
  cancelled: [],
  refunded: []
}

// A shipment may leave before anyone marked the order `processing`: recording
// one moves a `paid` order to `shipped` as well.
export const shippableStatuses: ReadonlyArray<OrderStatus> = ["paid", "processing"]

// Ids minted by other services (inventory holds, payments, PayPal captures and
// refunds): opaque here, so only their length and text are checked.
export const ForeignId = BoundedText(1, 128)

export const PaymentProvider = Schema.Literal("paypal")
export type PaymentProvider = typeof PaymentProvider.Type

export const OrderRefund = Schema.Struct({
  refundId: Schema.String,
  amount: Money,
  at: Timestamp
})
export type OrderRefund = typeof OrderRefund.Type

// `refunded` is the sum of `refunds`, never more than `captured`; the ids
// make recording a refund idempotent.
export const OrderPayment = Schema.Struct({
  paymentId: Schema.String,
  provider: PaymentProvider,
  captureId: Schema.String,
  captured: Money,
  refunded: Money,
  refunds: Schema.Array(OrderRefund)
})
export type OrderPayment = typeof OrderPayment.Type

export const Shipment = Schema.Struct({
  shipmentId: Schema.String,
  carrier: Schema.String,
  trackingNumber: Schema.String,
  labelUrl: Schema.optional(Schema.String),
  createdAt: Timestamp
})
export type Shipment = typeof Shipment.Type

// One entry per status the order entered, the first one `paid` at creation;
// `at` is ISO 8601 (UTC) from the service's Clock.
export const OrderHistoryEntry = Schema.Struct({
  status: OrderStatus,
  at: Timestamp,
  note: Schema.optional(Schema.String)
})
export type OrderHistoryEntry = typeof OrderHistoryEntry.Type

export const Order = Schema.Struct({
  orderId: OrderId,
  userId: UserId,
  status: OrderStatus,
  items: Schema.Array(CartLine),
  address: ShippingAddress,
  shippingMethod: ShippingOption,
  summary: CartSummary,
  payment: OrderPayment,
  shipments: Schema.Array(Shipment),
  history: Schema.Array(OrderHistoryEntry),
  // The inventory hold the order was sold from: one order per hold.
  reservationId: Schema.String,
  couponCode: Schema.optional(Schema.String),
  createdAt: Timestamp,
  updatedAt: Timestamp
}).annotate({ examples: [Examples.order] })
export type Order = typeof Order.Type

export const OrderPage = Schema.Struct({
  orders: Schema.Array(Order),
  total: Schema.Int,
  limit: Schema.Int,
  offset: Schema.Int
}).annotate({ examples: [{ orders: [Examples.order], total: 1, limit: 20, offset: 0 }] })
export type OrderPage = typeof OrderPage.Type

export const defaultPageSize = 20
export const maxPageSize = 100

// Service inputs (OrdersRpcs).

// What checkout knows once the money is captured. `captured` is in the
// currency of `summary`.
export const CreateOrderInput = Schema.Struct({
  reservationId: ForeignId,
  userId: UserId,
  items: Schema.Array(CartLine),
  address: ShippingAddress,
  shippingMethod: ShippingOption,
  summary: CartSummary,
  payment: Schema.Struct({
    paymentId: ForeignId,
    provider: PaymentProvider,
    captureId: ForeignId,
    captured: Money
  }),
  couponCode: Schema.optional(Schema.String)
})
export type CreateOrderInput = typeof CreateOrderInput.Type

// Who asks for an order: its owner sees it, an admin sees every order.
export const OrderCaller = Schema.Struct({ userId: UserId, role: Role })
export type OrderCaller = typeof OrderCaller.Type

export const ListUserOrdersInput = Schema.Struct({ userId: UserId, limit: Schema.Int, offset: Schema.Int })
export type ListUserOrdersInput = typeof ListUserOrdersInput.Type

// `status` is any text, so that an unknown one is answered `invalid_status`
// by the service with the valid ones, on every runtime.
export const ListAllOrdersInput = Schema.Struct({
  status: Schema.optional(Schema.String),
  limit: Schema.Int,
  offset: Schema.Int
})
export type ListAllOrdersInput = typeof ListAllOrdersInput.Type

export const Note = BoundedText(1, 500)

export const SetOrderStatusInput = Schema.Struct({
  orderId: OrderId,
  status: Schema.String,
  note: Schema.optional(Note)
})
export type SetOrderStatusInput = typeof SetOrderStatusInput.Type

export const Carrier = BoundedText(1, 64)
export const TrackingNumber = BoundedText(1, 128)
export const LabelUrl = BoundedText(1, 2048)

export const AddShipmentInput = Schema.Struct({
  orderId: OrderId,
  carrier: Carrier,
  trackingNumber: TrackingNumber,
  labelUrl: Schema.optional(LabelUrl)
})
export type AddShipmentInput = typeof AddShipmentInput.Type

// `refundId` is the payment provider's id of the refund that moved the money.
export const RecordRefundInput = Schema.Struct({
  orderId: OrderId,
  amount: Money,
  refundId: ForeignId
})
export type RecordRefundInput = typeof RecordRefundInput.Type

// Request bodies of the admin routes (API.md), for the gateway: unknown
// fields are refused there; `status` is any text (see ListAllOrdersInput).

export const SetOrderStatusBody = Schema.Struct({ status: Schema.String, note: Schema.optional(Note) }).annotate({
  examples: [{ status: "processing", note: "Picked and packed" }]
})
export type SetOrderStatusBody = typeof SetOrderStatusBody.Type

export const ShipOrderBody = Schema.Struct({
  carrier: Schema.optional(Carrier),
  trackingNumber: Schema.optional(TrackingNumber)
}).annotate({ examples: [{ carrier: "UPS", trackingNumber: "1Z999AA10123456784" }] })
export type ShipOrderBody = typeof ShipOrderBody.Type

// Without `amount`: the rest of what was captured.
export const RefundOrderBody = Schema.Struct({ amount: Schema.optional(Money) }).annotate({
  examples: [{ amount: Examples.money(1000) }]
})
export type RefundOrderBody = typeof RefundOrderBody.Type
