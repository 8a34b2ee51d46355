import { Effect, Layer, ManagedRuntime } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import * as Gateway from "@shop/gateway/Gateway"
import { GatewayConfig } from "@shop/gateway/GatewayConfig"
import * as Clients from "./Clients.ts"
import * as DocsAssets from "./DocsAssets.ts"
import * as EdgeCache from "./EdgeCache.ts"
import type { GatewayEnv } from "./Env.ts"
import * as Observability from "./Observability.ts"
import * as Settings from "./Settings.ts"
import { describeError } from "@shop/observability/Settings"

const serviceName = "shop-gateway"

// The same router layer as the node and memory runtimes; only the
// implementations of Auth, Catalog, Inventory, Fulfillment, Coupons, Carts and
// Idempotency differ (clients over the service bindings), and where /docs gets
// Scalar's script (the static assets, not the bundle).
const makeApp = (env: GatewayEnv) => {
  // Shared by the web handler and the flushing runtime, so both see the same
  // exporter (a layer is built once per memo map).
  const memoMap = Layer.makeMemoMapUnsafe()
  // The settings (and the env as ConfigProvider) are part of it, so the
  // service clients read theirs from the same env.
  const observability = Observability.layer(serviceName).pipe(
    Layer.provideMerge(Settings.gateway),
    Layer.provideMerge(Settings.provider(env))
  )
  const services = Layer.mergeAll(
    Clients.auth(env.AUTH),
    Clients.catalog(env.CATALOG),
    Clients.inventory(env.INVENTORY),
    Clients.fulfillment(env.FULFILLMENT),
    Clients.coupons(env.COUPONS),
    Clients.idempotency(env.IDEMPOTENCY),
    Clients.payments(env.PAYMENTS),
    Clients.orders(env.ORDERS),
    Clients.carts(env.CART, env.CART_OBJECTS),
    DocsAssets.layer(env.ASSETS)
  )
  const web = HttpRouter.toWebHandler(
    Gateway.layer.pipe(
      Layer.provide(services),
      Layer.provide(HttpServer.layerServices),
      Layer.provideMerge(observability),
      Layer.provideMerge(Observability.layerScheduler)
    ),
    // The gateway's own middleware logs each request (with its request id).
    { memoMap, disableLogger: true }
  )
  const flusher = ManagedRuntime.make(observability, { memoMap })
  const versions = env.CATALOG_VERSION
  return {
    handler: web.handler,
    // Anonymous catalog reads from the edge cache (EdgeCache.ts). Without the
    // CATALOG_VERSION binding there is no way to invalidate, so no cache.
    edgeCache:
      versions === undefined
        ? undefined
        : flusher
            .runPromise(Effect.map(Effect.service(GatewayConfig), (config) => config.edgeCacheTtlSeconds))
            .then((ttlSeconds) =>
              EdgeCache.make({
                cache: caches.default,
                versions,
                ttlSeconds,
                onVersionError: (error) =>
                  flusher.runFork(Effect.logError("Could not read the catalog version; served uncached", error))
              })
            ),
    // The HTTP server span ends just after the response is handed over;
    // the short pause lets it end before the export.
    flush: Observability.exporting(env)
      ? () => flusher.runPromise(Effect.andThen(Effect.sleep("10 millis"), Observability.flush))
      : undefined
  }
}

// Built on the first request (a Worker may not do I/O or draw random numbers
// at module scope) and kept for the isolate's life: never per request.
let app: ReturnType<typeof makeApp> | undefined
// The settings are checked first, once: refused settings answer every request
// with 500 and one log line naming the setting.
let settingsProblem: Promise<string | undefined> | undefined

export default {
  async fetch(request, env, ctx) {
    const problem = await (settingsProblem ??= Settings.check(Settings.gateway, env))
    if (problem !== undefined) return Settings.refuseRequest(serviceName, problem)
    const current = (app ??= makeApp(env))
    try {
      if (current.edgeCache === undefined) return await current.handler(request)
      return await (await current.edgeCache)(request, ctx, current.handler)
    } catch (error) {
      // Only a failed start-up gets here (a missing binding or secret); the
      // handler itself turns every failure into a response.
      return Settings.refuseRequest(serviceName, describeError(error))
    } finally {
      if (current.flush !== undefined) ctx.waitUntil(current.flush())
    }
  }
} satisfies ExportedHandler<GatewayEnv>
