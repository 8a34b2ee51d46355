import { Context, type Effect, type Option } from "effect"
import type { Payment, PaymentId } from "@shop/domain/Payments"

// A payment as stored, with the version every change is conditional on.
export interface StoredPayment {
  readonly payment: Payment
  readonly version: number
}

// Where payments live: the service's SQL store (SQLite on node, D1 on
// Cloudflare) or memory. Every method is one atomic step (a single
// statement, or one synchronous update of a Map), which is what lets the
// service stay correct under concurrent calls without transactions.
export class PaymentsRepository extends Context.Service<
  PaymentsRepository,
  {
    // Stores a new payment at version 1 unless its reservation already has
    // one: the store's unique reservation decides, so concurrent inserts for
    // one reservation leave exactly one payment. Answers the reservation's
    // payment either way, and whether this call stored it.
    readonly insert: (payment: Payment) => Effect.Effect<{ readonly stored: StoredPayment; readonly created: boolean }>
    readonly find: (paymentId: PaymentId) => Effect.Effect<Option.Option<StoredPayment>>
    readonly findByReservation: (reservationId: string) => Effect.Effect<Option.Option<StoredPayment>>
    readonly findByProviderOrder: (providerOrderId: string) => Effect.Effect<Option.Option<StoredPayment>>
    // Writes what changes after creation (status, captures, refunds, failure,
    // settledAt, orderId, updatedAt) from `payment` over the stored payment if it is still at
    // `version`, which then becomes version + 1. False, and nothing written,
    // when another change landed first or there is no such payment.
    readonly replace: (payment: Payment, version: number) => Effect.Effect<boolean>
    // Settles the payment at `at` (epoch milliseconds), with its order when
    // one is given (otherwise its order stays as it is), unless it is settled
    // already: one conditional statement that also moves the version on, so
    // a change computed before it loses its compare-and-set. Answers the
    // payment as it then stands (settled by this call or before); none when
    // there is no such payment.
    readonly settle: (
      paymentId: PaymentId,
      orderId: string | undefined,
      at: number
    ) => Effect.Effect<Option.Option<StoredPayment>>
    // Payments without `settledAt` created before `createdBeforeMillis`
    // (epoch milliseconds), oldest first (then by id), at most `limit`.
    readonly listUnsettled: (createdBeforeMillis: number, limit: number) => Effect.Effect<ReadonlyArray<Payment>>
    // Remembers a webhook event id; true only for the call that stored it.
    readonly recordEvent: (eventId: string, at: string) => Effect.Effect<boolean>
  }
>()("@shop/payments/PaymentsRepository") {}
