import { ConfigProvider, Layer } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { AuthConfig } from "@shop/auth/AuthConfig"
import * as AuthLive from "@shop/auth/AuthLive"
import { CartConfig } from "@shop/cart/CartConfig"
import * as CartLive from "@shop/cart/CartLive"
import * as CatalogLive from "@shop/catalog/CatalogLive"
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

// Every service on in-memory stores: each service's own layerMemory (coupons
// on its memory stores with the COUPON_* settings read above). The cart calls
// the same catalog, inventory, fulfillment and coupons instances that the
// gateway's admin routes change.
export const services = CartLive.layerMemory.pipe(
  Layer.provideMerge(
    Layer.mergeAll(
      AuthLive.layerMemory,
      FulfillmentLive.layerMemory,
      CouponsLive.layer.pipe(Layer.provide(CouponsRepositoryMemory.layer)),
      CatalogLive.layerMemory.pipe(Layer.provideMerge(InventoryLive.layerMemory)),
      IdempotencyLive.layerMemory
    )
  )
)

// The whole shop as a fetch function: requests go through the real HTTP
// pipeline (routing, decoding, middleware, encoding) without a socket.
export const make = (options: MemoryOptions = {}) =>
  HttpRouter.toWebHandler(
    Gateway.layer.pipe(
      Layer.provide(services),
      Layer.provide(HttpServer.layerServices),
      // provideMerge: request fibers start from the built context, so the
      // tracer, logger and log level must be part of it.
      Layer.provideMerge(options.observability ?? Layer.empty),
      Layer.provideMerge(config),
      Layer.provide(configProvider(options.settings))
    ),
    { disableLogger: true }
  )
