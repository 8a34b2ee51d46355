import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { CartId, OrderId, UserId } from "@shop/domain/Ids"
import { HoldId } from "@shop/domain/Inventory"
import type { CreatePaymentInput, Payment, PaymentId } from "@shop/domain/Payments"
import type * as PaypalFake from "@shop/paypal-fake/PaypalFake"
import { PaymentProvider } from "../src/PaymentProvider.ts"
import { Payments } from "../src/Payments.ts"
import * as PaymentsLive from "../src/PaymentsLive.ts"
import { PaymentsRepository } from "../src/PaymentsRepository.ts"
import * as PaymentsRepositoryMemory from "../src/PaymentsRepositoryMemory.ts"
import { apiBase, approve, fault, makeFake, providerLayer, requestCounts, stats, usd } from "./Fixtures.ts"

// The payments service on its memory store, with the real PayPal provider
// talking to a fake PayPal in the same process. TestClock throughout: the
// provider's timeout only fires when a test moves the clock, so a lost
// answer is lost exactly when the test says.

// Wednesday 2026-12-02, 10:00 UTC.
const start = Date.UTC(2026, 11, 2, 10)
const at = (millis: number) => new Date(millis).toISOString()
const timeoutMs = 5_000

const alice = UserId.make("usr_alice")
const bob = UserId.make("usr_bob")
const aliceCaller = { userId: alice, role: "user" as const }
const admin = { userId: UserId.make("usr_admin"), role: "admin" as const }
const cartId = CartId.make("cart_0123456789abcdefghijklmn")

const createInput = (reservation: string, amount = 1_999): CreatePaymentInput => ({
  userId: alice,
  cartId,
  reservationId: HoldId.make(reservation),
  amount: usd(amount),
  returnUrl: "https://shop.test/checkout/return",
  cancelUrl: "https://shop.test/checkout/cancel"
})

const servicesOver = (fake: PaypalFake.PaypalFake) =>
  PaymentsLive.layerMemory.pipe(Layer.provideMerge(providerLayer({ fake, timeoutMs })))

// The store with a yield around every step, so that concurrent calls really
// interleave: each reads the payment before any of them writes it back,
// which is the race the compare-and-set must survive.
const interleavingStore = Layer.effect(
  PaymentsRepository,
  Effect.gen(function* () {
    const store = yield* PaymentsRepository
    const slow =
      <Args extends ReadonlyArray<unknown>, A>(method: (...args: Args) => Effect.Effect<A>) =>
      (...args: Args) =>
        Effect.yieldNow.pipe(
          Effect.andThen(method(...args)),
          Effect.tap(() => Effect.yieldNow)
        )
    return PaymentsRepository.of({
      insert: slow(store.insert),
      find: slow(store.find),
      findByReservation: slow(store.findByReservation),
      findByProviderOrder: slow(store.findByProviderOrder),
      replace: slow(store.replace),
      settle: slow(store.settle),
      listUnsettled: slow(store.listUnsettled),
      recordEvent: slow(store.recordEvent)
    })
  })
).pipe(Layer.provide(PaymentsRepositoryMemory.layer))

// Each test gets its own fake PayPal and its own store, at `start`.
const run = <A, E>(test: (fake: PaypalFake.PaypalFake) => Effect.Effect<A, E, Payments | PaymentProvider>) => {
  const fake = makeFake()
  return Effect.gen(function* () {
    yield* TestClock.setTime(start)
    return yield* test(fake)
  }).pipe(Effect.provide(servicesOver(fake)))
}

// Lets the fake's promises run until `done` holds: real time, a millisecond
// at a time, since the TestClock does not move by itself.
const until = (fake: PaypalFake.PaypalFake, done: (counts: Record<PaypalFake.Step, number>) => boolean) =>
  Effect.gen(function* () {
    while (!done(yield* requestCounts(fake))) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 1)))
  })

/** A payment the buyer approved at the fake, ready to capture. */
const approvedPayment = (fake: PaypalFake.PaypalFake, reservation = "res_approved", amount = 1_999) =>
  Effect.gen(function* () {
    const payments = yield* Payments
    const payment = yield* payments.create(createInput(reservation, amount))
    const redirect = yield* approve(fake, payment.approveUrl)
    assert.strictEqual(redirect.status, 302)
    return payment
  })

const capturedPayment = (fake: PaypalFake.PaypalFake, reservation = "res_captured", amount = 1_999) =>
  Effect.gen(function* () {
    const payment = yield* approvedPayment(fake, reservation, amount)
    return yield* (yield* Payments).capture({ paymentId: payment.paymentId })
  })

describe("Payments.create", () => {
  it.effect("creates the PayPal order once per reservation; a repeat answers the same payment", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const payment = yield* payments.create(createInput("res_1"))
        assert.match(payment.paymentId, /^pay_[A-Za-z0-9]+$/)
        assert.strictEqual(payment.approveUrl, `${apiBase}/checkoutnow?token=${payment.providerOrderId}`)
        assert.deepStrictEqual(
          { ...payment, paymentId: "", providerOrderId: "", approveUrl: "" },
          {
            paymentId: "",
            userId: alice,
            cartId,
            reservationId: HoldId.make("res_1"),
            amount: usd(1_999),
            provider: "paypal",
            providerOrderId: "",
            approveUrl: "",
            status: "created",
            captures: [],
            refunds: [],
            createdAt: at(start),
            updatedAt: at(start)
          }
        )
        // The order at PayPal is for the amount, and names the hold.
        const order = yield* (yield* PaymentProvider).getOrder({ providerOrderId: payment.providerOrderId })
        assert.deepStrictEqual(order.amount, usd(1_999))
        assert.strictEqual(order.reference, "res_1")

        yield* TestClock.adjust("1 minute")
        // Whatever else a repeat carries, the first payment answers it.
        assert.deepStrictEqual(yield* payments.create(createInput("res_1", 5_000)), payment)
        assert.strictEqual((yield* stats(fake)).orders, 1)

        const other = yield* payments.create(createInput("res_2"))
        assert.notStrictEqual(other.paymentId, payment.paymentId)
        assert.notStrictEqual(other.providerOrderId, payment.providerOrderId)
        assert.strictEqual((yield* stats(fake)).orders, 2)
      })
    )
  )

  it.effect("20 concurrent creates for one reservation make one PayPal order and one payment", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const all = yield* Effect.all(
          Array.from({ length: 20 }, () => payments.create(createInput("res_race"))),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(new Set(all.map((payment) => payment.paymentId)).size, 1)
        assert.strictEqual(new Set(all.map((payment) => payment.providerOrderId)).size, 1)
        const seen = yield* stats(fake)
        assert.strictEqual(seen.orders, 1)
        assert.strictEqual(seen.requests.create, 1)
      })
    )
  )

  it.effect("a create whose answer was lost is repeated into the same PayPal order", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        yield* fault(fake, { step: "create", mode: "lost_answer" })
        const first = yield* Effect.forkChild(Effect.flip(payments.create(createInput("res_lost"))))
        yield* until(fake, (counts) => counts.create === 1)
        yield* TestClock.adjust(timeoutMs)
        const lost = yield* Fiber.join(first)
        assert.deepStrictEqual(lost._tag === "PaymentProviderUnavailable" && lost.details, {
          operation: "createOrder",
          reason: "timeout"
        })
        // PayPal made the order; the repeat carries the same request id and gets it.
        assert.strictEqual((yield* stats(fake)).orders, 1)
        const payment = yield* payments.create(createInput("res_lost"))
        assert.strictEqual((yield* stats(fake)).orders, 1)
        assert.strictEqual(
          (yield* (yield* PaymentProvider).getOrder({ providerOrderId: payment.providerOrderId })).reference,
          "res_lost"
        )
      })
    )
  )

  it.effect("an amount that is not whole positive minor units is refused before PayPal is asked", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const zero = yield* Effect.flip(payments.create(createInput("res_zero", 0)))
        assert.strictEqual(zero._tag, "ValidationError")
        const fraction = yield* Effect.flip(payments.create(createInput("res_fraction", 10.5)))
        assert.strictEqual(fraction._tag, "ValidationError")
        assert.strictEqual((yield* requestCounts(fake)).create, 0)
      })
    )
  )
})

describe("Payments.get and findByProviderOrder", () => {
  it.effect("the owner and an admin see a payment; another user and an unknown id get payment_not_found", () =>
    run(() =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const payment = yield* payments.create(createInput("res_get"))
        assert.deepStrictEqual(yield* payments.get({ paymentId: payment.paymentId, caller: aliceCaller }), payment)
        assert.deepStrictEqual(yield* payments.get({ paymentId: payment.paymentId, caller: admin }), payment)
        const other = yield* Effect.flip(
          payments.get({ paymentId: payment.paymentId, caller: { userId: bob, role: "user" } })
        )
        assert.strictEqual(other._tag, "PaymentNotFound")
        assert.strictEqual(other.error, "payment_not_found")
        const unknown = yield* Effect.flip(payments.get({ paymentId: "pay_unknown" as PaymentId, caller: admin }))
        assert.strictEqual(unknown._tag, "PaymentNotFound")

        assert.deepStrictEqual(
          yield* payments.findByProviderOrder({ providerOrderId: payment.providerOrderId }),
          payment
        )
        assert.strictEqual(yield* payments.findByProviderOrder({ providerOrderId: "NOSUCHORDER" }), null)
      })
    )
  )
})

describe("Payments.capture", () => {
  it.effect("before the buyer approves: payment_not_approved, nothing recorded", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const payment = yield* payments.create(createInput("res_early"))
        const early = yield* Effect.flip(payments.capture({ paymentId: payment.paymentId }))
        assert.strictEqual(early._tag, "PaymentNotApproved")
        assert.strictEqual(early.error, "payment_not_approved")
        assert.deepStrictEqual(yield* payments.get({ paymentId: payment.paymentId, caller: admin }), payment)
        assert.strictEqual((yield* stats(fake)).captures, 0)
      })
    )
  )

  it.effect("after approval at the fake's approve URL: captured once; every repeat answers the same payment", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const payment = yield* approvedPayment(fake)
        yield* TestClock.adjust("2 minutes")
        const captured = yield* payments.capture({ paymentId: payment.paymentId })
        assert.strictEqual(captured.status, "captured")
        assert.strictEqual(captured.captures.length, 1)
        assert.deepStrictEqual(captured.captures[0]?.amount, usd(1_999))
        assert.strictEqual(captured.captures[0]?.at, at(start + 120_000))
        assert.strictEqual(captured.updatedAt, at(start + 120_000))
        const order = yield* (yield* PaymentProvider).getOrder({ providerOrderId: payment.providerOrderId })
        assert.strictEqual(order.status, "COMPLETED")
        assert.strictEqual(order.captures[0]?.captureId, captured.captures[0]?.captureId)

        yield* TestClock.adjust("1 minute")
        assert.deepStrictEqual(yield* payments.capture({ paymentId: payment.paymentId }), captured)
        assert.strictEqual((yield* stats(fake)).captures, 1)
      })
    )
  )

  it.effect("20 concurrent captures: one capture at PayPal, one recorded, all answer it", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const payment = yield* approvedPayment(fake)
        const all = yield* Effect.all(
          Array.from({ length: 20 }, () => payments.capture({ paymentId: payment.paymentId })),
          { concurrency: "unbounded" }
        )
        assert.strictEqual((yield* stats(fake)).captures, 1)
        const captureIds = new Set(all.map((captured) => captured.captures[0]?.captureId))
        assert.strictEqual(captureIds.size, 1)
        for (const captured of all) {
          assert.strictEqual(captured.status, "captured")
          assert.strictEqual(captured.captures.length, 1)
        }
        const stored = yield* payments.get({ paymentId: payment.paymentId, caller: admin })
        assert.strictEqual(stored.captures.length, 1)
      })
    )
  )

  it.effect("on a store where every step interleaves: 20 captures racing 20 notes record one capture", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const payments = yield* Payments
      const payment = yield* approvedPayment(fake)
      const capturing = yield* Effect.forkChild(
        Effect.all(
          Array.from({ length: 20 }, () => payments.capture({ paymentId: payment.paymentId })),
          { concurrency: "unbounded" }
        )
      )
      // Once the captures are on their way to PayPal, the checkout's notes race their records.
      yield* until(fake, (counts) => counts.capture > 0)
      yield* Effect.all(
        Array.from({ length: 20 }, (_, i) =>
          payments.markFailed({ paymentId: payment.paymentId, step: "create_order", reason: `attempt ${i}` })
        ),
        { concurrency: "unbounded" }
      )
      const captures = yield* Fiber.join(capturing)
      assert.strictEqual((yield* stats(fake)).captures, 1)
      const stored = yield* payments.get({ paymentId: payment.paymentId, caller: admin })
      // However the notes and captures interleaved, the money is on the record once.
      assert.strictEqual(stored.status, "captured")
      assert.strictEqual(stored.captures.length, 1)
      assert.strictEqual(stored.failure?.step, "create_order")
      for (const captured of captures) assert.deepStrictEqual(captured.captures, stored.captures)
    }).pipe(
      Effect.provide(
        PaymentsLive.layer.pipe(
          Layer.provide(interleavingStore),
          Layer.provideMerge(providerLayer({ fake, timeoutMs }))
        )
      )
    )
  })

  it.effect("a capture whose answer was lost is found on the PayPal order and recorded", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const payment = yield* approvedPayment(fake)
        yield* fault(fake, { step: "capture", mode: "lost_answer" })
        const fiber = yield* Effect.forkChild(payments.capture({ paymentId: payment.paymentId }))
        yield* until(fake, (counts) => counts.capture === 1)
        yield* TestClock.adjust(timeoutMs)
        const captured = yield* Fiber.join(fiber)
        assert.strictEqual(captured.status, "captured")
        const order = yield* (yield* PaymentProvider).getOrder({ providerOrderId: payment.providerOrderId })
        assert.deepStrictEqual(
          captured.captures.map((c) => ({ captureId: c.captureId, amount: c.amount })),
          order.captures.map((c) => ({ captureId: c.captureId, amount: c.amount }))
        )
        // Read, not captured again.
        assert.strictEqual((yield* requestCounts(fake)).get, 2)
        assert.deepStrictEqual(yield* payments.capture({ paymentId: payment.paymentId }), captured)
        assert.strictEqual((yield* stats(fake)).captures, 1)
      })
    )
  )

  it.effect("a 5xx on capture fails with nothing taken; the retry captures once", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const payment = yield* approvedPayment(fake)
        yield* fault(fake, { step: "capture", mode: "5xx" })
        const failed = yield* Effect.flip(payments.capture({ paymentId: payment.paymentId }))
        assert.deepStrictEqual(failed._tag === "PaymentProviderUnavailable" && failed.details, {
          operation: "captureOrder",
          reason: "server_error"
        })
        assert.strictEqual((yield* payments.get({ paymentId: payment.paymentId, caller: admin })).status, "created")
        assert.strictEqual((yield* stats(fake)).captures, 0)

        const captured = yield* payments.capture({ paymentId: payment.paymentId })
        assert.strictEqual(captured.status, "captured")
        assert.strictEqual((yield* stats(fake)).captures, 1)
      })
    )
  )

  it.effect("a capture whose answer is lost while the order cannot be read either fails unknown, then settles", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const payment = yield* approvedPayment(fake)
        yield* fault(fake, { step: "capture", mode: "lost_answer" })
        yield* fault(fake, { step: "get", mode: "5xx" })
        const fiber = yield* Effect.forkChild(Effect.flip(payments.capture({ paymentId: payment.paymentId })))
        yield* until(fake, (counts) => counts.capture === 1)
        yield* TestClock.adjust(timeoutMs)
        const unknown = yield* Fiber.join(fiber)
        // The capture's own failure: its outcome is what is unknown.
        assert.deepStrictEqual(unknown._tag === "PaymentProviderUnavailable" && unknown.details, {
          operation: "captureOrder",
          reason: "timeout"
        })
        assert.strictEqual((yield* payments.get({ paymentId: payment.paymentId, caller: admin })).status, "created")
        // The repeat is answered by PayPal from its request id: the same capture.
        const captured = yield* payments.capture({ paymentId: payment.paymentId })
        assert.strictEqual(captured.status, "captured")
        assert.strictEqual((yield* stats(fake)).captures, 1)
      })
    )
  )

  it.effect("declined: payment_declined, nothing recorded; a later capture may succeed", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const payment = yield* approvedPayment(fake)
        yield* fault(fake, { step: "capture", mode: "declined" })
        const declined = yield* Effect.flip(payments.capture({ paymentId: payment.paymentId }))
        assert.deepStrictEqual(declined._tag === "PaymentDeclined" && declined.details, {
          issue: "INSTRUMENT_DECLINED"
        })
        assert.strictEqual(declined.error, "payment_declined")
        assert.strictEqual((yield* payments.get({ paymentId: payment.paymentId, caller: admin })).status, "created")
        assert.strictEqual((yield* stats(fake)).captures, 0)
        const captured = yield* payments.capture({ paymentId: payment.paymentId })
        assert.strictEqual(captured.status, "captured")
        assert.strictEqual((yield* stats(fake)).captures, 1)
      })
    )
  )

  it.effect("unknown payment: payment_not_found", () =>
    run(() =>
      Effect.gen(function* () {
        const missing = yield* Effect.flip((yield* Payments).capture({ paymentId: "pay_none" as PaymentId }))
        assert.strictEqual(missing._tag, "PaymentNotFound")
      })
    )
  )
})

describe("Payments.markFailed", () => {
  it.effect("without money taken: failed, and a later capture is refused with nothing taken", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const payment = yield* approvedPayment(fake)
        yield* TestClock.adjust("1 minute")
        const failed = yield* payments.markFailed({
          paymentId: payment.paymentId,
          step: "reserve",
          reason: "hold expired"
        })
        assert.strictEqual(failed.status, "failed")
        assert.deepStrictEqual(failed.failure, { step: "reserve", reason: "hold expired", at: at(start + 60_000) })
        // The same note again writes nothing.
        yield* TestClock.adjust("1 minute")
        assert.deepStrictEqual(
          yield* payments.markFailed({ paymentId: payment.paymentId, step: "reserve", reason: "hold expired" }),
          failed
        )
        const refused = yield* Effect.flip(payments.capture({ paymentId: payment.paymentId }))
        assert.deepStrictEqual(refused._tag === "PaymentFailed" && refused.details, {
          step: "reserve",
          reason: "hold expired"
        })
        assert.strictEqual((yield* stats(fake)).captures, 0)
      })
    )
  )

  it.effect("with money taken: the status stays what the money says, the note is kept for the refund", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const captured = yield* capturedPayment(fake)
        const noted = yield* payments.markFailed({
          paymentId: captured.paymentId,
          step: "create_order",
          reason: "orders unavailable"
        })
        assert.strictEqual(noted.status, "captured")
        assert.strictEqual(noted.failure?.step, "create_order")
        assert.deepStrictEqual(noted.captures, captured.captures)
        const refunded = yield* payments.refund({
          paymentId: captured.paymentId,
          reason: "compensation: no order",
          requestId: "compensate-1"
        })
        assert.strictEqual(refunded.status, "refunded")
        assert.strictEqual(refunded.failure?.step, "create_order")
      })
    )
  )
  it.effect("a capture lost before the checkout gave up is recorded by a later capture call (the webhook's)", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const payment = yield* approvedPayment(fake)
        yield* fault(fake, { step: "capture", mode: "lost_answer" })
        yield* fault(fake, { step: "get", mode: "5xx" })
        const fiber = yield* Effect.forkChild(Effect.flip(payments.capture({ paymentId: payment.paymentId })))
        yield* until(fake, (counts) => counts.capture === 1)
        yield* TestClock.adjust(timeoutMs)
        assert.strictEqual((yield* Fiber.join(fiber))._tag, "PaymentProviderUnavailable")
        // The checkout gives up, believing nothing was taken; PayPal took it.
        const failed = yield* payments.markFailed({ paymentId: payment.paymentId, step: "capture", reason: "unknown" })
        assert.strictEqual(failed.status, "failed")
        assert.strictEqual((yield* stats(fake)).captures, 1)
        const recorded = yield* payments.capture({ paymentId: payment.paymentId })
        assert.strictEqual(recorded.status, "captured")
        assert.strictEqual(recorded.failure?.step, "capture")
        assert.strictEqual((yield* stats(fake)).captures, 1)
        const refunded = yield* payments.refund({
          paymentId: payment.paymentId,
          reason: "compensation: abandoned checkout",
          requestId: "compensate"
        })
        assert.strictEqual(refunded.status, "refunded")
      })
    )
  )

  it.effect("marked failed while a capture is in flight: the money that moved is still recorded, for the refund", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const payment = yield* approvedPayment(fake)
        yield* fault(fake, { step: "capture", mode: "lost_answer" })
        const fiber = yield* Effect.forkChild(payments.capture({ paymentId: payment.paymentId }))
        yield* until(fake, (counts) => counts.capture === 1)
        const failed = yield* payments.markFailed({
          paymentId: payment.paymentId,
          step: "commit_hold",
          reason: "expired"
        })
        assert.strictEqual(failed.status, "failed")
        yield* TestClock.adjust(timeoutMs)
        const captured = yield* Fiber.join(fiber)
        assert.strictEqual(captured.status, "captured")
        assert.strictEqual(captured.captures.length, 1)
        assert.strictEqual(captured.failure?.step, "commit_hold")
        const refunded = yield* payments.refund({
          paymentId: payment.paymentId,
          reason: "compensation",
          requestId: "compensate"
        })
        assert.strictEqual(refunded.status, "refunded")
      })
    )
  )
})

describe("Payments.refund", () => {
  const refundedAtPaypal = (payment: Payment) =>
    Effect.gen(function* () {
      const order = yield* (yield* PaymentProvider).getOrder({ providerOrderId: payment.providerOrderId })
      return order.captures[0]?.status
    })

  it.effect("partial, then the rest: partially_refunded, then refunded; never above what was captured", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const captured = yield* capturedPayment(fake)
        yield* TestClock.adjust("1 hour")
        const part = yield* payments.refund({
          paymentId: captured.paymentId,
          amount: usd(500),
          reason: "damaged mug",
          requestId: "refund-a"
        })
        assert.strictEqual(part.status, "partially_refunded")
        assert.strictEqual(part.refunds.length, 1)
        assert.deepStrictEqual(
          { ...part.refunds[0], refundId: "" },
          { refundId: "", amount: usd(500), at: at(start + 3_600_000), reason: "damaged mug", requestId: "refund-a" }
        )
        assert.strictEqual(yield* refundedAtPaypal(captured), "PARTIALLY_REFUNDED")

        const tooMuch = yield* Effect.flip(
          payments.refund({ paymentId: captured.paymentId, amount: usd(1_500), reason: "x", requestId: "refund-b" })
        )
        assert.deepStrictEqual(tooMuch._tag === "RefundExceedsCaptured" && tooMuch.details, {
          captured: usd(1_999),
          refunded: usd(500),
          requested: usd(1_500)
        })
        assert.strictEqual(tooMuch.error, "refund_exceeds_captured")

        const rest = yield* payments.refund({
          paymentId: captured.paymentId,
          reason: "cancelled",
          requestId: "refund-c"
        })
        assert.strictEqual(rest.status, "refunded")
        assert.deepStrictEqual(
          rest.refunds.map((refund) => refund.amount),
          [usd(500), usd(1_499)]
        )
        assert.strictEqual(yield* refundedAtPaypal(captured), "REFUNDED")

        const nothingLeft = yield* Effect.flip(
          payments.refund({ paymentId: captured.paymentId, amount: usd(1), reason: "x", requestId: "refund-d" })
        )
        assert.strictEqual(nothingLeft._tag, "RefundExceedsCaptured")
        const noRest = yield* Effect.flip(
          payments.refund({ paymentId: captured.paymentId, reason: "x", requestId: "refund-e" })
        )
        assert.strictEqual(noRest._tag, "RefundExceedsCaptured")
        // The refusals were decided on the record: PayPal saw only the two refunds that fit.
        assert.strictEqual((yield* requestCounts(fake)).refund, 2)
      })
    )
  )

  it.effect("idempotent per requestId: repeats, also 10 at once, give back the money once", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const captured = yield* capturedPayment(fake)
        const input = { paymentId: captured.paymentId, amount: usd(700), reason: "late", requestId: "refund-same" }
        const all = yield* Effect.all(
          Array.from({ length: 10 }, () => payments.refund(input)),
          { concurrency: "unbounded" }
        )
        for (const payment of all) assert.strictEqual(payment.refunds.length, 1)
        const order = yield* (yield* PaymentProvider).getOrder({ providerOrderId: captured.providerOrderId })
        assert.strictEqual(order.refunds.length, 1)
        const again = yield* payments.refund(input)
        assert.deepStrictEqual(again.refunds, all[0]?.refunds)
        assert.strictEqual(again.status, "partially_refunded")
        // A repeat of a recorded refund is answered from the record, even with another amount.
        assert.deepStrictEqual(yield* payments.refund({ ...input, amount: usd(1_000) }), again)
      })
    )
  )

  it.effect("a refund whose answer was lost is given once when repeated", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const captured = yield* capturedPayment(fake)
        const input = { paymentId: captured.paymentId, amount: usd(300), reason: "late", requestId: "refund-lost" }
        yield* fault(fake, { step: "refund", mode: "lost_answer" })
        const fiber = yield* Effect.forkChild(Effect.flip(payments.refund(input)))
        yield* until(fake, (counts) => counts.refund === 1)
        yield* TestClock.adjust(timeoutMs)
        const lost = yield* Fiber.join(fiber)
        assert.strictEqual(lost._tag, "PaymentProviderUnavailable")
        const repeated = yield* payments.refund(input)
        assert.strictEqual(repeated.refunds.length, 1)
        assert.deepStrictEqual(repeated.refunds[0]?.amount, usd(300))
        const order = yield* (yield* PaymentProvider).getOrder({ providerOrderId: captured.providerOrderId })
        assert.strictEqual(order.refunds.length, 1)
      })
    )
  )

  it.effect("before any capture, in another currency, or of nothing: refused", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const payment = yield* payments.create(createInput("res_uncaptured"))
        const uncaptured = yield* Effect.flip(
          payments.refund({ paymentId: payment.paymentId, reason: "x", requestId: "r1" })
        )
        assert.deepStrictEqual(uncaptured._tag === "RefundExceedsCaptured" && uncaptured.details, {
          captured: usd(0),
          refunded: usd(0),
          requested: usd(0)
        })
        const captured = yield* capturedPayment(fake)
        const euros = yield* Effect.flip(
          payments.refund({
            paymentId: captured.paymentId,
            amount: { amount: 100, currency: "EUR" as typeof captured.amount.currency },
            reason: "x",
            requestId: "r2"
          })
        )
        assert.strictEqual(euros._tag, "ValidationError")
        const zero = yield* Effect.flip(
          payments.refund({ paymentId: captured.paymentId, amount: usd(0), reason: "x", requestId: "r3" })
        )
        assert.strictEqual(zero._tag, "ValidationError")
        assert.strictEqual((yield* requestCounts(fake)).refund, 0)
      })
    )
  )
})

describe("Payments webhooks", () => {
  const event = {
    id: "WH-1AB23456CD789012E-3FG456789H012345I",
    event_version: "1.0",
    create_time: "2026-12-02T10:00:00Z",
    resource_type: "capture",
    event_type: "PAYMENT.CAPTURE.COMPLETED",
    resource: { id: "7TK53561MB803214S", status: "COMPLETED", amount: { currency_code: "USD", value: "19.99" } }
  }

  it.effect("an event id is first exactly once, also when 20 deliveries race", () =>
    run(() =>
      Effect.gen(function* () {
        const payments = yield* Payments
        assert.deepStrictEqual(yield* payments.recordEvent({ eventId: "WH-1" }), { first: true })
        assert.deepStrictEqual(yield* payments.recordEvent({ eventId: "WH-1" }), { first: false })
        const racing = yield* Effect.all(
          Array.from({ length: 20 }, () => payments.recordEvent({ eventId: "WH-2" })),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(racing.filter((result) => result.first).length, 1)
      })
    )
  )

  it.effect("verifyWebhook passes a signed delivery through to PayPal and refuses a tampered one", () =>
    run((fake) =>
      Effect.gen(function* () {
        const payments = yield* Payments
        const signed = yield* Effect.promise(() => fake.signWebhook(event))
        const verified = yield* payments.verifyWebhook(signed)
        assert.strictEqual(verified.id, event.id)
        assert.strictEqual(verified.eventType, "PAYMENT.CAPTURE.COMPLETED")
        const tampered = yield* Effect.flip(
          payments.verifyWebhook({ headers: signed.headers, body: signed.body.replace("19.99", "0.01") })
        )
        assert.strictEqual(tampered._tag, "WebhookVerificationFailed")
        assert.strictEqual(tampered.error, "invalid_webhook_signature")
      })
    )
  )
})

describe("Payments.listUnsettled and settle", () => {
  it.effect(
    "lists unsettled payments created before a time, oldest first; settle sets settledAt and orderId once",
    () =>
      run(() =>
        Effect.gen(function* () {
          const payments = yield* Payments
          const first = yield* payments.create(createInput("res_unsettled1"))
          yield* TestClock.adjust(1_000)
          const second = yield* payments.create(createInput("res_unsettled2"))
          yield* TestClock.adjust(1_000)
          const third = yield* payments.create(createInput("res_unsettled3"))
          const listed = (createdBefore: number, limit = 10) =>
            Effect.map(payments.listUnsettled({ createdBefore: at(createdBefore), limit }), (found) =>
              found.map((payment) => payment.paymentId)
            )
          assert.deepStrictEqual(yield* listed(start + 2_001), [first.paymentId, second.paymentId, third.paymentId])
          assert.deepStrictEqual(yield* listed(start + 2_000), [first.paymentId, second.paymentId])
          assert.deepStrictEqual(yield* listed(start + 2_001, 1), [first.paymentId])

          yield* TestClock.adjust(1_000)
          const settled = yield* payments.settle({ paymentId: second.paymentId, orderId: OrderId.make("ord_first") })
          assert.strictEqual(settled.settledAt, at(start + 3_000))
          assert.strictEqual(settled.orderId, "ord_first")
          // Again, even with another order: nothing changes.
          yield* TestClock.adjust(1_000)
          assert.deepStrictEqual(
            yield* payments.settle({ paymentId: second.paymentId, orderId: OrderId.make("ord_second") }),
            settled
          )
          // Abandoned: settled without an order.
          const abandoned = yield* payments.settle({ paymentId: first.paymentId })
          assert.strictEqual(abandoned.settledAt, at(start + 4_000))
          assert.isUndefined(abandoned.orderId)
          assert.deepStrictEqual(yield* listed(start + 10_000), [third.paymentId])
          assert.deepStrictEqual(yield* payments.get({ paymentId: second.paymentId, caller: admin }), settled)

          const missing = yield* Effect.flip(payments.settle({ paymentId: "pay_missing" as PaymentId }))
          assert.strictEqual(missing._tag, "PaymentNotFound")
        })
      )
  )

  it.effect("20 concurrent settles of one payment, on a store that interleaves them, settle it once", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const payments = yield* Payments
      const payment = yield* payments.create(createInput("res_settlerace"))
      const results = yield* Effect.all(
        Array.from({ length: 20 }, (_, i) =>
          payments.settle({ paymentId: payment.paymentId, orderId: OrderId.make(`ord_${i}`) })
        ),
        { concurrency: "unbounded" }
      )
      const stored = yield* payments.get({ paymentId: payment.paymentId, caller: admin })
      assert.isDefined(stored.orderId)
      for (const result of results) assert.deepStrictEqual(result, stored)
    }).pipe(
      Effect.provide(
        PaymentsLive.layer.pipe(
          Layer.provide(interleavingStore),
          Layer.provideMerge(providerLayer({ fake, timeoutMs }))
        )
      )
    )
  })
})
