import { Clock, Effect, Layer, Option, Schema } from "effect"
import type { AdminRefundInput } from "@shop/domain/Checkout"
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
import { HoldId } from "@shop/domain/Inventory"
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
  type OrderRefund,
  type OrderStatus,
  orderStatuses,
  orderTransitions,
  type RecordRefundInput,
  type SetOrderStatusInput,
  shippableStatuses
} from "@shop/domain/Orders"
import { PaymentId, type PaymentRefund } from "@shop/domain/Payments"
import * as Traced from "@shop/domain/Traced"
import { Inventory } from "@shop/inventory/Inventory"
import { Payments } from "@shop/payments/Payments"
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

// Why a refund of `amount` cannot be recorded on `order`, if it cannot.
const refundProblem = (order: Order, amount: Money): RefundExceedsCaptured | ValidationError | undefined => {
  const { captured, refunded } = order.payment
  if (amount.currency !== captured.currency) {
    return invalid("The refund is not valid", [
      { path: "amount.currency", message: `must be ${captured.currency}, the currency of the payment` }
    ])
  }
  if (refunded.amount + amount.amount > captured.amount) {
    return new RefundExceedsCaptured({ details: { captured, refunded, requested: amount } })
  }
  return undefined
}

// The order with one more refund recorded (checked by refundProblem first).
// A delivered order refunded in full is refunded; any other refund (partial,
// or of an order in another status) changes the money only.
const withRefund = (order: Order, refund: OrderRefund, at: string): Order => {
  const { captured, refunded, refunds } = order.payment
  const total: Money = { amount: refunded.amount + refund.amount.amount, currency: captured.currency }
  const recorded: Order = {
    ...order,
    payment: { ...order.payment, refunded: total, refunds: [...refunds, refund] },
    updatedAt: at
  }
  return order.status === "delivered" && total.amount === captured.amount
    ? enter(recorded, "refunded", at, `refund ${refund.refundId}`)
    : recorded
}

// An admin refund leaves these alone: a cancelled order was refunded on its
// way out, a refunded one has nothing left.
const unrefundableStatuses: ReadonlyArray<OrderStatus> = ["cancelled", "refunded"]

// The refund request ids given to payments, derived from the order so that a
// retry is the same request (payments and PayPal then do it once): one per
// cancellation, and the admin refund that follows the n refunds recorded so far.
const cancelRequestId = (orderId: OrderId) => `cancel-${orderId}`
const adminRequestId = (order: Order) => `refund-${order.orderId}-${order.payment.refunds.length}`

const decodePaymentId = Schema.decodeUnknownOption(PaymentId)
const decodeHoldId = Schema.decodeUnknownOption(HoldId)

/** Orders; needs OrdersRepository, IdGenerator, Payments and Inventory. */
export const layerNoDeps = Layer.effect(
  Orders,
  Effect.gen(function* () {
    const repo = yield* OrdersRepository
    const ids = yield* IdGenerator
    const payments = yield* Payments
    const inventory = yield* Inventory

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
    const create = Traced.fn("Orders.create")(function* (input: CreateOrderInput) {
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
    const get = Traced.fn("Orders.get")(function* (input: { orderId: OrderId; caller: OrderCaller }) {
      const found = yield* repo.find(input.orderId)
      if (Option.isNone(found)) return yield* new OrderNotFound({})
      const { order } = found.value
      if (input.caller.role !== "admin" && order.userId !== input.caller.userId) return yield* new OrderNotFound({})
      return order
    })

    const listForUser = Traced.fn("Orders.listForUser")(function* (input: ListUserOrdersInput) {
      const issues = pageIssues(input.limit, input.offset)
      if (issues.length > 0) return yield* invalid("The page is not valid", issues)
      const page = yield* repo.list({ userId: input.userId, limit: input.limit, offset: input.offset })
      return { orders: page.orders, total: page.total, limit: input.limit, offset: input.offset }
    })

    const listAll = Traced.fn("Orders.listAll")(function* (input: ListAllOrdersInput) {
      const status = input.status
      if (status !== undefined && !isOrderStatus(status)) return yield* invalidStatus()
      const issues = pageIssues(input.limit, input.offset)
      if (issues.length > 0) return yield* invalid("The page is not valid", issues)
      const page = yield* repo.list({ status, limit: input.limit, offset: input.offset })
      return { orders: page.orders, total: page.total, limit: input.limit, offset: input.offset }
    })

    // Checkout creates orders from payments it made, so a malformed id here
    // is a fault of the store, not something a caller can fix.
    const paymentIdOf = (order: Order) =>
      Option.match(decodePaymentId(order.payment.paymentId), {
        onNone: () => Effect.die(new Error(`Order ${order.orderId} names a malformed payment id`)),
        onSome: Effect.succeed
      })

    // The refunds payments made for the order, recorded on it: those it
    // already has (by refund id) are skipped, so this writes nothing when the
    // order is up to date and repairs an order whose recording was lost.
    // Payments never refunds past its capture, which is the order's: a
    // refund that does not fit means the two records disagree.
    const recordGiven = (orderId: OrderId, given: ReadonlyArray<PaymentRefund>) =>
      change(orderId, (order, at) => {
        const known = new Set(order.payment.refunds.map((refund) => refund.refundId))
        let next = order
        for (const refund of given) {
          if (known.has(refund.refundId)) continue
          if (refundProblem(next, refund.amount) !== undefined) {
            return Effect.die(new Error(`Refund ${refund.refundId} does not fit the capture of order ${orderId}`))
          }
          next = withRefund(next, { refundId: refund.refundId, amount: refund.amount, at: refund.at }, at)
        }
        return Effect.succeed(next)
      })

    // What a cancelled order owes, each step idempotent so that cancelling
    // again finishes what a failed attempt left: the money captured and not
    // yet refunded goes back (one request per cancellation), is recorded, and
    // the hold's stock goes back on the shelf.
    const settleCancelled = Effect.fnUntraced(function* (order: Order) {
      let settled = order
      const { captured, refunded } = order.payment
      if (refunded.amount < captured.amount) {
        const paymentId = yield* paymentIdOf(order)
        const payment = yield* payments
          .refund({ paymentId, reason: "The order was cancelled", requestId: cancelRequestId(order.orderId) })
          .pipe(
            Effect.catchTags({
              // Nothing left at payments although the order shows some: a
              // refund made there whose recording here was lost. The
              // payment's own record says which, and it is recorded below.
              RefundExceedsCaptured: () =>
                Effect.orDie(payments.get({ paymentId, caller: { userId: order.userId, role: "user" } })),
              // The order names a payment of its own; no input of the caller's is involved.
              PaymentNotFound: (error) => Effect.die(error),
              InvalidPaymentAmount: (error) => Effect.die(error),
              ValidationError: (error) => Effect.die(error)
            })
          )
        settled = yield* recordGiven(order.orderId, payment.refunds)
      }
      const holdId = decodeHoldId(order.reservationId)
      if (Option.isNone(holdId)) {
        return yield* Effect.die(new Error(`Order ${order.orderId} names a malformed hold id`))
      }
      // A hold inventory does not know cannot be restocked, now or on a
      // retry: the cancellation stands, and the log says what was skipped.
      yield* inventory
        .restock({ holdId: holdId.value })
        .pipe(
          Effect.catchTag("HoldNotFound", () =>
            Effect.logWarning("The hold of a cancelled order is unknown to inventory: nothing restocked").pipe(
              Effect.annotateLogs({ orderId: order.orderId, holdId: holdId.value })
            )
          )
        )
      return settled
    })

    // The status is set first, by compare-and-set: once an order is
    // cancelled it stays so (nothing can ship it any more), whatever happens
    // to the steps that follow, and a repeat of the cancellation runs them again.
    const setStatus = Traced.fn("Orders.setStatus")(function* (input: SetOrderStatusInput) {
      const to = input.status
      if (!isOrderStatus(to)) return yield* invalidStatus()
      const order = yield* change(input.orderId, (order, at) => {
        // A repeat: nothing to write, the steps below finish what is left.
        if (to === "cancelled" && order.status === "cancelled") return Effect.succeed(order)
        return orderTransitions[order.status].includes(to)
          ? Effect.succeed(enter(order, to, at, input.note))
          : Effect.fail(invalidTransition(order.status, to))
      })
      if (to !== "cancelled") return order
      return yield* settleCancelled(order)
    })

    const addShipment = Traced.fn("Orders.addShipment")(function* (input: AddShipmentInput) {
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
    const recordRefund = Traced.fn("Orders.recordRefund")(function* (input: RecordRefundInput) {
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
          // A refund recorded before (a retry of the same provider refund).
          if (order.payment.refunds.some((refund) => refund.refundId === input.refundId)) return Effect.succeed(order)
          const problem = refundProblem(order, input.amount)
          if (problem !== undefined) return Effect.fail(problem)
          return Effect.succeed(withRefund(order, { refundId: input.refundId, amount: input.amount, at }, at))
        }
      )
    })

    // An admin refund: the money first (payments, bounded by the capture),
    // then its record here. The request id is the order's count of refunds
    // recorded so far, so a retry after a failure or a lost answer, before
    // the refund was recorded here, is the same request and gives nothing
    // twice; once recorded, another call is another refund (the gateway's
    // Idempotency-Key covers an HTTP retry of an answered request). Allowed
    // in every status but the final ones: partial refunds of a paid,
    // processing or shipped order change only its money (cancelling is its
    // own step); a delivered order refunded in full becomes refunded.
    const refund = Traced.fn("Orders.refund")(function* (input: AdminRefundInput) {
      if (input.amount !== undefined && !(Number.isSafeInteger(input.amount.amount) && input.amount.amount > 0)) {
        return yield* invalid("The refund is not valid", [
          { path: "amount.amount", message: "must be whole minor units, more than 0" }
        ])
      }
      const found = yield* repo.find(input.orderId)
      if (Option.isNone(found)) return yield* new OrderNotFound({})
      const order = found.value.order
      if (unrefundableStatuses.includes(order.status)) return yield* invalidTransition(order.status, "refunded")
      const { captured, refunded } = order.payment
      const requested: Money = input.amount ?? {
        amount: captured.amount - refunded.amount,
        currency: captured.currency
      }
      // Checked here first, so that nothing the order cannot record is asked of payments.
      const problem =
        requested.amount > 0
          ? refundProblem(order, requested)
          : new RefundExceedsCaptured({ details: { captured, refunded, requested } })
      if (problem !== undefined) return yield* problem
      const requestId = adminRequestId(order)
      const payment = yield* payments
        .refund({ paymentId: yield* paymentIdOf(order), amount: requested, reason: "Refunded by an admin", requestId })
        .pipe(
          Effect.catchTags({
            PaymentNotFound: (error) => Effect.die(error),
            InvalidPaymentAmount: (error) => invalid(error.message, [{ path: "amount", message: error.message }])
          })
        )
      const recorded = yield* recordGiven(order.orderId, payment.refunds)
      const given = payment.refunds.find((entry) => entry.requestId === requestId)
      if (given === undefined) return yield* Effect.die(new Error(`Payments answered refund ${requestId} without it`))
      // Another refund of another amount took this request id first (two
      // admins at once): its money is recorded, this one was not given.
      if (given.amount.amount !== requested.amount) return yield* new UpdateConflict({})
      return recorded
    })

    const findByReservation = Traced.fn("Orders.findByReservation")(function* (input: { reservationId: string }) {
      const found = yield* repo.findByReservation(input.reservationId)
      return Option.isSome(found) ? found.value.order : null
    })

    return Orders.of({
      create,
      get,
      listForUser,
      listAll,
      setStatus,
      addShipment,
      recordRefund,
      refund,
      findByReservation
    })
  })
)

/** Orders with ids from WebCrypto; needs OrdersRepository, Payments and Inventory. */
export const layer = layerNoDeps.pipe(Layer.provide(IdGenerator.layer))

/** Orders on its in-memory store (one per layer build); needs Payments and Inventory. */
export const layerMemory = layer.pipe(Layer.provide(OrdersRepositoryMemory.layer))
