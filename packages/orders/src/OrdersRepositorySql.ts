import { Effect, Layer, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { CartLine, CartSummary } from "@shop/domain/Cart"
import { ShippingAddress, ShippingOption } from "@shop/domain/Fulfillment"
import { OrderId, UserId } from "@shop/domain/Ids"
import { Currency } from "@shop/domain/Money"
import { type Order, OrderHistoryEntry, OrderRefund, OrderStatus, PaymentProvider, Shipment } from "@shop/domain/Orders"
import * as Traced from "@shop/domain/Traced"
import { type OrderQuery, OrdersRepository, type StoredOrder } from "./OrdersRepository.ts"

// What never changes after creation, read back whole.
const Details = Schema.Struct({
  items: Schema.Array(CartLine),
  address: ShippingAddress,
  shippingMethod: ShippingOption,
  summary: CartSummary
})

// Every row is decoded, JSON columns included: a row written by another
// version of the code fails loudly here rather than deep in a handler.
const Row = Schema.Struct({
  orderId: OrderId,
  userId: UserId,
  reservationId: Schema.String,
  status: OrderStatus,
  paymentId: Schema.String,
  provider: PaymentProvider,
  captureId: Schema.String,
  currency: Currency,
  capturedAmount: Schema.Int,
  refundedAmount: Schema.Int,
  couponCode: Schema.NullOr(Schema.String),
  details: Schema.fromJsonString(Details),
  history: Schema.fromJsonString(Schema.Array(OrderHistoryEntry)),
  shipments: Schema.fromJsonString(Schema.Array(Shipment)),
  refunds: Schema.fromJsonString(Schema.Array(OrderRefund)),
  version: Schema.Int,
  createdAt: Schema.Int,
  updatedAt: Schema.Int
})
const decodeRows = Schema.decodeUnknownEffect(Schema.Array(Row))

const iso = (millis: number) => new Date(millis).toISOString()

const toStored = (row: typeof Row.Type): StoredOrder => ({
  order: {
    orderId: row.orderId,
    userId: row.userId,
    status: row.status,
    ...row.details,
    payment: {
      paymentId: row.paymentId,
      provider: row.provider,
      captureId: row.captureId,
      captured: { amount: row.capturedAmount, currency: row.currency },
      refunded: { amount: row.refundedAmount, currency: row.currency },
      refunds: row.refunds
    },
    shipments: row.shipments,
    history: row.history,
    reservationId: row.reservationId,
    ...(row.couponCode !== null ? { couponCode: row.couponCode } : {}),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt)
  },
  version: row.version
})

const json = (value: unknown) => JSON.stringify(value)

// Works on node:sqlite and D1 alike: every method is a single statement (or
// two reads), so none needs a transaction.
export const layer = Layer.effect(
  OrdersRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.literal(
      "order_id AS orderId, user_id AS userId, reservation_id AS reservationId, status, payment_id AS paymentId, " +
        "provider, capture_id AS captureId, currency, captured_amount AS capturedAmount, " +
        "refunded_amount AS refundedAmount, coupon_code AS couponCode, details, history, shipments, refunds, version, " +
        "created_at AS createdAt, updated_at AS updatedAt"
    )
    const stored = <E>(effect: Effect.Effect<ReadonlyArray<unknown>, E>) =>
      effect.pipe(
        Effect.flatMap(decodeRows),
        Effect.map((rows) => rows.map(toStored)),
        Effect.orDie
      )
    const one = <E>(effect: Effect.Effect<ReadonlyArray<unknown>, E>) =>
      stored(effect).pipe(Effect.map((found) => Option.fromNullishOr(found[0])))

    const findByReservation = (reservationId: string) =>
      one(sql`SELECT ${columns} FROM orders WHERE reservation_id = ${reservationId}`)

    const whereOf = (query: OrderQuery) => {
      const conditions = []
      if (query.userId !== undefined) conditions.push(sql`user_id = ${query.userId}`)
      if (query.status !== undefined) conditions.push(sql`status = ${query.status}`)
      return conditions.length === 0 ? sql.literal("1 = 1") : sql.and(conditions)
    }

    return OrdersRepository.of({
      // One statement: a reservation that has its order already is left as
      // it is and returns no row, so concurrent creates cannot both insert.
      insert: Traced.fn("OrdersRepository.insert")(function* (order: Order) {
        const details = {
          items: order.items,
          address: order.address,
          shippingMethod: order.shippingMethod,
          summary: order.summary
        }
        const inserted = yield* sql`
          INSERT INTO orders (order_id, user_id, reservation_id, status, payment_id, provider, capture_id, currency,
            captured_amount, refunded_amount, coupon_code, details, history, shipments, refunds, version, created_at,
            updated_at)
          VALUES (${order.orderId}, ${order.userId}, ${order.reservationId}, ${order.status}, ${order.payment.paymentId},
            ${order.payment.provider}, ${order.payment.captureId}, ${order.payment.captured.currency},
            ${order.payment.captured.amount}, ${order.payment.refunded.amount}, ${order.couponCode ?? null},
            ${json(details)}, ${json(order.history)}, ${json(order.shipments)}, ${json(order.payment.refunds)}, 1,
            ${Date.parse(order.createdAt)}, ${Date.parse(order.updatedAt)})
          ON CONFLICT (reservation_id) DO NOTHING
          RETURNING order_id
        `.pipe(Effect.orDie)
        if (inserted.length > 0) return { stored: { order, version: 1 }, created: true }
        const existing = yield* findByReservation(order.reservationId)
        // The conflicting row is committed (rows are never deleted), so it is there to read.
        if (Option.isNone(existing)) return yield* Effect.die(new Error("The order of a known reservation is missing"))
        return { stored: existing.value, created: false }
      }),
      find: (orderId) => one(sql`SELECT ${columns} FROM orders WHERE order_id = ${orderId}`),
      findByReservation,
      list: Traced.fn("OrdersRepository.list")(function* (query: OrderQuery) {
        const where = whereOf(query)
        const [orders, counted] = yield* Effect.all([
          stored(sql`
            SELECT ${columns} FROM orders WHERE ${where}
            ORDER BY created_at DESC, order_id DESC
            LIMIT ${query.limit} OFFSET ${query.offset}
          `),
          sql<{ total: number }>`SELECT COUNT(*) AS total FROM orders WHERE ${where}`.pipe(Effect.orDie)
        ])
        return { orders: orders.map((s) => s.order), total: counted[0]?.total ?? 0 }
      }),
      // One compare-and-set statement: it applies only to the version the
      // change was computed from.
      replace: (order, version) =>
        sql`
          UPDATE orders SET status = ${order.status}, refunded_amount = ${order.payment.refunded.amount},
            history = ${json(order.history)}, shipments = ${json(order.shipments)},
            refunds = ${json(order.payment.refunds)}, updated_at = ${Date.parse(order.updatedAt)},
            version = version + 1
          WHERE order_id = ${order.orderId} AND version = ${version}
          RETURNING order_id
        `.pipe(
          Effect.map((updated) => updated.length > 0),
          Effect.orDie
        )
    })
  })
)
