import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import {
  PaymentDeclined,
  PaymentFailed,
  PaymentNotApproved,
  PaymentNotFound,
  PaymentProviderUnavailable,
  RefundExceedsCaptured,
  ValidationError,
  WebhookVerificationFailed
} from "@shop/domain/Errors"
import { CartId, UserId } from "@shop/domain/Ids"
import { HoldId } from "@shop/domain/Inventory"
import type { CreatePaymentInput, PaymentId } from "@shop/domain/Payments"
import { PaymentsRpcs } from "@shop/domain/ServiceContracts"
import { layerOverJson } from "@shop/domain/ServiceTransport"
import type * as PaypalFake from "@shop/paypal-fake/PaypalFake"
import { Payments } from "../src/Payments.ts"
import * as PaymentsLive from "../src/PaymentsLive.ts"
import { approve, fault, makeFake, providerLayer, usd } from "./Fixtures.ts"

// On Cloudflare the payments service is its own Worker: every payload and
// every Exit crosses as JSON encoded with the PaymentsRpcs schemas (the
// protocol's codec is Schema.toCodecJson). This runs the real service (over
// the fake PayPal) behind exactly that encoding, so a value the service
// answers that its contract cannot carry, or an error that does not come back
// as its own class with its details, fails here rather than only between
// Workers.

const overTheWire = (fake: PaypalFake.PaypalFake) =>
  layerOverJson(PaymentsRpcs, Payments).pipe(
    Layer.provide(PaymentsLive.layerMemory),
    Layer.provide(providerLayer({ fake }))
  )

const alice = UserId.make("usr_alice")
const admin = { userId: UserId.make("usr_admin"), role: "admin" as const }

const input: CreatePaymentInput = {
  userId: alice,
  cartId: CartId.make("cart_0123456789abcdefghijklmn"),
  reservationId: HoldId.make("res_wire"),
  amount: usd(5_000),
  returnUrl: "https://shop.test/checkout/return",
  cancelUrl: "https://shop.test/checkout/cancel"
}

describe("PaymentsRpcs carries the service", () => {
  const fake = makeFake()

  it.effect("every procedure's answers and typed failures, through JSON, as their own classes with details", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.UTC(2026, 11, 2, 10))
      const payments = yield* Payments
      const payment = yield* payments.create(input)
      assert.deepStrictEqual(yield* payments.create(input), payment)
      assert.deepStrictEqual(yield* payments.get({ paymentId: payment.paymentId, caller: admin }), payment)
      assert.deepStrictEqual(yield* payments.findByProviderOrder({ providerOrderId: payment.providerOrderId }), payment)
      assert.isNull(yield* payments.findByProviderOrder({ providerOrderId: "NOSUCHORDER" }))
      const hidden = yield* Effect.flip(
        payments.get({ paymentId: payment.paymentId, caller: { userId: UserId.make("usr_bob"), role: "user" } })
      )
      assert.instanceOf(hidden, PaymentNotFound)
      const badAmount = yield* Effect.flip(
        payments.create({ ...input, reservationId: HoldId.make("res_0"), amount: usd(0) })
      )
      assert.instanceOf(badAmount, ValidationError)

      const early = yield* Effect.flip(payments.capture({ paymentId: payment.paymentId }))
      assert.instanceOf(early, PaymentNotApproved)
      yield* approve(fake, payment.approveUrl)
      yield* fault(fake, { step: "capture", mode: "declined" })
      const declined = yield* Effect.flip(payments.capture({ paymentId: payment.paymentId }))
      assert.instanceOf(declined, PaymentDeclined)
      assert.deepStrictEqual(declined._tag === "PaymentDeclined" ? declined.details : undefined, {
        issue: "INSTRUMENT_DECLINED"
      })
      yield* fault(fake, { step: "capture", mode: "5xx" })
      const unavailable = yield* Effect.flip(payments.capture({ paymentId: payment.paymentId }))
      assert.instanceOf(unavailable, PaymentProviderUnavailable)
      assert.deepStrictEqual(unavailable._tag === "PaymentProviderUnavailable" ? unavailable.details : undefined, {
        operation: "captureOrder",
        reason: "server_error"
      })
      const captured = yield* payments.capture({ paymentId: payment.paymentId })
      assert.strictEqual(captured.status, "captured")
      assert.deepStrictEqual(yield* payments.capture({ paymentId: payment.paymentId }), captured)

      const part = yield* payments.refund({
        paymentId: payment.paymentId,
        amount: usd(1_000),
        reason: "damaged",
        requestId: "refund-1"
      })
      assert.strictEqual(part.status, "partially_refunded")
      assert.strictEqual(part.refunds[0]?.reason, "damaged")
      const over = yield* Effect.flip(
        payments.refund({ paymentId: payment.paymentId, amount: usd(4_001), reason: "x", requestId: "refund-2" })
      )
      assert.instanceOf(over, RefundExceedsCaptured)
      assert.deepStrictEqual(over._tag === "RefundExceedsCaptured" ? over.details : undefined, {
        captured: usd(5_000),
        refunded: usd(1_000),
        requested: usd(4_001)
      })
      const noted = yield* payments.markFailed({ paymentId: payment.paymentId, step: "create_order", reason: "down" })
      assert.deepStrictEqual(noted.failure, { step: "create_order", reason: "down", at: noted.updatedAt })

      const other = yield* payments.create({ ...input, reservationId: HoldId.make("res_wire2") })
      yield* payments.markFailed({ paymentId: other.paymentId, step: "commit_hold", reason: "expired" })
      const abandoned = yield* Effect.flip(payments.capture({ paymentId: other.paymentId }))
      assert.instanceOf(abandoned, PaymentFailed)
      const missing = yield* Effect.flip(payments.capture({ paymentId: "pay_none" as PaymentId }))
      assert.instanceOf(missing, PaymentNotFound)

      assert.deepStrictEqual(yield* payments.recordEvent({ eventId: "WH-WIRE" }), { first: true })
      assert.deepStrictEqual(yield* payments.recordEvent({ eventId: "WH-WIRE" }), { first: false })
      const event = {
        id: "WH-WIRE",
        event_type: "PAYMENT.CAPTURE.COMPLETED",
        resource_type: "capture",
        create_time: "2026-12-02T10:00:00Z",
        resource: { id: captured.captures[0]?.captureId, status: "COMPLETED", nested: { list: [1, "two", null] } }
      }
      const signed = yield* Effect.promise(() => fake.signWebhook(event))
      const verified = yield* payments.verifyWebhook(signed)
      assert.deepStrictEqual(verified, {
        id: "WH-WIRE",
        eventType: "PAYMENT.CAPTURE.COMPLETED",
        resourceType: "capture",
        createTime: "2026-12-02T10:00:00Z",
        resource: event.resource
      })
      const refused = yield* Effect.flip(payments.verifyWebhook({ headers: {}, body: signed.body }))
      assert.instanceOf(refused, WebhookVerificationFailed)
    }).pipe(Effect.provide(overTheWire(fake)))
  )
})
