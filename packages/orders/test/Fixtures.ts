import { Effect, Layer } from "effect"
import { CartId, ProductId, UserId, VariantId } from "@shop/domain/Ids"
import { HoldId } from "@shop/domain/Inventory"
import { Currency, type Money } from "@shop/domain/Money"
import type { CreateOrderInput, Order } from "@shop/domain/Orders"
import type { Payment } from "@shop/domain/Payments"
import { Inventory } from "@shop/inventory/Inventory"
import * as InventoryConfig from "@shop/inventory/InventoryConfig"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import * as InventoryRepositoryMemory from "@shop/inventory/InventoryRepositoryMemory"
import { Payments } from "@shop/payments/Payments"
import * as PaymentsLive from "@shop/payments/PaymentsLive"
import * as PaypalFakeProvider from "@shop/payments/PaypalFakeProvider"
import * as PaypalFake from "@shop/paypal-fake/PaypalFake"
import { Orders } from "../src/Orders.ts"

export const usd = Currency.make("USD")
export const money = (amount: number): Money => ({ amount, currency: usd })

// Payments and Inventory that accept every call and move nothing: a refund
// gives nothing back, a restock puts nothing on the shelf. For the tests of
// the order's own record and state machine, where the orders name payments
// and holds that exist nowhere else.
const unused = () => Effect.die(new Error("not used by the orders tests"))

const emptyPayment = (paymentId: Payment["paymentId"]): Payment => ({
  paymentId,
  userId: UserId.make("usr_standin"),
  cartId: CartId.make("cart_000000000000000000000000"),
  reservationId: HoldId.make("res_standin"),
  amount: money(0),
  provider: "paypal",
  providerOrderId: "STANDIN",
  approveUrl: "https://paypal.test/checkoutnow?token=STANDIN",
  status: "captured",
  captures: [],
  refunds: [],
  createdAt: new Date(0).toISOString(),
  updatedAt: new Date(0).toISOString()
})

export const layerStandIns = Layer.mergeAll(
  Layer.succeed(
    Payments,
    Payments.of({
      create: unused,
      get: ({ paymentId }) => Effect.succeed(emptyPayment(paymentId)),
      findByProviderOrder: unused,
      capture: unused,
      refund: ({ paymentId }) => Effect.succeed(emptyPayment(paymentId)),
      markFailed: unused,
      listUnsettled: unused,
      settle: unused,
      recordEvent: unused,
      verifyWebhook: unused
    })
  ),
  Layer.succeed(
    Inventory,
    Inventory.of({
      get: unused,
      set: unused,
      adjust: unused,
      availability: unused,
      initialize: unused,
      remove: unused,
      missing: unused,
      stockRows: unused,
      reserve: unused,
      commit: unused,
      release: unused,
      getHold: unused,
      restock: ({ holdId }) =>
        Effect.succeed({
          holdId,
          status: "restocked" as const,
          lines: [],
          createdAt: new Date(0).toISOString(),
          expiresAt: new Date(0).toISOString(),
          settledAt: new Date(0).toISOString()
        }),
      expireHolds: unused
    })
  )
)

// The real neighbours: payments on its memory store over an in-process fake
// PayPal (the real PayPal provider, its fetch calling the fake's handler),
// and inventory on its memory store (without its sweeper: the holds here are
// committed at once, and a sweeper would make every jump of the TestClock
// run a sweep per 30 s it skips).
export const makeFake = () =>
  PaypalFake.make({
    clientId: "orders-client-id",
    clientSecret: "orders-client-secret-0123456789",
    webhookId: "WH0ORDERS0TEST",
    webhookSecret: "orders-webhook-signing-secret-01"
  })

export const layerNeighbours = (fake: PaypalFake.PaypalFake) =>
  Layer.mergeAll(
    PaymentsLive.layerMemory.pipe(Layer.provide(PaypalFakeProvider.layer(fake, { timeoutMs: 5_000 }))),
    InventoryLive.layer.pipe(
      Layer.provide(InventoryRepositoryMemory.layer),
      Layer.provide(InventoryConfig.layer({ holdTtlSeconds: 900 }))
    )
  )

const control = (fake: PaypalFake.PaypalFake, method: string, path: string, body?: unknown) =>
  Effect.promise(() =>
    fake.handler(
      new Request(`${PaypalFakeProvider.defaultApiBase}${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
      })
    )
  )

/** The next `times` calls of `step` at the fake fail as `mode`. */
export const fault = (fake: PaypalFake.PaypalFake, fault: PaypalFake.Fault) =>
  Effect.asVoid(control(fake, "POST", "/__fake/faults", fault))

/** How many refunds the fake gave for the capture of `payment`. */
export const refundsAtPaypal = (paymentId: Payment["paymentId"]) =>
  Effect.gen(function* () {
    const payment = yield* (yield* Payments).get({ paymentId, caller: { userId: alice, role: "admin" } })
    return payment.refunds
  })

export const alice = UserId.make("usr_alice")
export const admin = { userId: UserId.make("usr_admin"), role: "admin" as const }
export const mug = VariantId.make("var_mug")

const cartId = CartId.make("cart_0123456789abcdefghijklmn")

/**
 * An order as checkout leaves it: `quantity` mugs held and committed in
 * inventory, the total captured at the fake PayPal, the order created.
 */
export const paidOrder = (fake: PaypalFake.PaypalFake, reservation: string, total = 5_000, quantity = 2) =>
  Effect.gen(function* () {
    const inventory = yield* Inventory
    const payments = yield* Payments
    const orders = yield* Orders
    const holdId = HoldId.make(reservation)
    yield* inventory.reserve({ holdId, lines: [{ variantId: mug, quantity }] })
    yield* inventory.commit({ holdId })
    const created = yield* payments.create({
      userId: alice,
      cartId,
      reservationId: holdId,
      amount: money(total),
      returnUrl: "https://shop.test/checkout/return",
      cancelUrl: "https://shop.test/checkout/cancel"
    })
    yield* Effect.promise(() => fake.handler(new Request(created.approveUrl, { redirect: "manual" })))
    const captured = yield* payments.capture({ paymentId: created.paymentId })
    const input: CreateOrderInput = {
      reservationId: holdId,
      userId: alice,
      items: [
        {
          productId: ProductId.make("prd_mug"),
          variantId: mug,
          title: "Mug",
          quantity,
          unitPrice: money(total / quantity),
          lineTotal: money(total)
        }
      ],
      address: { line1: "1 Main St", city: "Springfield", region: "IL", postalCode: "62701", country: "US" },
      shippingMethod: { methodId: "standard", title: "Standard", cost: money(0), transitDays: 5, eta: "2026-12-09" },
      summary: { subtotal: money(total), discount: money(0), shipping: money(0), tax: money(0), total: money(total) },
      payment: {
        paymentId: captured.paymentId,
        provider: "paypal",
        captureId: captured.captures[0]?.captureId ?? "",
        captured: money(total)
      }
    }
    const order: Order = yield* orders.create(input)
    return { order, payment: captured }
  })
