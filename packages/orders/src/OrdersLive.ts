import { Clock, Effect, Layer, Option } from "effect"
import {
  InvalidStatus,
  InvalidTransition,
  OrderNotFound,
  RefundExceedsCaptured,
  UpdateConflict,
  ValidationError
} from "@shop/domain/Errors"
import { IdGenerator } from "@shop/domain/IdGenerator"
import { type OrderId, OrderId as OrderIdSchema } from "@shop/domain/Ids"
import type { Money } from "@shop/domain/Money"
import {
  type AddShipmentInput,
  type CreateOrderInput,
  isOrderStatus,
  type ListAllOrdersInput,
  type ListUserOrdersInput,
  maxPageSize,
  type Order,
  type OrderCaller,
  type OrderStatus,
  orderStatuses,
  orderTransitions,
  type RecordRefundInput,
  type SetOrderStatusInput,
  shippableStatuses
} from "@shop/domain/Orders"
import { Orders } from "./Orders.ts"
import { OrdersRepository } from "./OrdersRepository.ts"
import * as OrdersRepositoryMemory from "./OrdersRepositoryMemory.ts"

interface Issue {
  readonly path: string
  readonly message: string
}

const iso = (millis: number) => new Date(millis).toISOString()
const blank = (text: string) => text.trim().length === 0
const invalid = (message: string, issues: ReadonlyArray<Issue>) => new ValidationError({ message, details: { issues } })

// Each compare-and-set that loses means another change to the same order
// landed, so a caller retries only while others make progress; this many
// losses in a row means the order is being hammered, and the caller is told
// to try again rather than kept waiting.
const maxAttempts = 50

// The schemas check shapes at every process boundary; in-process callers
// (memory and node runtimes) do not decode, so the service checks what it
// relies on itself.
const pageIssues = (limit: number, offset: number): ReadonlyArray<Issue> => [
  ...(Number.isSafeInteger(limit) && limit >= 1 && limit <= maxPageSize
    ? []
    : [{ path: "limit", message: `must be a whole number from 1 to ${maxPageSize}` }]),
  ...(Number.isSafeInteger(offset) && offset >= 0
    ? []
    : [{ path: "offset", message: "must be a whole number, 0 or more" }])
]

const createIssues = (input: CreateOrderInput): ReadonlyArray<Issue> => {
  const issues: Array<Issue> = []
  if (blank(input.reservationId)) issues.push({ path: "reservationId", message: "must not be empty" })
  if (input.items.length === 0) issues.push({ path: "items", message: "must hold at least one line" })
  const { captured } = input.payment
  if (!(Number.isSafeInteger(captured.amount) && captured.amount >= 0)) {
    issues.push({ path: "payment.captured.amount", message: "must be whole minor units, 0 or more" })
  }
  if (captured.currency !== input.summary.total.currency) {
    issues.push({ path: "payment.captured.currency", message: "must be the currency of the summary" })
  }
  return issues
}

const invalidStatus = () => new InvalidStatus({ details: { validStatuses: orderStatuses } })

const invalidTransition = (from: OrderStatus, to: OrderStatus) =>
  new InvalidTransition({ details: { from, to, allowed: orderTransitions[from] } })

// The order in its new status, with the history entry that says when.
const enter = (order: Order, status: OrderStatus, at: string, note: string | undefined): Order => ({
  ...order,
  status,
  history: [...order.history, { status, at, ...(note !== undefined ? { note } : {}) }],
  updatedAt: at
})

/** Orders; needs OrdersRepository and IdGenerator. */
export const layerNoDeps = Layer.effect(
  Orders,
  Effect.gen(function* () {
    const repo = yield* OrdersRepository
    const ids = yield* IdGenerator

    // Every change to an order: read it, decide on what was read, write it
    // back only if nothing else changed it meanwhile (a compare-and-set on its
    // version, one statement on every store). A change that loses is decided
    // again on the order as the winner left it, so two racing changes both
    // apply only when the second is still allowed after the first. `apply`
    // answers the order itself when there is nothing to write.
    const change = <E>(orderId: OrderId, apply: (order: Order, at: string) => Effect.Effect<Order, E>) =>
      Effect.gen(function* () {
        for (let attempt = 0; attempt < maxAttempts; attempt++) {
          const found = yield* repo.find(orderId)
          if (Option.isNone(found)) return yield* new OrderNotFound({})
          const at = iso(yield* Clock.currentTimeMillis)
          const next = yield* apply(found.value.order, at)
          if (next === found.value.order) return next
          if (yield* repo.replace(next, found.value.version)) return next
        }
        return yield* new UpdateConflict({})
      })

    // Idempotent per reservation: the store's unique reservation decides, so
    // a repeat, even one racing the first, answers the first order and
    // writes nothing.
    const create = Effect.fn("Orders.create")(function* (input: CreateOrderInput) {
      const issues = createIssues(input)
      if (issues.length > 0) return yield* invalid("The order is not valid", issues)
      const at = iso(yield* Clock.currentTimeMillis)
      const orderId = OrderIdSchema.make(yield* ids.make("ord"))
      const { captured } = input.payment
      const order: Order = {
        orderId,
        userId: input.userId,
        status: "paid",
        items: input.items,
        address: input.address,
        shippingMethod: input.shippingMethod,
        summary: input.summary,
        payment: {
          paymentId: input.payment.paymentId,
          provider: input.payment.provider,
          captureId: input.payment.captureId,
          captured,
          refunded: { amount: 0, currency: captured.currency },
          refunds: []
        },
        shipments: [],
        history: [{ status: "paid", at }],
        reservationId: input.reservationId,
        ...(input.couponCode !== undefined ? { couponCode: input.couponCode } : {}),
        createdAt: at,
        updatedAt: at
      }
      const { stored } = yield* repo.insert(order)
      return stored.order
    })

    // Another user's order is not found, as one that does not exist: its
    // existence is not revealed.
    const get = Effect.fn("Orders.get")(function* (input: { orderId: OrderId; caller: OrderCaller }) {
      const found = yield* repo.find(input.orderId)
      if (Option.isNone(found)) return yield* new OrderNotFound({})
      const { order } = found.value
      if (input.caller.role !== "admin" && order.userId !== input.caller.userId) return yield* new OrderNotFound({})
      return order
    })

    const listForUser = Effect.fn("Orders.listForUser")(function* (input: ListUserOrdersInput) {
      const issues = pageIssues(input.limit, input.offset)
      if (issues.length > 0) return yield* invalid("The page is not valid", issues)
      const page = yield* repo.list({ userId: input.userId, limit: input.limit, offset: input.offset })
      return { orders: page.orders, total: page.total, limit: input.limit, offset: input.offset }
    })

    const listAll = Effect.fn("Orders.listAll")(function* (input: ListAllOrdersInput) {
      const status = input.status
      if (status !== undefined && !isOrderStatus(status)) return yield* invalidStatus()
      const issues = pageIssues(input.limit, input.offset)
      if (issues.length > 0) return yield* invalid("The page is not valid", issues)
      const page = yield* repo.list({ status, limit: input.limit, offset: input.offset })
      return { orders: page.orders, total: page.total, limit: input.limit, offset: input.offset }
    })

    const setStatus = Effect.fn("Orders.setStatus")(function* (input: SetOrderStatusInput) {
      const to = input.status
      if (!isOrderStatus(to)) return yield* invalidStatus()
      return yield* change(input.orderId, (order, at) =>
        orderTransitions[order.status].includes(to)
          ? Effect.succeed(enter(order, to, at, input.note))
          : Effect.fail(invalidTransition(order.status, to))
      )
    })

    const addShipment = Effect.fn("Orders.addShipment")(function* (input: AddShipmentInput) {
      const issues: Array<Issue> = []
      if (blank(input.carrier)) issues.push({ path: "carrier", message: "must not be blank" })
      if (blank(input.trackingNumber)) issues.push({ path: "trackingNumber", message: "must not be blank" })
      if (issues.length > 0) return yield* invalid("The shipment is not valid", issues)
      // Drawn once, so a retried compare-and-set records the same shipment.
      const shipmentId = yield* ids.make("shp")
      return yield* change(input.orderId, (order, at) => {
        if (!shippableStatuses.includes(order.status)) return Effect.fail(invalidTransition(order.status, "shipped"))
        const shipped = enter(order, "shipped", at, `${input.carrier} ${input.trackingNumber}`)
        return Effect.succeed({
          ...shipped,
          shipments: [
            ...order.shipments,
            {
              shipmentId,
              carrier: input.carrier,
              trackingNumber: input.trackingNumber,
              ...(input.labelUrl !== undefined ? { labelUrl: input.labelUrl } : {}),
              createdAt: at
            }
          ]
        })
      })
    })

    // The money has already moved (payments); this records it. The bound is
    // checked on the order as read and written only if it is still that
    // order, so refunds racing each other can never add up past what was
    // captured: those that fit land, the rest are refused.
    const recordRefund = Effect.fn("Orders.recordRefund")(function* (input: RecordRefundInput) {
      if (!(Number.isSafeInteger(input.amount.amount) && input.amount.amount > 0)) {
        return yield* invalid("The refund is not valid", [
          { path: "amount.amount", message: "must be whole minor units, more than 0" }
        ])
      }
      if (blank(input.refundId)) {
        return yield* invalid("The refund is not valid", [{ path: "refundId", message: "must not be empty" }])
      }
      return yield* change(
        input.orderId,
        (order, at): Effect.Effect<Order, RefundExceedsCaptured | ValidationError> => {
          const { captured, refunded, refunds } = order.payment
          // A refund recorded before (a retry of the same provider refund).
          if (refunds.some((refund) => refund.refundId === input.refundId)) return Effect.succeed(order)
          if (input.amount.currency !== captured.currency) {
            return Effect.fail(
              invalid("The refund is not valid", [
                { path: "amount.currency", message: `must be ${captured.currency}, the currency of the payment` }
              ])
            )
          }
          if (refunded.amount + input.amount.amount > captured.amount) {
            return Effect.fail(new RefundExceedsCaptured({ details: { captured, refunded, requested: input.amount } }))
          }
          const total: Money = { amount: refunded.amount + input.amount.amount, currency: captured.currency }
          const recorded: Order = {
            ...order,
            payment: {
              ...order.payment,
              refunded: total,
              refunds: [...refunds, { refundId: input.refundId, amount: input.amount, at }]
            },
            updatedAt: at
          }
          // A delivered order refunded in full is refunded; any other refund
          // (partial, or of a cancelled order, which was refunded on its way
          // out) changes the money only.
          return Effect.succeed(
            order.status === "delivered" && total.amount === captured.amount
              ? enter(recorded, "refunded", at, `refund ${input.refundId}`)
              : recorded
          )
        }
      )
    })

    const findByReservation = Effect.fn("Orders.findByReservation")(function* (input: { reservationId: string }) {
      const found = yield* repo.findByReservation(input.reservationId)
      return Option.isSome(found) ? found.value.order : null
    })

    return Orders.of({ create, get, listForUser, listAll, setStatus, addShipment, recordRefund, findByReservation })
  })
)

/** Orders with ids from WebCrypto; needs OrdersRepository. */
export const layer = layerNoDeps.pipe(Layer.provide(IdGenerator.layer))

/** Orders on its in-memory store (one per layer build); needs nothing. */
export const layerMemory = layer.pipe(Layer.provide(OrdersRepositoryMemory.layer))
