import { Config, Duration, Effect, Layer, ManagedRuntime, Option } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import * as Gateway from "@shop/gateway/Gateway"
import { GatewayConfig } from "@shop/gateway/GatewayConfig"
import * as Clients from "./Clients.ts"
import type { GatewayEnv } from "./Env.ts"
import * as Observability from "./Observability.ts"

const gatewayConfig = Layer.effect(
  GatewayConfig,
  Effect.gen(function* () {
    const settings = yield* Config.all({
      serviceTimeoutMs: Config.Int("SERVICE_TIMEOUT_MS").pipe(Config.option),
      corsOrigins: Config.String("CORS_ORIGINS").pipe(Config.option),
      clientIpHeader: Config.String("CLIENT_IP_HEADER").pipe(Config.option)
    }).pipe(Effect.orDie)
    return GatewayConfig.of({
      ...GatewayConfig.defaults,
      serviceTimeout: Option.match(settings.serviceTimeoutMs, {
        onNone: () => GatewayConfig.defaults.serviceTimeout,
        onSome: Duration.millis
      }),
      corsOrigins: Option.match(settings.corsOrigins, {
        onNone: () => GatewayConfig.defaults.corsOrigins,
        onSome: (origins) =>
          origins
            .split(",")
            .map((origin) => origin.trim())
            .filter((origin) => origin.length > 0)
      }),
      // Cloudflare's edge sets cf-connecting-ip on every request and a client
      // cannot forge it; without it every shopper would share one throttle key.
      clientIpHeader: Option.some(Option.getOrElse(settings.clientIpHeader, () => "cf-connecting-ip").toLowerCase())
    })
  })
)

// The same router layer as the node and memory runtimes; only the
// implementations of Auth, Catalog and Inventory differ: clients over the
// service bindings.
const makeApp = (env: GatewayEnv) => {
  // Shared by the web handler and the flushing runtime, so both see the same
  // exporter (a layer is built once per memo map).
  const memoMap = Layer.makeMemoMapUnsafe()
  const observability = Observability.layer(env, "shop-gateway")
  const services = Layer.mergeAll(
    Clients.auth(env.AUTH),
    Clients.catalog(env.CATALOG),
    Clients.inventory(env.INVENTORY)
  )
  const web = HttpRouter.toWebHandler(
    Gateway.layer.pipe(
      Layer.provide(services),
      Layer.provide(gatewayConfig),
      Layer.provide(HttpServer.layerServices),
      Layer.provideMerge(observability)
    ),
    // The gateway's own middleware logs each request (with its request id).
    { memoMap, disableLogger: true }
  )
  const flusher = ManagedRuntime.make(observability, { memoMap })
  return {
    handler: web.handler,
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

export default {
  async fetch(request, env, ctx) {
    const current = (app ??= makeApp(env))
    try {
      return await current.handler(request)
    } catch (error) {
      // Only a failed start-up gets here (a missing binding or secret); the
      // handler itself turns every failure into a response.
      console.error(JSON.stringify({ level: "ERROR", service: "shop-gateway", message: String(error) }))
      return Response.json({ error: "internal_error", message: "Something went wrong on our side" }, { status: 500 })
    } finally {
      if (current.flush !== undefined) ctx.waitUntil(current.flush())
    }
  }
} satisfies ExportedHandler<GatewayEnv>
