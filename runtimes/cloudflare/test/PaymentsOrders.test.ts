import { assert, it as effectIt } from "@effect/vitest"
import { Effect, Schema } from "effect"
import type { Rpc, RpcGroup } from "effect/rpc"
import { OrderNotFound, PaymentNotApproved } from "@shop/domain/Errors"
import { CartId, OrderId, ProductId, UserId, VariantId } from "@shop/domain/Ids"
import { HoldId } from "@shop/domain/Inventory"
import { Currency, type Money } from "@shop/domain/Money"
import type { CreateOrderInput } from "@shop/domain/Orders"
import { OrdersRpcs, PaymentsRpcs } from "@shop/domain/ServiceContracts"
import { makeClient } from "@shop/domain/ServiceTransport"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { newNonce } from "../src/Signing.ts"
import * as Settings from "../src/Settings.ts"
import * as Transports from "../src/Transports.ts"
import { type Shop, startShop } from "./Shop.ts"

// The orders and payments Workers, reached through their RPC door with the
// same client and transport a caller with an ORDERS or PAYMENTS binding uses
// (as Holds.test.ts reaches the inventory Worker), over a real service
// binding, so calls go through the real contract and typed failures come back
// as their own classes. The
// payments Worker talks to the fake PayPal on 127.0.0.1 by URL (Shop.ts);
// the test plays the buyer's browser and follows the approve link there.

const usd = Currency.make("USD")
const money = (amount: number): Money => ({ amount, currency: usd })
const buyer = UserId.make("usr_buyer")
const buyerCaller = { userId: buyer, role: "user" as const }
const returnUrl = "https://shop.example/checkout/return"
const cancelUrl = "https://shop.example/checkout/cancel"

const holdId = () => Schema.decodeSync(HoldId)(`res_${newNonce()}`)
const cartId = () => Schema.decodeSync(CartId)(`cart_${newNonce().slice(0, 24)}`)

// What checkout hands the orders service once the money is captured.
const orderInput = (reservationId: string, paymentId: string, captureId: string): CreateOrderInput => ({
  reservationId,
  userId: buyer,
  items: [
    {
      productId: ProductId.make("prd_mug"),
      variantId: VariantId.make("var_mug"),
      title: "Mug",
      quantity: 2,
      unitPrice: money(2_000),
      lineTotal: money(4_000)
    }
  ],
  address: { line1: "1 Main St", city: "Springfield", region: "IL", postalCode: "62701", country: "US" },
  shippingMethod: { methodId: "standard", title: "Standard", cost: money(500), transitDays: 5, eta: "2026-12-09" },
  summary: {
    subtotal: money(4_000),
    discount: money(0),
    shipping: money(500),
    tax: money(500),
    total: money(5_000)
  },
  payment: { paymentId, provider: "paypal", captureId, captured: money(5_000) }
})

describe("orders and payments Workers", () => {
  let shop: Shop

  beforeAll(async () => {
    shop = await startShop()
  })

  afterAll(async () => {
    await shop?.close()
  })

  // A service as a caller's binding reaches it: through a real service
  // binding of a test-only Worker (Shop.ts, BindingCaller.ts).
  const client = <Rpcs extends Rpc.Any>(service: "orders" | "payments", group: RpcGroup.RpcGroup<Rpcs>) =>
    makeClient(group, service.charAt(0).toUpperCase() + service.slice(1)).pipe(
      Effect.provide(Transports.binding(service, shop.binding(service)))
    )
  const payments = Effect.suspend(() => client("payments", PaymentsRpcs))
  const orders = Effect.suspend(() => client("orders", OrdersRpcs))

  // The buyer's browser at PayPal: the approve link answers with a redirect
  // back to the shop, which is not followed (the shop is not running here).
  const approve = (approveUrl: string) =>
    Effect.promise(async () => {
      const response = await fetch(approveUrl, { redirect: "manual" })
      await response.arrayBuffer()
      return { status: response.status, location: response.headers.get("location") }
    })

  effectIt.live("a payment is created at the fake PayPal, approved there, and captured once", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const service = yield* payments
        const input = {
          userId: buyer,
          cartId: cartId(),
          reservationId: holdId(),
          amount: money(5_000),
          returnUrl,
          cancelUrl
        }
        const payment = yield* service.create(input)
        assert.strictEqual(payment.status, "created")
        assert.strictEqual(payment.provider, "paypal")
        assert.deepStrictEqual(payment.amount, money(5_000))
        // The approve link is the fake's, on loopback, where the payments
        // Worker reached it by URL.
        assert.isTrue(payment.approveUrl.startsWith(`${shop.paypal.url}/`), payment.approveUrl)

        // The same reservation: the same payment, no second PayPal order.
        const again = yield* service.create(input)
        assert.strictEqual(again.paymentId, payment.paymentId)
        assert.strictEqual(again.providerOrderId, payment.providerOrderId)

        // Before the buyer approves, PayPal refuses the capture: a typed failure.
        const early = yield* Effect.flip(service.capture({ paymentId: payment.paymentId }))
        assert.instanceOf(early, PaymentNotApproved)

        const approved = yield* approve(payment.approveUrl)
        assert.strictEqual(approved.status, 302)
        const location = new URL(approved.location ?? "")
        assert.strictEqual(`${location.origin}${location.pathname}`, returnUrl)
        assert.strictEqual(location.searchParams.get("token"), payment.providerOrderId)

        const captured = yield* service.capture({ paymentId: payment.paymentId })
        assert.strictEqual(captured.status, "captured")
        assert.strictEqual(captured.captures.length, 1)
        const capture = captured.captures[0]!
        assert.isTrue(capture.captureId.length > 0)
        assert.deepStrictEqual(capture.amount, money(5_000))

        // A second capture takes nothing more and answers the same.
        const repeat = yield* service.capture({ paymentId: payment.paymentId })
        assert.deepStrictEqual(repeat, captured)
        const read = yield* service.get({ paymentId: payment.paymentId, caller: buyerCaller })
        assert.deepStrictEqual(read, captured)
        const found = yield* service.findByProviderOrder({ providerOrderId: payment.providerOrderId })
        assert.strictEqual(found?.paymentId, payment.paymentId)
      })
    )
  )

  effectIt.live("an order is created once per reservation, read back, and moved to processing", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const service = yield* orders
        const reservationId = holdId()
        const input = orderInput(reservationId, `pay_${newNonce()}`, `CAP-${newNonce()}`)
        // Two creates for one reservation (a retry): one order.
        const [first, second] = yield* Effect.all([service.create(input), service.create(input)], {
          concurrency: 2
        })
        assert.strictEqual(first.orderId, second.orderId)
        assert.strictEqual(first.status, "paid")
        const byReservation = yield* service.findByReservation({ reservationId })
        assert.strictEqual(byReservation?.orderId, first.orderId)
        const page = yield* service.listForUser({ userId: buyer, limit: 100, offset: 0 })
        assert.strictEqual(page.orders.filter((order) => order.orderId === first.orderId).length, 1)

        const read = yield* service.get({ orderId: first.orderId, caller: buyerCaller })
        assert.strictEqual(read.orderId, first.orderId)
        assert.deepStrictEqual(read.items, input.items)
        assert.strictEqual(read.payment.paymentId, input.payment.paymentId)
        assert.strictEqual(read.payment.captureId, input.payment.captureId)

        const processing = yield* service.setStatus({ orderId: first.orderId, status: "processing" })
        assert.strictEqual(processing.status, "processing")
        assert.strictEqual((yield* service.get({ orderId: first.orderId, caller: buyerCaller })).status, "processing")

        // Another user's order, like one that does not exist: OrderNotFound.
        const stranger = { userId: UserId.make("usr_stranger"), role: "user" as const }
        assert.instanceOf(yield* Effect.flip(service.get({ orderId: first.orderId, caller: stranger })), OrderNotFound)
        const missing = OrderId.make(`ord_${newNonce()}`)
        assert.instanceOf(yield* Effect.flip(service.get({ orderId: missing, caller: buyerCaller })), OrderNotFound)
        assert.instanceOf(
          yield* Effect.flip(service.setStatus({ orderId: missing, status: "processing" })),
          OrderNotFound
        )
      })
    )
  )

  // The orders Worker reaches payments and inventory over its own PAYMENTS
  // and INVENTORY bindings. The hold here was never placed (inventory answers
  // HoldNotFound, which the cancellation logs and passes over); the money is real.
  effectIt.live("an admin refund and a cancellation give the captured money back through the payments Worker", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const paymentsService = yield* payments
        const ordersService = yield* orders
        const reservationId = holdId()
        const payment = yield* paymentsService.create({
          userId: buyer,
          cartId: cartId(),
          reservationId,
          amount: money(5_000),
          returnUrl,
          cancelUrl
        })
        yield* approve(payment.approveUrl)
        const captured = yield* paymentsService.capture({ paymentId: payment.paymentId })
        const order = yield* ordersService.create(
          orderInput(reservationId, captured.paymentId, captured.captures[0]?.captureId ?? "")
        )
        const part = yield* ordersService.refund({ orderId: order.orderId, amount: money(1_500) })
        assert.deepStrictEqual(part.payment.refunded, money(1_500))
        const cancelled = yield* ordersService.setStatus({ orderId: order.orderId, status: "cancelled" })
        assert.strictEqual(cancelled.status, "cancelled")
        assert.deepStrictEqual(cancelled.payment.refunded, money(5_000))
        const again = yield* ordersService.setStatus({ orderId: order.orderId, status: "cancelled" })
        assert.deepStrictEqual(again, cancelled)
        const read = yield* paymentsService.get({ paymentId: payment.paymentId, caller: buyerCaller })
        assert.strictEqual(read.status, "refunded")
        assert.deepStrictEqual(
          read.refunds.map((refund) => refund.amount),
          [money(1_500), money(3_500)]
        )
      })
    )
  )

  // The payments Worker checks PayPal's settings before it serves anything,
  // like every Worker (Settings.check, then one fatal line per call).
  it("refuses incomplete or unsafe PayPal settings in one line naming the setting", async () => {
    const complete = {
      INTERNAL_SECRET: "x".repeat(64),
      PAYPAL_CLIENT_ID: "shop-client",
      PAYPAL_CLIENT_SECRET: "s".repeat(32),
      PAYPAL_WEBHOOK_ID: "WH-1",
      PAYPAL_API_BASE: "http://127.0.0.1:9000"
    }
    expect(await Settings.check(Settings.payments, complete)).toBeUndefined()
    const { PAYPAL_CLIENT_ID: _, ...noClientId } = complete
    expect(await Settings.check(Settings.payments, noClientId)).toMatch(
      /^Invalid configuration: PAYPAL_CLIENT_ID: is required/
    )
    // Credentials never travel in clear text off the machine.
    expect(await Settings.check(Settings.payments, { ...complete, PAYPAL_API_BASE: "http://paypal.example" })).toMatch(
      /^Invalid configuration: PAYPAL_API_BASE: /
    )
    expect(await Settings.check(Settings.payments, { ...complete, PAYPAL_CLIENT_SECRET: "short" })).toMatch(
      /^Invalid configuration: PAYPAL_CLIENT_SECRET: /
    )
  })
})
