import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Cause, Clock, Config, Effect, Exit, Layer } from "effect"
import { HttpRouter, HttpServer, type HttpServerResponse, HttpServerRequest } from "effect/http"
import * as Gateway from "@shop/gateway/Gateway"

const listen = Config.all({
  port: Config.Port("PORT").pipe(Config.withDefault(8787)),
  host: Config.String("HOST").pipe(Config.withDefault("127.0.0.1"))
})

const pathOf = (url: string) => url.split("?")[0] ?? url

/**
 * One log line per request, written after the gateway has answered so that it
 * carries the request id the gateway chose (the `x-request-id` it sends back)
 * and, being inside the server span, the trace id.
 * effect's own request logger runs outside the gateway and knows neither.
 */
export const accessLog = <E, R>(
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest>
) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const started = yield* Clock.currentTimeMillis
    const exit = yield* Effect.exit(app)
    const fields = {
      method: request.method,
      path: pathOf(request.url),
      durationMs: (yield* Clock.currentTimeMillis) - started
    }
    if (Exit.isSuccess(exit)) {
      const requestId = exit.value.headers["x-request-id"]
      yield* Effect.logInfo("Sent HTTP response").pipe(
        Effect.annotateLogs({ ...fields, status: exit.value.status, ...(requestId === undefined ? {} : { requestId }) })
      )
    } else if (!Cause.hasInterruptsOnly(exit.cause)) {
      yield* Effect.logError("HTTP request failed", exit.cause).pipe(Effect.annotateLogs(fields))
    }
    return yield* exit
  })

// Released before the server itself, so the line marks the start of a shutdown.
const logListening = Layer.effectDiscard(
  HttpServer.addressFormattedWith((url) =>
    Effect.logInfo(`Listening on ${url}`).pipe(
      Effect.annotateLogs({ url }),
      Effect.andThen(Effect.addFinalizer(() => Effect.logInfo("Shutting down: finishing requests in flight")))
    )
  )
)

/**
 * The gateway's routes on a Node HTTP server at HOST:PORT. Releasing the layer
 * stops accepting connections, lets requests in flight finish (up to 20 s), then
 * lets the services behind it close.
 */
export const layer = logListening.pipe(
  Layer.provideMerge(
    // The body size limit (MaxBodySize, chunked bodies included) is set by the
    // gateway itself from GatewayConfig.maxBodyBytes.
    HttpRouter.serve(Gateway.layer, { disableLogger: true, disableListenLog: true, middleware: accessLog })
  ),
  Layer.provide(NodeHttpServer.layerConfig(createServer, listen))
)
