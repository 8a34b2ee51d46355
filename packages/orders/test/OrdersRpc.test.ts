import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import {
  InvalidStatus,
  InvalidTransition,
  OrderNotFound,
  PaymentProviderUnavailable,
  RefundExceedsCaptured,
  ValidationError
} from "@shop/domain/Errors"
import { OrderId, ProductId, UserId, VariantId } from "@shop/domain/Ids"
import { Currency, type Money } from "@shop/domain/Money"
import type { CreateOrderInput } from "@shop/domain/Orders"
import { OrdersRpcs } from "@shop/domain/ServiceContracts"
import { layerOverJson } from "@shop/domain/ServiceTransport"
import { Inventory } from "@shop/inventory/Inventory"
import { Orders } from "../src/Orders.ts"
import * as OrdersLive from "../src/OrdersLive.ts"
import { fault, layerNeighbours, layerStandIns, makeFake, mug, paidOrder } from "./Fixtures.ts"

// On Cloudflare the orders service is its own Worker: every payload and every
// Exit crosses as JSON encoded with the OrdersRpcs schemas (the protocol's
// codec is Schema.toCodecJson). This runs the real service behind exactly that
// encoding, so a value the service answers that its contract cannot carry,
// or an error that does not come back as its own class with its details,
// fails here rather than only between Workers.

const overTheWire = layerOverJson(OrdersRpcs, Orders).pipe(
  Layer.provide(OrdersLive.layerMemory.pipe(Layer.provide(layerStandIns)))
)

const usd = Currency.make("USD")
const money = (amount: number): Money => ({ amount, currency: usd })
const alice = UserId.make("usr_alice")
const admin = { userId: UserId.make("usr_admin"), role: "admin" as const }

const input: CreateOrderInput = {
  reservationId: "res_wire",
  userId: alice,
  items: [
    {
      productId: ProductId.make("prd_1"),
      variantId: VariantId.make("var_1"),
      title: "Mug",
      quantity: 1,
      unitPrice: money(4_000),
      lineTotal: money(4_000)
    }
  ],
  address: { name: "Alice", line1: "1 Main St", city: "Springfield", region: "IL", postalCode: "62701", country: "US" },
  shippingMethod: { methodId: "express", title: "Express", cost: money(1_000), transitDays: 2, eta: "2026-12-04" },
  summary: { subtotal: money(4_000), discount: money(0), shipping: money(1_000), tax: money(0), total: money(5_000) },
  payment: { paymentId: "pay_wire", provider: "paypal", captureId: "cap_wire", captured: money(5_000) },
  couponCode: "SHIPFAST"
}

describe("OrdersRpcs carries the service", () => {
  it.effect("every procedure's answers and typed failures, through JSON, as their own classes with details", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.UTC(2026, 11, 2, 10))
      const orders = yield* Orders
      assert.isNull(yield* orders.findByReservation({ reservationId: "res_wire" }))
      const order = yield* orders.create(input)
      // Everything checkout handed over came back.
      assert.deepStrictEqual(
        {
          reservationId: order.reservationId,
          userId: order.userId,
          items: order.items,
          address: order.address,
          shippingMethod: order.shippingMethod,
          summary: order.summary,
          couponCode: order.couponCode,
          payment: order.payment
        },
        {
          reservationId: input.reservationId,
          userId: input.userId,
          items: input.items,
          address: input.address,
          shippingMethod: input.shippingMethod,
          summary: input.summary,
          couponCode: input.couponCode,
          payment: { ...input.payment, refunded: money(0), refunds: [] }
        }
      )
      assert.deepStrictEqual(yield* orders.create(input), order)
      assert.deepStrictEqual(yield* orders.get({ orderId: order.orderId, caller: admin }), order)
      assert.deepStrictEqual(yield* orders.findByReservation({ reservationId: "res_wire" }), order)

      const notFound = yield* Effect.flip(
        orders.get({ orderId: order.orderId, caller: { userId: UserId.make("usr_bob"), role: "user" } })
      )
      assert.instanceOf(notFound, OrderNotFound)

      const badStatus = yield* Effect.flip(orders.setStatus({ orderId: order.orderId, status: "lost" }))
      assert.instanceOf(badStatus, InvalidStatus)
      assert.deepStrictEqual(badStatus.error, "invalid_status")
      assert.deepStrictEqual(badStatus._tag === "InvalidStatus" ? badStatus.details.validStatuses : [], [
        "paid",
        "processing",
        "shipped",
        "delivered",
        "cancelled",
        "refunded"
      ])

      const processing = yield* orders.setStatus({ orderId: order.orderId, status: "processing", note: "picked" })
      const shipped = yield* orders.addShipment({
        orderId: order.orderId,
        carrier: "UPS",
        trackingNumber: "1Z999",
        labelUrl: "https://labels.example.com/1Z999.pdf"
      })
      assert.deepStrictEqual(shipped.history.slice(0, 2), processing.history)
      assert.deepStrictEqual(processing.history.at(-1)?.note, "picked")
      assert.deepStrictEqual(
        shipped.shipments.map(({ carrier, labelUrl, trackingNumber }) => ({ carrier, trackingNumber, labelUrl })),
        [{ carrier: "UPS", trackingNumber: "1Z999", labelUrl: "https://labels.example.com/1Z999.pdf" }]
      )
      const wrong = yield* Effect.flip(orders.setStatus({ orderId: order.orderId, status: "cancelled" }))
      assert.instanceOf(wrong, InvalidTransition)
      assert.deepStrictEqual(wrong._tag === "InvalidTransition" ? wrong.details : undefined, {
        from: "shipped",
        to: "cancelled",
        allowed: ["delivered"]
      })

      yield* orders.setStatus({ orderId: order.orderId, status: "delivered" })
      const part = yield* orders.recordRefund({ orderId: order.orderId, amount: money(1_000), refundId: "ref_1" })
      const over = yield* Effect.flip(
        orders.recordRefund({ orderId: order.orderId, amount: money(4_001), refundId: "ref_2" })
      )
      assert.instanceOf(over, RefundExceedsCaptured)
      assert.deepStrictEqual(over._tag === "RefundExceedsCaptured" ? over.details : undefined, {
        captured: money(5_000),
        refunded: money(1_000),
        requested: money(4_001)
      })
      const zero = yield* Effect.flip(
        orders.recordRefund({ orderId: order.orderId, amount: money(0), refundId: "ref_3" })
      )
      assert.instanceOf(zero, ValidationError)
      const full = yield* orders.recordRefund({ orderId: order.orderId, amount: money(4_000), refundId: "ref_4" })
      assert.strictEqual(full.status, "refunded")
      assert.deepStrictEqual(full.payment.refunds.at(0), part.payment.refunds.at(0))

      const mine = yield* orders.listForUser({ userId: alice, limit: 10, offset: 0 })
      assert.deepStrictEqual(mine, { orders: [full], total: 1, limit: 10, offset: 0 })
      const refunded = yield* orders.listAll({ status: "refunded", limit: 10, offset: 0 })
      assert.deepStrictEqual(refunded.orders, [full])
      const badPage = yield* Effect.flip(orders.listAll({ limit: 0, offset: 0 }))
      assert.instanceOf(badPage, ValidationError)
      const badFilter = yield* Effect.flip(orders.listAll({ status: "lost", limit: 10, offset: 0 }))
      assert.instanceOf(badFilter, InvalidStatus)
      const missing = yield* Effect.flip(orders.get({ orderId: OrderId.make("ord_none"), caller: admin }))
      assert.instanceOf(missing, OrderNotFound)
    }).pipe(Effect.provide(overTheWire))
  )

  it.effect("cancel and admin refund, with the real payments and inventory behind them, through JSON", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      yield* TestClock.setTime(Date.UTC(2026, 11, 2, 10))
      yield* (yield* Inventory).initialize({ levels: [{ variantId: mug, stock: 10 }] })
      const orders = yield* Orders
      const { order } = yield* paidOrder(fake, "res_wire1")
      const part = yield* orders.refund({ orderId: order.orderId, amount: money(1_000) })
      assert.deepStrictEqual(part.payment.refunded, money(1_000))
      const over = yield* Effect.flip(orders.refund({ orderId: order.orderId, amount: money(4_001) }))
      assert.instanceOf(over, RefundExceedsCaptured)
      yield* fault(fake, { step: "refund", mode: "5xx" })
      const unavailable = yield* Effect.flip(orders.setStatus({ orderId: order.orderId, status: "cancelled" }))
      assert.instanceOf(unavailable, PaymentProviderUnavailable)
      const cancelled = yield* orders.setStatus({ orderId: order.orderId, status: "cancelled" })
      assert.deepStrictEqual(cancelled.payment.refunded, money(5_000))
      const refused = yield* Effect.flip(orders.refund({ orderId: order.orderId }))
      assert.instanceOf(refused, InvalidTransition)
    }).pipe(
      Effect.provide(
        layerOverJson(OrdersRpcs, Orders).pipe(
          Layer.provide(OrdersLive.layerMemory),
          Layer.provideMerge(layerNeighbours(fake))
        )
      )
    )
  })
})
