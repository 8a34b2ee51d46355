import { ConfigProvider, Layer } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { AuthConfig } from "@shop/auth/AuthConfig"
import * as AuthLive from "@shop/auth/AuthLive"
import { CartConfig } from "@shop/cart/CartConfig"
import * as CartLive from "@shop/cart/CartLive"
import * as CheckoutReconciler from "@shop/cart/CheckoutReconciler"
import { IdGenerator } from "@shop/domain/IdGenerator"
import * as CatalogLive from "@shop/catalog/CatalogLive"
import * as DocsScriptBundled from "@shop/gateway/DocsScriptBundled"
import * as Gateway from "@shop/gateway/Gateway"
import { GatewayConfig } from "@shop/gateway/GatewayConfig"
import { CouponsConfig } from "@shop/coupons/CouponsConfig"
import * as CouponsLive from "@shop/coupons/CouponsLive"
import * as CouponsRepositoryMemory from "@shop/coupons/CouponsRepositoryMemory"
import * as FulfillmentLive from "@shop/fulfillment/FulfillmentLive"
import * as IdempotencyLive from "@shop/idempotency/IdempotencyLive"
import * as InventoryConfig from "@shop/inventory/InventoryConfig"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import * as Observability from "@shop/observability/Observability"
import * as OrdersLive from "@shop/orders/OrdersLive"
import * as PaymentsLive from "@shop/payments/PaymentsLive"
import * as PaypalFakeProvider from "@shop/payments/PaypalFakeProvider"
import * as PaypalFake from "@shop/paypal-fake/PaypalFake"

export interface MemoryOptions {
  // Settings by the names every runtime reads (README, "Configuration"),
  // over the defaults below.
  readonly settings?: Readonly<Record<string, string>>
  // Extra layers for the whole app, such as a tracer in the tracing tests.
  readonly observability?: Layer.Layer<never>
}

// A fixed JWT secret (nothing outlives the process) and Warn: the
// per-request access log would drown test output.
export const defaultSettings: Readonly<Record<string, string>> = {
  JWT_SECRET: "memory-runtime-secret-0123456789abcdef",
  LOG_LEVEL: "warn"
}

// The memory runtime's ConfigProvider: plain values, no environment.
export const configProvider = (settings: Readonly<Record<string, string>> = {}) =>
  ConfigProvider.layer(ConfigProvider.fromEnv({ env: { ...defaultSettings, ...settings } }))

// Every setting the memory runtime reads, through each service's own
// declaration, with JSON logs at LOG_LEVEL from the start.
export const config = Layer.mergeAll(
  AuthConfig.layerConfig,
  GatewayConfig.layerConfig,
  CouponsConfig.layerConfig,
  CartConfig.layerConfig,
  InventoryConfig.layerConfig
).pipe(
  Layer.provideMerge(Observability.layer("shop-memory")),
  Layer.provideMerge(Observability.ObservabilityConfig.layerConfig)
)

// The fake PayPal the memory runtime pays with, in process. Its webhooks go
// to `webhookFetch` (the shop's own handler), as PayPal's would reach the
// gateway.
export const makePaypal = (webhookFetch: (request: Request) => Promise<Response>) =>
  PaypalFake.make({
    clientId: "memory-paypal-client",
    clientSecret: "memory-paypal-secret-0123456789",
    webhookId: "memory-paypal-webhook",
    webhookSecret: "memory-paypal-webhook-secret-0123456789",
    webhookUrl: "http://shop.memory/api/payments/paypal/webhook",
    fetch: webhookFetch
  })

// Every service on in-memory stores: each service's own layerMemory (coupons
// on its memory stores with the COUPON_* settings read above), payments over
// the fake PayPal. The cart calls the same catalog, inventory, fulfillment,
// coupons, payments and orders instances that the gateway's other routes use.
export const servicesWith = (paypal: PaypalFake.PaypalFake, paypalTimeoutMs?: number) => {
  const inventory = InventoryLive.layerMemory
  const payments = PaymentsLive.layerMemory.pipe(
    Layer.provide(PaypalFakeProvider.layer(paypal, paypalTimeoutMs === undefined ? {} : { timeoutMs: paypalTimeoutMs }))
  )
  const orders = OrdersLive.layerMemory.pipe(Layer.provide(Layer.mergeAll(payments, inventory)))
  const base = Layer.mergeAll(
    AuthLive.layerMemory,
    FulfillmentLive.layerMemory,
    CouponsLive.layer.pipe(Layer.provide(CouponsRepositoryMemory.layer)),
    CatalogLive.layerMemory.pipe(Layer.provideMerge(inventory)),
    IdempotencyLive.layerMemory,
    payments,
    orders
  )
  // Checkouts left half-way are settled at start and then periodically.
  const reconciler = CheckoutReconciler.layerScheduleConfig.pipe(Layer.provide(CheckoutReconciler.layer))
  return reconciler.pipe(
    Layer.provideMerge(CartLive.layerMemory),
    Layer.provideMerge(Layer.mergeAll(base, IdGenerator.layer))
  )
}

const timeoutOf = (settings: Readonly<Record<string, string>> | undefined) => {
  const value = Number(settings?.["PAYPAL_TIMEOUT_MS"] ?? Number.NaN)
  return Number.isInteger(value) && value >= 100 ? value : undefined
}

// The whole shop as a fetch function: requests go through the real HTTP
// pipeline (routing, decoding, middleware, encoding) without a socket.
// `paypal` is its fake PayPal: approve links (`https://paypal.fake/...`) and
// the control API are reached with `paypal.fetch`.
export const make = (options: MemoryOptions = {}) => {
  let handler: ((request: Request) => Promise<Response>) | undefined
  const paypal = makePaypal((request) =>
    handler === undefined ? Promise.resolve(new Response(null, { status: 503 })) : handler(request)
  )
  const web = HttpRouter.toWebHandler(
    Gateway.layer.pipe(
      // PAYPAL_TIMEOUT_MS as on the other runtimes (the fake's lost answers last that long).
      Layer.provide(servicesWith(paypal, timeoutOf(options.settings))),
      Layer.provide(DocsScriptBundled.layer),
      Layer.provide(HttpServer.layerServices),
      // provideMerge: request fibers start from the built context, so the
      // tracer, logger and log level must be part of it.
      Layer.provideMerge(options.observability ?? Layer.empty),
      Layer.provideMerge(config),
      Layer.provide(configProvider(options.settings))
    ),
    { disableLogger: true }
  )
  handler = (request) => web.handler(request)
  return { ...web, paypal }
}
