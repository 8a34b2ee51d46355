import { Clock, Effect, Layer, Option, Semaphore } from "effect"
import {
  PaymentDeclined,
  PaymentFailed,
  PaymentNotFound,
  PaymentRejected,
  type PaymentProviderUnavailable,
  RefundExceedsCaptured,
  UpdateConflict,
  ValidationError
} from "@shop/domain/Errors"
import type { ListUnsettledInput, SettlePaymentInput } from "@shop/domain/Checkout"
import { IdGenerator } from "@shop/domain/IdGenerator"
import type { Money } from "@shop/domain/Money"
import {
  type CapturePaymentInput,
  type CreatePaymentInput,
  capturedOf,
  type FindByProviderOrderInput,
  type GetPaymentInput,
  type MarkFailedInput,
  type Payment,
  type PaymentId,
  PaymentId as PaymentIdSchema,
  type RecordEventInput,
  type RefundPaymentInput,
  refundedOf,
  type VerifyWebhookInput
} from "@shop/domain/Payments"
import * as Traced from "@shop/domain/Traced"
import { type Capture, type CaptureResult, PaymentProvider } from "./PaymentProvider.ts"
import { Payments } from "./Payments.ts"
import { PaymentsRepository, type StoredPayment } from "./PaymentsRepository.ts"
import * as PaymentsRepositoryMemory from "./PaymentsRepositoryMemory.ts"

interface Issue {
  readonly path: string
  readonly message: string
}

const iso = (millis: number) => new Date(millis).toISOString()
const invalid = (message: string, issues: ReadonlyArray<Issue>) => new ValidationError({ message, details: { issues } })
const wholePositive = (amount: number) => Number.isSafeInteger(amount) && amount > 0

// Each compare-and-set that loses means another change to the same payment
// landed, so a caller retries only while others make progress; this many
// losses in a row means the payment is being hammered, and the caller is told
// to try again rather than kept waiting.
const maxAttempts = 50

// The provider's request ids, derived from what the shop already names once,
// so that a repeat after a lost answer is the same request to the provider
// (PayPal-Request-Id) and is done there once: the order per hold, the capture
// per payment, a refund per the caller's refund id.
const createRequestId = (reservationId: string) => `create-${reservationId}`
const captureRequestId = (paymentId: PaymentId) => `capture-${paymentId}`
const refundRequestId = (paymentId: PaymentId, requestId: string) => `refund-${paymentId}-${requestId}`

// A capture whose money is (or will be) taken. PENDING counts: the provider
// has accepted it and settles it later (a webhook says how), so the checkout
// must treat the money as taken, never as free to charge again.
const taken = (capture: Capture) => capture.status !== "DECLINED" && capture.status !== "FAILED"

// One in-process gate per key: concurrent creates for one hold (refunds of
// one payment) in this process wait for the first, which then answers them
// all from the store, and a refund is checked against the refunds recorded
// before it. Across processes the provider's request ids do the same job (one
// order per hold, one refund per refund id, never above the capture), so the
// gate saves provider calls; correctness rests on the store's unique
// reservation, the compare-and-set and the provider's own bound.
const makeKeyedGate = () => {
  const gates = new Map<string, { readonly semaphore: Semaphore.Semaphore; users: number }>()
  const acquire = (key: string) =>
    Effect.sync(() => {
      let gate = gates.get(key)
      if (gate === undefined) {
        gate = { semaphore: Semaphore.makeUnsafe(1), users: 0 }
        gates.set(key, gate)
      }
      gate.users++
      return gate
    })
  const release = (key: string, gate: { users: number }) =>
    Effect.sync(() => {
      gate.users--
      if (gate.users === 0) gates.delete(key)
    })
  return <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) =>
    Effect.acquireUseRelease(
      acquire(key),
      (gate) => gate.semaphore.withPermit(effect),
      (gate) => release(key, gate)
    )
}

/** Payments; needs PaymentsRepository, PaymentProvider and IdGenerator. */
export const layerNoDeps = Layer.effect(
  Payments,
  Effect.gen(function* () {
    const repo = yield* PaymentsRepository
    const provider = yield* PaymentProvider
    const ids = yield* IdGenerator
    const perReservation = makeKeyedGate()
    const perPayment = makeKeyedGate()

    const load = (paymentId: PaymentId) =>
      Effect.flatMap(repo.find(paymentId), (found) =>
        Option.isSome(found) ? Effect.succeed(found.value) : Effect.fail(new PaymentNotFound({}))
      )

    // Every change to a payment: read it, decide on what was read, write it
    // back only if nothing else changed it meanwhile (a compare-and-set on its
    // version, one statement on every store). A change that loses is decided
    // again on the payment as the winner left it. `apply` answers the payment
    // itself when there is nothing to write. A caller that has just read the
    // payment passes what it read as the first attempt's: a write decided on
    // it lands only if nothing wrote since (the compare-and-set), and
    // "nothing to write" is not answered from it but decided again on a
    // fresh read, so this saves a read and answers nothing stale.
    const change = <E>(
      paymentId: PaymentId,
      apply: (payment: Payment, at: string) => Effect.Effect<Payment, E>,
      read?: StoredPayment
    ) =>
      Effect.gen(function* () {
        for (let attempt = 0; attempt < maxAttempts; attempt++) {
          const given = attempt === 0 ? read : undefined
          const found = given ?? (yield* load(paymentId))
          const at = iso(yield* Clock.currentTimeMillis)
          const next = yield* apply(found.payment, at)
          if (next === found.payment) {
            if (given === undefined) return next
            continue
          }
          if (yield* repo.replace(next, found.version)) return next
        }
        return yield* new UpdateConflict({})
      })

    // Idempotent per reservation: a payment stored for the hold answers
    // every repeat. The provider order is created with a request id derived
    // from the hold, so a retry after a lost answer (nothing stored yet) gets
    // the same provider order rather than a second one; its reference is the
    // hold too, the one name every attempt shares.
    const create = Traced.fn("Payments.create")(function* (input: CreatePaymentInput) {
      if (!wholePositive(input.amount.amount)) {
        return yield* invalid("The payment is not valid", [
          { path: "amount.amount", message: "must be whole minor units, more than 0" }
        ])
      }
      return yield* perReservation(
        input.reservationId,
        Effect.gen(function* () {
          const existing = yield* repo.findByReservation(input.reservationId)
          if (Option.isSome(existing)) return existing.value.payment
          const order = yield* provider.createOrder({
            amount: input.amount,
            reference: input.reservationId,
            returnUrl: input.returnUrl,
            cancelUrl: input.cancelUrl,
            requestId: createRequestId(input.reservationId)
          })
          const at = iso(yield* Clock.currentTimeMillis)
          const payment: Payment = {
            paymentId: PaymentIdSchema.make(yield* ids.make("pay")),
            userId: input.userId,
            cartId: input.cartId,
            reservationId: input.reservationId,
            amount: input.amount,
            provider: "paypal",
            providerOrderId: order.providerOrderId,
            approveUrl: order.approveUrl,
            status: "created",
            captures: [],
            refunds: [],
            createdAt: at,
            updatedAt: at
          }
          // Another process may have stored the hold's payment meanwhile: the
          // store keeps the first, and this answers it.
          const { stored } = yield* repo.insert(payment)
          return stored.payment
        })
      )
    })

    // Another user's payment is not found, as one that does not exist: its
    // existence is not revealed.
    const get = Traced.fn("Payments.get")(function* (input: GetPaymentInput) {
      const { payment } = yield* load(input.paymentId)
      if (input.caller.role !== "admin" && payment.userId !== input.caller.userId) {
        return yield* new PaymentNotFound({})
      }
      return payment
    })

    const findByProviderOrder = Traced.fn("Payments.findByProviderOrder")(function* (input: FindByProviderOrderInput) {
      const found = yield* repo.findByProviderOrder(input.providerOrderId)
      return Option.isSome(found) ? found.value.payment : null
    })

    // The capture the provider made for this payment's order, if any: how the
    // outcome of a capture whose answer was lost is learned.
    const captureAtProvider = (payment: Payment) =>
      Effect.map(
        provider.getOrder({ providerOrderId: payment.providerOrderId }),
        (order): Option.Option<CaptureResult> =>
          Option.map(Option.fromNullishOr(order.captures.find(taken)), (capture) => ({
            providerOrderId: order.providerOrderId,
            ...capture
          }))
      )

    // Records the provider's capture on the payment, once: a capture already
    // recorded (by a racing call) leaves the payment as it is. A payment the
    // checkout marked failed while this capture was in flight becomes
    // captured anyway, keeping its failure: the money moved, so the record
    // must say so for the refund that follows.
    const recordCapture = (paymentId: PaymentId, capture: CaptureResult, read?: StoredPayment) =>
      change(
        paymentId,
        (payment, at) =>
          Effect.succeed(
            payment.captures.length > 0
              ? payment
              : {
                  ...payment,
                  status: "captured" as const,
                  captures: [{ captureId: capture.captureId, amount: capture.amount, at }],
                  updatedAt: at
                }
          ),
        read
      )

    // At most one capture, however many calls race: the provider capture
    // carries a request id derived from the payment, so the provider does it
    // once and answers every repeat with it; a call that meets the capture
    // made by another request reads it from the order; the record is a
    // compare-and-set that adds a capture only to a payment without one.
    const capture = Traced.fn("Payments.capture")(function* (input: CapturePaymentInput) {
      const stored = yield* load(input.paymentId)
      const { payment } = stored
      if (payment.captures.length > 0) return payment
      if (payment.status === "failed" && payment.failure !== undefined) {
        // No new capture for an abandoned checkout, but one that happened
        // before it gave up (its answer lost) is recorded, so that the money
        // is on the record for the refund. The provider's webhook for that
        // capture lands here too.
        const { step, reason } = payment.failure
        const happened = yield* captureAtProvider(payment).pipe(
          Effect.catchTag("ProviderOrderNotFound", (error) => Effect.die(error))
        )
        if (Option.isNone(happened)) return yield* new PaymentFailed({ details: { step, reason } })
        return yield* recordCapture(payment.paymentId, happened.value, stored)
      }
      const found: Option.Option<CaptureResult> = yield* provider
        .captureOrder({ providerOrderId: payment.providerOrderId, requestId: captureRequestId(payment.paymentId) })
        .pipe(
          Effect.map(Option.some),
          Effect.catchTags({
            // Captured by a request with another id (an earlier version of
            // this service, a dashboard): the order has it.
            PaymentAlreadyCaptured: () => captureAtProvider(payment),
            // The outcome is unknown: the capture may have happened. The
            // order says; if it did not, the caller repeats the call.
            PaymentProviderUnavailable: (unavailable: PaymentProviderUnavailable) =>
              captureAtProvider(payment).pipe(
                Effect.catchTag("PaymentProviderUnavailable", () => Effect.fail(unavailable)),
                Effect.flatMap((seen) => (Option.isSome(seen) ? Effect.succeed(seen) : Effect.fail(unavailable)))
              ),
            // Our record names an order the provider does not have: a
            // configuration fault (another account, sandbox against live),
            // nothing a caller can fix.
            ProviderOrderNotFound: (error) => Effect.die(error)
          }),
          // The same fault met by the order reads above.
          Effect.catchTag("ProviderOrderNotFound", (error) => Effect.die(error))
        )
      if (Option.isNone(found)) {
        return yield* Effect.die(new Error("The provider reports the order captured but shows no capture"))
      }
      // A capture the provider answered but refused (PayPal may answer 201
      // with a DECLINED capture): nothing was taken, the buyer may try again.
      if (!taken(found.value)) {
        return yield* new PaymentDeclined({ details: { issue: `CAPTURE_${found.value.status}` } })
      }
      // Recorded on the payment as read above, unless it changed meanwhile.
      return yield* recordCapture(payment.paymentId, found.value, stored)
    })

    const exceeds = (payment: Payment, requested: Money) =>
      new RefundExceedsCaptured({
        details: { captured: capturedOf(payment), refunded: refundedOf(payment), requested }
      })

    // Never above captured minus refunded: checked on the record before the
    // provider is asked, and by the provider itself on its capture, so
    // refunds racing each other with different ids cannot add up past the
    // capture (the provider refuses the one that does not fit). Idempotent
    // per requestId: at the provider (its request id derives from it) and in
    // the record (a refund with that requestId is recorded once).
    const refundOnce = Effect.fnUntraced(function* (input: RefundPaymentInput) {
      const stored = yield* load(input.paymentId)
      const { payment } = stored
      if (payment.refunds.some((recorded) => recorded.requestId === input.requestId)) return payment
      const currency = payment.amount.currency
      if (input.amount !== undefined) {
        const issues: Array<Issue> = []
        if (!wholePositive(input.amount.amount)) {
          issues.push({ path: "amount.amount", message: "must be whole minor units, more than 0" })
        }
        if (input.amount.currency !== currency) {
          issues.push({ path: "amount.currency", message: `must be ${currency}, the currency of the payment` })
        }
        if (issues.length > 0) return yield* invalid("The refund is not valid", issues)
      }
      const capture = payment.captures[0]
      const left = capturedOf(payment).amount - refundedOf(payment).amount
      // Always an explicit amount to the provider, so that a repeat of this
      // request asks for the same money whatever was refunded meanwhile.
      const requested: Money = input.amount ?? { amount: left, currency }
      if (capture === undefined || left <= 0 || requested.amount > left) return yield* exceeds(payment, requested)
      const given = yield* provider
        .refundCapture({
          captureId: capture.captureId,
          amount: requested,
          requestId: refundRequestId(payment.paymentId, input.requestId)
        })
        .pipe(
          Effect.catchTags({
            // A refund the record does not know of yet (another refund in
            // flight, or one whose answer was lost) took what is left.
            RefundExceedsCaptured: () =>
              Effect.flatMap(load(payment.paymentId), (now) => Effect.fail(exceeds(now.payment, requested))),
            // The record names a capture the provider does not have: a
            // configuration fault, nothing a caller can fix.
            CaptureNotFound: (error) => Effect.die(error)
          })
        )
      if (given.status === "CANCELLED" || given.status === "FAILED") {
        return yield* new PaymentRejected({
          details: { operation: "refundCapture", status: 422, issue: `REFUND_${given.status}` }
        })
      }
      // The money moved: it is recorded whatever else landed meanwhile.
      return yield* change(
        payment.paymentId,
        (current, at) => {
          if (current.refunds.some((recorded) => recorded.requestId === input.requestId)) return Effect.succeed(current)
          const refunds = [
            ...current.refunds,
            {
              refundId: given.refundId,
              amount: given.amount ?? requested,
              at,
              reason: input.reason,
              requestId: input.requestId
            }
          ]
          const refunded = refunds.reduce((total, entry) => total + entry.amount.amount, 0)
          return Effect.succeed({
            ...current,
            status: refunded >= capturedOf(current).amount ? ("refunded" as const) : ("partially_refunded" as const),
            refunds,
            updatedAt: at
          })
        },
        stored
      )
    })

    const refund = Traced.fn("Payments.refund")(function* (input: RefundPaymentInput) {
      return yield* perPayment(input.paymentId, refundOnce(input))
    })

    // The saga's note of where it gave up. Without money taken the payment
    // is failed and a later capture takes nothing (money must never be taken
    // for an abandoned checkout; it only records a capture that had already
    // happened); with money taken its status stays what the
    // money says, and the refund is the saga's next step. The same note again
    // writes nothing.
    const markFailed = Traced.fn("Payments.markFailed")(function* (input: MarkFailedInput) {
      return yield* change(input.paymentId, (payment, at) => {
        const { failure } = payment
        if (failure !== undefined && failure.step === input.step && failure.reason === input.reason) {
          return Effect.succeed(payment)
        }
        return Effect.succeed({
          ...payment,
          status: payment.captures.length === 0 ? ("failed" as const) : payment.status,
          failure: { step: input.step, reason: input.reason, at },
          updatedAt: at
        })
      })
    })

    // The reconciliation pass's work list. The contract's schema bounds both
    // fields; an in-process caller that passes something else is a bug.
    const listUnsettled = Traced.fn("Payments.listUnsettled")(function* (input: ListUnsettledInput) {
      const before = Date.parse(input.createdBefore)
      if (Number.isNaN(before) || !Number.isInteger(input.limit) || input.limit < 1 || input.limit > 500) {
        return yield* Effect.die(new Error("listUnsettled needs an ISO createdBefore and a limit from 1 to 500"))
      }
      return yield* repo.listUnsettled(before, input.limit)
    })

    // Once: the first settlement's time and order stay, so a repeat (a racing
    // capture, the next reconciliation pass) writes nothing. The store does
    // it in one conditional statement (settled only if not yet), which moves
    // the version on like any change.
    const settle = Traced.fn("Payments.settle")(function* (input: SettlePaymentInput) {
      const settled = yield* repo.settle(input.paymentId, input.orderId, yield* Clock.currentTimeMillis)
      if (Option.isNone(settled)) return yield* new PaymentNotFound({})
      return settled.value.payment
    })

    const recordEvent = Traced.fn("Payments.recordEvent")(function* (input: RecordEventInput) {
      const at = iso(yield* Clock.currentTimeMillis)
      return { first: yield* repo.recordEvent(input.eventId, at) }
    })

    const verifyWebhook = Traced.fn("Payments.verifyWebhook")(function* (input: VerifyWebhookInput) {
      return yield* provider.verifyWebhook(input)
    })

    return Payments.of({
      create,
      get,
      findByProviderOrder,
      capture,
      refund,
      markFailed,
      listUnsettled,
      settle,
      recordEvent,
      verifyWebhook
    })
  })
)

/** Payments with ids from WebCrypto; needs PaymentsRepository and PaymentProvider. */
export const layer = layerNoDeps.pipe(Layer.provide(IdGenerator.layer))

/** Payments on its in-memory store (one per layer build); needs PaymentProvider. */
export const layerMemory = layer.pipe(Layer.provide(PaymentsRepositoryMemory.layer))
