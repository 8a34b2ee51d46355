import { Effect, Layer, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { CartId, UserId } from "@shop/domain/Ids"
import { HoldId } from "@shop/domain/Inventory"
import { Currency } from "@shop/domain/Money"
import {
  type Payment,
  PaymentCapture,
  PaymentFailure,
  PaymentId,
  PaymentProviderName,
  PaymentRefund,
  PaymentStatus
} from "@shop/domain/Payments"
import * as Traced from "@shop/domain/Traced"
import { PaymentsRepository, type StoredPayment } from "./PaymentsRepository.ts"

// Every row is decoded, JSON columns included: a row written by another
// version of the code fails loudly here rather than deep in a handler.
const Row = Schema.Struct({
  paymentId: PaymentId,
  userId: UserId,
  cartId: CartId,
  reservationId: HoldId,
  provider: PaymentProviderName,
  providerOrderId: Schema.String,
  approveUrl: Schema.String,
  status: PaymentStatus,
  currency: Currency,
  amount: Schema.Int,
  captures: Schema.fromJsonString(Schema.Array(PaymentCapture)),
  refunds: Schema.fromJsonString(Schema.Array(PaymentRefund)),
  failure: Schema.NullOr(Schema.fromJsonString(PaymentFailure)),
  settledAt: Schema.NullOr(Schema.Int),
  orderId: Schema.NullOr(Schema.String),
  version: Schema.Int,
  createdAt: Schema.Int,
  updatedAt: Schema.Int
})
const decodeRows = Schema.decodeUnknownEffect(Schema.Array(Row))

const iso = (millis: number) => new Date(millis).toISOString()
const json = (value: unknown) => JSON.stringify(value)
const sum = (entries: ReadonlyArray<{ readonly amount: { readonly amount: number } }>) =>
  entries.reduce((total, entry) => total + entry.amount.amount, 0)

const toStored = (row: typeof Row.Type): StoredPayment => ({
  payment: {
    paymentId: row.paymentId,
    userId: row.userId,
    cartId: row.cartId,
    reservationId: row.reservationId,
    amount: { amount: row.amount, currency: row.currency },
    provider: row.provider,
    providerOrderId: row.providerOrderId,
    approveUrl: row.approveUrl,
    status: row.status,
    captures: row.captures,
    refunds: row.refunds,
    ...(row.failure !== null ? { failure: row.failure } : {}),
    ...(row.settledAt !== null ? { settledAt: iso(row.settledAt) } : {}),
    ...(row.orderId !== null ? { orderId: row.orderId } : {}),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt)
  },
  version: row.version
})

// Works on node:sqlite and D1 alike: every method is a single statement (or
// a statement and a read), so none needs a transaction.
export const layer = Layer.effect(
  PaymentsRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.literal(
      "payment_id AS paymentId, user_id AS userId, cart_id AS cartId, reservation_id AS reservationId, provider, " +
        "provider_order_id AS providerOrderId, approve_url AS approveUrl, status, currency, amount, captures, " +
        "refunds, failure, settled_at AS settledAt, order_id AS orderId, version, created_at AS createdAt, " +
        "updated_at AS updatedAt"
    )
    const one = <E>(effect: Effect.Effect<ReadonlyArray<unknown>, E>) =>
      effect.pipe(
        Effect.flatMap(decodeRows),
        Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toStored)),
        Effect.orDie
      )

    const findByReservation = (reservationId: string) =>
      one(sql`SELECT ${columns} FROM payments WHERE reservation_id = ${reservationId}`)

    return PaymentsRepository.of({
      // One statement: a reservation that has its payment already is left as
      // it is and returns no row, so concurrent creates cannot both insert.
      insert: Traced.fn("PaymentsRepository.insert")(function* (payment: Payment) {
        const inserted = yield* sql`
          INSERT INTO payments (payment_id, user_id, cart_id, reservation_id, provider, provider_order_id, approve_url,
            status, currency, amount, captured_amount, refunded_amount, captures, refunds, failure, settled_at, order_id,
            version, created_at, updated_at)
          VALUES (${payment.paymentId}, ${payment.userId}, ${payment.cartId}, ${payment.reservationId},
            ${payment.provider}, ${payment.providerOrderId}, ${payment.approveUrl}, ${payment.status},
            ${payment.amount.currency}, ${payment.amount.amount}, ${sum(payment.captures)}, ${sum(payment.refunds)},
            ${json(payment.captures)}, ${json(payment.refunds)},
            ${payment.failure === undefined ? null : json(payment.failure)},
            ${payment.settledAt === undefined ? null : Date.parse(payment.settledAt)}, ${payment.orderId ?? null}, 1,
            ${Date.parse(payment.createdAt)},
            ${Date.parse(payment.updatedAt)})
          ON CONFLICT (reservation_id) DO NOTHING
          RETURNING payment_id
        `.pipe(Effect.orDie)
        if (inserted.length > 0) return { stored: { payment, version: 1 }, created: true }
        const existing = yield* findByReservation(payment.reservationId)
        // The conflicting row is committed (rows are never deleted), so it is
        // there to read. Another conflict (the same provider order under
        // another reservation) is a bug of the caller and fails the INSERT.
        if (Option.isNone(existing)) {
          return yield* Effect.die(new Error("The payment of a known reservation is missing"))
        }
        return { stored: existing.value, created: false }
      }),
      find: (paymentId) => one(sql`SELECT ${columns} FROM payments WHERE payment_id = ${paymentId}`),
      findByReservation,
      findByProviderOrder: (providerOrderId) =>
        one(sql`SELECT ${columns} FROM payments WHERE provider_order_id = ${providerOrderId}`),
      // One compare-and-set statement: it applies only to the version the
      // change was computed from.
      replace: (payment, version) =>
        sql`
          UPDATE payments SET status = ${payment.status}, captured_amount = ${sum(payment.captures)},
            refunded_amount = ${sum(payment.refunds)}, captures = ${json(payment.captures)},
            refunds = ${json(payment.refunds)}, failure = ${payment.failure === undefined ? null : json(payment.failure)},
            settled_at = ${payment.settledAt === undefined ? null : Date.parse(payment.settledAt)},
            order_id = ${payment.orderId ?? null}, updated_at = ${Date.parse(payment.updatedAt)}, version = version + 1
          WHERE payment_id = ${payment.paymentId} AND version = ${version}
          RETURNING payment_id
        `.pipe(
          Effect.map((updated) => updated.length > 0),
          Effect.orDie
        ),
      // Once: only an unsettled payment changes, so of racing settlements the
      // first stays; the others read it as it left the payment.
      settle: (paymentId, orderId, at) =>
        Effect.gen(function* () {
          const settled = yield* one(sql`
            UPDATE payments SET settled_at = ${at}, order_id = COALESCE(${orderId ?? null}, order_id),
              updated_at = ${at}, version = version + 1
            WHERE payment_id = ${paymentId} AND settled_at IS NULL
            RETURNING ${columns}
          `)
          if (Option.isSome(settled)) return settled
          return yield* one(sql`SELECT ${columns} FROM payments WHERE payment_id = ${paymentId}`)
        }),
      // The partial index payments_unsettled answers this in order.
      listUnsettled: (createdBeforeMillis, limit) =>
        sql`
          SELECT ${columns} FROM payments
          WHERE settled_at IS NULL AND created_at < ${createdBeforeMillis}
          ORDER BY created_at, payment_id
          LIMIT ${limit}
        `.pipe(
          Effect.flatMap(decodeRows),
          Effect.map((rows) => rows.map((row) => toStored(row).payment)),
          Effect.orDie
        ),
      recordEvent: (eventId, at) =>
        sql`
          INSERT INTO webhook_events (event_id, received_at) VALUES (${eventId}, ${Date.parse(at)})
          ON CONFLICT (event_id) DO NOTHING
          RETURNING event_id
        `.pipe(
          Effect.map((inserted) => inserted.length > 0),
          Effect.orDie
        )
    })
  })
)
