import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Config, Effect, Layer } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import * as DocsScriptBundled from "@shop/gateway/DocsScriptBundled"
import * as Gateway from "@shop/gateway/Gateway"

const listen = Config.all({
  port: Config.Port("PORT").pipe(Config.withDefault(8787)),
  host: Config.String("HOST").pipe(Config.withDefault("127.0.0.1"))
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
    // The body size limit (MaxBodySize, chunked bodies included) and the access
    // log line (with request and trace ids) come from the gateway itself. No
    // server-level `middleware` here: it would force a span and a slower path
    // on every request even with tracing off.
    HttpRouter.serve(Gateway.layer.pipe(Layer.provide(DocsScriptBundled.layer)), {
      disableLogger: true,
      disableListenLog: true
    })
  ),
  Layer.provide(NodeHttpServer.layerConfig(createServer, listen))
)
