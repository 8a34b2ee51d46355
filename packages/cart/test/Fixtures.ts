import { Layer } from "effect"
import { IdGenerator } from "@shop/domain/IdGenerator"
import * as OrdersLive from "@shop/orders/OrdersLive"
import * as PaymentsLive from "@shop/payments/PaymentsLive"
import * as PaypalFakeProvider from "@shop/payments/PaypalFakeProvider"
import * as PaypalFake from "@shop/paypal-fake/PaypalFake"

// What the cart needs for checkout beyond its own services: payments over an
// in-process fake PayPal, orders, ids, each on its memory store.

export const fakeCredentials = {
  clientId: "shop-client-id",
  clientSecret: "shop-client-secret-0123456789",
  webhookId: "WH0SHOP0TEST",
  webhookSecret: "fake-webhook-signing-secret-0123"
}

export const makeFake = (options: Partial<PaypalFake.Options> = {}) =>
  PaypalFake.make({ ...fakeCredentials, ...options })

export const paymentsOver = (fake: PaypalFake.PaypalFake, timeoutMs = 5_000) =>
  PaymentsLive.layerMemory.pipe(Layer.provide(PaypalFakeProvider.layer(fake, { timeoutMs })))

/** Payments (over `fake`), Orders and IdGenerator on memory; needs Inventory (orders restock through it). */
export const checkoutServices = (fake: PaypalFake.PaypalFake = makeFake()) =>
  Layer.mergeAll(OrdersLive.layerMemory.pipe(Layer.provideMerge(paymentsOver(fake))), IdGenerator.layer)
