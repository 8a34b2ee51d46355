import { Duration, Layer, type LogLevel, Option, Redacted, References } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { AuthConfig, defaultThrottle } from "@shop/auth/Auth"
import * as AuthLive from "@shop/auth/AuthLive"
import * as AuthRepositoryMemory from "@shop/auth/AuthRepositoryMemory"
import * as CatalogLive from "@shop/catalog/CatalogLive"
import * as CatalogRepositoryMemory from "@shop/catalog/CatalogRepositoryMemory"
import * as Gateway from "@shop/gateway/Gateway"
import { GatewayConfig } from "@shop/gateway/GatewayConfig"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import * as InventoryRepositoryMemory from "@shop/inventory/InventoryRepositoryMemory"

export interface MemoryOptions {
  readonly jwtSecret?: string
  readonly adminSecret?: string
  readonly serviceTimeout?: Duration.Input
  readonly corsOrigins?: ReadonlyArray<string>
  readonly passwordIterations?: number
  readonly throttle?: Partial<typeof defaultThrottle>
  // Extra layers for the whole app, such as a tracer in the tracing tests.
  readonly observability?: Layer.Layer<never>
  // Default "Warn": the per-request access log would drown test output.
  readonly logLevel?: LogLevel.LogLevel
}

// Every service on in-memory stores. The services are the same Layers the
// other runtimes use; only the repositories differ.
export const services = (options: MemoryOptions = {}) => {
  const authConfig = Layer.succeed(
    AuthConfig,
    AuthConfig.of({
      jwtSecret: Redacted.make(options.jwtSecret ?? "memory-runtime-secret-0123456789abcdef"),
      adminSecret: Option.map(Option.fromNullishOr(options.adminSecret), Redacted.make),
      tokenTtlSeconds: 3600,
      passwordIterations: options.passwordIterations ?? 100_000,
      throttle: { ...defaultThrottle, ...options.throttle }
    })
  )
  const inventory = InventoryLive.layer.pipe(Layer.provide(InventoryRepositoryMemory.layer))
  const catalog = CatalogLive.layer.pipe(Layer.provide(CatalogRepositoryMemory.layer), Layer.provide(inventory))
  const auth = AuthLive.layer.pipe(Layer.provide(AuthRepositoryMemory.layer), Layer.provide(authConfig))
  return Layer.mergeAll(auth, catalog, inventory)
}

export const gatewayConfig = (options: MemoryOptions = {}) =>
  Layer.succeed(
    GatewayConfig,
    GatewayConfig.of({
      ...GatewayConfig.defaults,
      ...(options.serviceTimeout !== undefined
        ? { serviceTimeout: Duration.fromInputUnsafe(options.serviceTimeout) }
        : {}),
      ...(options.corsOrigins !== undefined ? { corsOrigins: options.corsOrigins } : {})
    })
  )

// The whole shop as a fetch function: requests go through the real HTTP
// pipeline (routing, decoding, middleware, encoding) without a socket.
export const make = (options: MemoryOptions = {}) =>
  HttpRouter.toWebHandler(
    Gateway.layer.pipe(
      Layer.provide(services(options)),
      Layer.provide(gatewayConfig(options)),
      Layer.provide(HttpServer.layerServices),
      // provideMerge: request fibers start from the built context, so the
      // tracer must be part of it for the per-request server span.
      Layer.provideMerge(options.observability ?? Layer.empty),
      Layer.provideMerge(Layer.succeed(References.MinimumLogLevel, options.logLevel ?? "Warn"))
    ),
    { disableLogger: true }
  )
