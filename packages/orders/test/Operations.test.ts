import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { HoldId } from "@shop/domain/Inventory"
import { Currency } from "@shop/domain/Money"
import { Inventory } from "@shop/inventory/Inventory"
import type * as PaypalFake from "@shop/paypal-fake/PaypalFake"
import type { Payments } from "@shop/payments/Payments"
import { Orders } from "../src/Orders.ts"
import * as OrdersLive from "../src/OrdersLive.ts"
import { admin, fault, layerNeighbours, makeFake, money, mug, paidOrder, refundsAtPaypal } from "./Fixtures.ts"

// Cancellation and admin refunds move money and stock: orders here run with
// the real payments service (memory store, the real PayPal provider over an
// in-process fake PayPal) and the real inventory (memory store).

// Wednesday 2026-12-02, 10:00 UTC.
const start = Date.UTC(2026, 11, 2, 10)

// Each test gets its own fake PayPal and its own stores, with 10 mugs in stock.
const run = <A, E>(test: (fake: PaypalFake.PaypalFake) => Effect.Effect<A, E, Orders | Payments | Inventory>) => {
  const fake = makeFake()
  return Effect.gen(function* () {
    yield* TestClock.setTime(start)
    yield* (yield* Inventory).initialize({ levels: [{ variantId: mug, stock: 10 }] })
    return yield* test(fake)
  }).pipe(Effect.provide(OrdersLive.layerMemory.pipe(Layer.provideMerge(layerNeighbours(fake)))))
}

const stockOf = Effect.flatMap(Effect.service(Inventory), (inventory) => inventory.get({ variantId: mug }))

// The code of a failure (`error` of the body), or "ok".
const outcome = <A, E extends { readonly error: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.match(effect, { onFailure: (error) => error.error, onSuccess: () => "ok" })

describe("cancelling an order", () => {
  it.effect("a paid order: the capture is refunded in full and the stock goes back", () =>
    run((fake) =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const { order, payment } = yield* paidOrder(fake, "res_cancel1")
        assert.strictEqual((yield* stockOf).stock, 8)
        yield* TestClock.adjust("1 hour")
        const cancelled = yield* orders.setStatus({ orderId: order.orderId, status: "cancelled", note: "changed mind" })
        assert.strictEqual(cancelled.status, "cancelled")
        assert.deepStrictEqual(cancelled.history.at(-1), {
          status: "cancelled",
          at: new Date(start + 3_600_000).toISOString(),
          note: "changed mind"
        })
        assert.deepStrictEqual(cancelled.payment.refunded, money(5_000))
        const given = yield* refundsAtPaypal(payment.paymentId)
        assert.strictEqual(given.length, 1)
        assert.deepStrictEqual(given[0]?.amount, money(5_000))
        assert.strictEqual(given[0]?.requestId, `cancel-${order.orderId}`)
        assert.deepStrictEqual(
          cancelled.payment.refunds.map((refund) => refund.refundId),
          given.map((refund) => refund.refundId)
        )
        assert.deepStrictEqual(yield* stockOf, { variantId: mug, stock: 10, reserved: 0, available: 10 })
        const hold = yield* (yield* Inventory).getHold({ holdId: HoldId.make("res_cancel1") })
        assert.strictEqual(hold.status, "restocked")
        assert.deepStrictEqual(yield* orders.get({ orderId: order.orderId, caller: admin }), cancelled)
      })
    )
  )

  it.effect("a processing order after a partial refund: only the rest goes back", () =>
    run((fake) =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const { order, payment } = yield* paidOrder(fake, "res_cancel2")
        yield* orders.setStatus({ orderId: order.orderId, status: "processing" })
        yield* orders.refund({ orderId: order.orderId, amount: money(1_200) })
        const cancelled = yield* orders.setStatus({ orderId: order.orderId, status: "cancelled" })
        assert.deepStrictEqual(cancelled.payment.refunded, money(5_000))
        assert.deepStrictEqual(
          (yield* refundsAtPaypal(payment.paymentId)).map((refund) => refund.amount),
          [money(1_200), money(3_800)]
        )
        assert.strictEqual((yield* stockOf).stock, 10)
      })
    )
  )

  it.effect("cancelling again, or many times at once, refunds and restocks once", () =>
    run((fake) =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const { order, payment } = yield* paidOrder(fake, "res_cancel3")
        const outcomes = yield* Effect.all(
          Array.from({ length: 10 }, () => outcome(orders.setStatus({ orderId: order.orderId, status: "cancelled" }))),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(
          outcomes,
          Array.from({ length: 10 }, () => "ok")
        )
        const again = yield* orders.setStatus({ orderId: order.orderId, status: "cancelled" })
        assert.strictEqual(again.status, "cancelled")
        assert.deepStrictEqual(
          again.history.map((entry) => entry.status),
          ["paid", "cancelled"]
        )
        assert.strictEqual(again.payment.refunds.length, 1)
        assert.deepStrictEqual(again.payment.refunded, money(5_000))
        assert.strictEqual((yield* refundsAtPaypal(payment.paymentId)).length, 1)
        assert.deepStrictEqual(yield* stockOf, { variantId: mug, stock: 10, reserved: 0, available: 10 })
      })
    )
  )

  it.effect("a refund the provider fails: the order stays cancelled, and cancelling again finishes the job", () =>
    run((fake) =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const { order, payment } = yield* paidOrder(fake, "res_cancel4")
        yield* fault(fake, { step: "refund", mode: "5xx" })
        const failed = yield* Effect.flip(orders.setStatus({ orderId: order.orderId, status: "cancelled" }))
        assert.strictEqual(failed._tag, "PaymentProviderUnavailable")
        // The status is the authority: nothing can ship the order now.
        const stuck = yield* orders.get({ orderId: order.orderId, caller: admin })
        assert.strictEqual(stuck.status, "cancelled")
        assert.deepStrictEqual(stuck.payment.refunded, money(0))
        assert.strictEqual((yield* refundsAtPaypal(payment.paymentId)).length, 0)
        const ship = yield* Effect.flip(
          orders.addShipment({ orderId: order.orderId, carrier: "UPS", trackingNumber: "1Z" })
        )
        assert.strictEqual(ship._tag, "InvalidTransition")

        const finished = yield* orders.setStatus({ orderId: order.orderId, status: "cancelled" })
        assert.deepStrictEqual(finished.payment.refunded, money(5_000))
        assert.strictEqual((yield* refundsAtPaypal(payment.paymentId)).length, 1)
        assert.deepStrictEqual(yield* stockOf, { variantId: mug, stock: 10, reserved: 0, available: 10 })
        assert.deepStrictEqual(
          finished.history.map((entry) => entry.status),
          ["paid", "cancelled"]
        )
      })
    )
  )

  for (const status of ["shipped", "delivered"] as const) {
    it.effect(`a ${status} order cannot be cancelled: invalid_transition, nothing refunded or restocked`, () =>
      run((fake) =>
        Effect.gen(function* () {
          const orders = yield* Orders
          const { order, payment } = yield* paidOrder(fake, "res_cancel5")
          yield* orders.addShipment({ orderId: order.orderId, carrier: "UPS", trackingNumber: "1Z" })
          if (status === "delivered") yield* orders.setStatus({ orderId: order.orderId, status: "delivered" })
          const before = yield* orders.get({ orderId: order.orderId, caller: admin })
          const refused = yield* Effect.flip(orders.setStatus({ orderId: order.orderId, status: "cancelled" }))
          assert.strictEqual(refused._tag, "InvalidTransition")
          assert.deepStrictEqual(refused._tag === "InvalidTransition" ? refused.details : undefined, {
            from: status,
            to: "cancelled",
            allowed: status === "shipped" ? ["delivered"] : ["refunded"]
          })
          assert.deepStrictEqual(yield* orders.get({ orderId: order.orderId, caller: admin }), before)
          assert.strictEqual((yield* refundsAtPaypal(payment.paymentId)).length, 0)
          assert.strictEqual((yield* stockOf).stock, 8)
        })
      )
    )
  }
})

describe("admin refunds", () => {
  it.effect("a partial refund, then the rest: each given once and recorded; then nothing is left", () =>
    run((fake) =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const { order, payment } = yield* paidOrder(fake, "res_refund1")
        const part = yield* orders.refund({ orderId: order.orderId, amount: money(2_000) })
        assert.strictEqual(part.status, "paid")
        assert.deepStrictEqual(part.payment.refunded, money(2_000))
        const rest = yield* orders.refund({ orderId: order.orderId })
        assert.deepStrictEqual(rest.payment.refunded, money(5_000))
        // A paid order refunded in full is still paid: cancelling is its own step.
        assert.strictEqual(rest.status, "paid")
        const given = yield* refundsAtPaypal(payment.paymentId)
        assert.deepStrictEqual(
          given.map((refund) => [refund.requestId, refund.amount.amount]),
          [
            [`refund-${order.orderId}-0`, 2_000],
            [`refund-${order.orderId}-1`, 3_000]
          ]
        )
        assert.deepStrictEqual(
          rest.payment.refunds.map((refund) => [refund.refundId, refund.amount.amount]),
          given.map((refund) => [refund.refundId, refund.amount.amount])
        )
        const more = yield* Effect.flip(orders.refund({ orderId: order.orderId }))
        assert.strictEqual(more._tag, "RefundExceedsCaptured")
        // Cancelling it now has no money to move; the stock still goes back.
        const cancelled = yield* orders.setStatus({ orderId: order.orderId, status: "cancelled" })
        assert.strictEqual(cancelled.payment.refunds.length, 2)
        assert.strictEqual((yield* refundsAtPaypal(payment.paymentId)).length, 2)
        assert.strictEqual((yield* stockOf).stock, 10)
      })
    )
  )

  it.effect("more than captured minus refunded: refund_exceeds_captured, nothing given", () =>
    run((fake) =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const { order, payment } = yield* paidOrder(fake, "res_refund2")
        yield* orders.refund({ orderId: order.orderId, amount: money(1_000) })
        const over = yield* Effect.flip(orders.refund({ orderId: order.orderId, amount: money(4_001) }))
        assert.strictEqual(over._tag, "RefundExceedsCaptured")
        assert.deepStrictEqual(over._tag === "RefundExceedsCaptured" ? over.details : undefined, {
          captured: money(5_000),
          refunded: money(1_000),
          requested: money(4_001)
        })
        const bad = yield* Effect.flip(orders.refund({ orderId: order.orderId, amount: money(0) }))
        assert.strictEqual(bad._tag, "ValidationError")
        const euros = yield* Effect.flip(
          orders.refund({ orderId: order.orderId, amount: { amount: 100, currency: Currency.make("EUR") } })
        )
        assert.strictEqual(euros._tag, "ValidationError")
        assert.strictEqual((yield* refundsAtPaypal(payment.paymentId)).length, 1)
        assert.deepStrictEqual(
          (yield* orders.get({ orderId: order.orderId, caller: admin })).payment.refunded,
          money(1_000)
        )
      })
    )
  )

  it.effect("ten concurrent full refunds give the money back once", () =>
    run((fake) =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const { order, payment } = yield* paidOrder(fake, "res_refund3")
        const outcomes = yield* Effect.all(
          Array.from({ length: 10 }, () => outcome(orders.refund({ orderId: order.orderId }))),
          { concurrency: "unbounded" }
        )
        assert.isAtLeast(outcomes.filter((o) => o === "ok").length, 1)
        // Those that read the order after the first was recorded find nothing left.
        assert.isTrue(outcomes.every((o) => o === "ok" || o === "refund_exceeds_captured"))
        const given = yield* refundsAtPaypal(payment.paymentId)
        assert.strictEqual(given.length, 1)
        assert.deepStrictEqual(given[0]?.amount, money(5_000))
        const final = yield* orders.get({ orderId: order.orderId, caller: admin })
        assert.strictEqual(final.payment.refunds.length, 1)
        assert.deepStrictEqual(final.payment.refunded, money(5_000))
      })
    )
  )

  it.effect("a delivered order refunded in full becomes refunded, and can be refunded no more", () =>
    run((fake) =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const { order } = yield* paidOrder(fake, "res_refund4")
        yield* orders.addShipment({ orderId: order.orderId, carrier: "UPS", trackingNumber: "1Z" })
        yield* orders.setStatus({ orderId: order.orderId, status: "delivered" })
        const part = yield* orders.refund({ orderId: order.orderId, amount: money(500) })
        assert.strictEqual(part.status, "delivered")
        const full = yield* orders.refund({ orderId: order.orderId })
        assert.strictEqual(full.status, "refunded")
        assert.deepStrictEqual(full.payment.refunded, money(5_000))
        assert.strictEqual(full.history.at(-1)?.status, "refunded")
        const again = yield* Effect.flip(orders.refund({ orderId: order.orderId, amount: money(1) }))
        assert.strictEqual(again._tag, "InvalidTransition")
        // Delivered goods stay sold: a refund does not restock.
        assert.strictEqual((yield* stockOf).stock, 8)
      })
    )
  )

  it.effect("a cancelled order cannot be refunded by an admin: its money went back with the cancellation", () =>
    run((fake) =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const { order } = yield* paidOrder(fake, "res_refund5")
        yield* orders.setStatus({ orderId: order.orderId, status: "cancelled" })
        const refused = yield* Effect.flip(orders.refund({ orderId: order.orderId, amount: money(1) }))
        assert.strictEqual(refused._tag, "InvalidTransition")
        assert.deepStrictEqual(refused._tag === "InvalidTransition" ? refused.details : undefined, {
          from: "cancelled",
          to: "refunded",
          allowed: []
        })
      })
    )
  )

  it.effect("a refund the provider fails records nothing; the retry gives it once", () =>
    run((fake) =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const { order, payment } = yield* paidOrder(fake, "res_refund6")
        yield* fault(fake, { step: "refund", mode: "5xx" })
        const failed = yield* Effect.flip(orders.refund({ orderId: order.orderId, amount: money(700) }))
        assert.strictEqual(failed._tag, "PaymentProviderUnavailable")
        assert.deepStrictEqual(yield* orders.get({ orderId: order.orderId, caller: admin }), order)
        assert.strictEqual((yield* refundsAtPaypal(payment.paymentId)).length, 0)
        const retried = yield* orders.refund({ orderId: order.orderId, amount: money(700) })
        assert.deepStrictEqual(retried.payment.refunded, money(700))
        assert.strictEqual((yield* refundsAtPaypal(payment.paymentId)).length, 1)
      })
    )
  )
})
