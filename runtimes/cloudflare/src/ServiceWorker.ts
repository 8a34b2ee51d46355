import { WorkerEntrypoint } from "cloudflare:workers"
import { Clock, Config, Context, Effect, Layer, ManagedRuntime, Redacted, Schema } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
// `Rpc` alone is the Workers global namespace (WorkerEntrypointBranded).
import { type Rpc as EffectRpc, type RpcGroup, RpcSerialization, RpcServer } from "effect/rpc"
import type { SqlClient } from "effect/sql"
import * as D1Client from "@effect/sql-d1/D1Client"
import { NotFound, PayloadTooLarge, Unauthorized } from "@shop/domain/Errors"
import { type Implementation, layerHandlers } from "@shop/domain/ServiceTransport"
import type { ServiceEnv } from "./Env.ts"
import { NonceStore } from "./NonceStore.ts"
import * as Observability from "./Observability.ts"
import { maxSkewMillis, noncePattern, SignatureHeaders, verify } from "./Signing.ts"
import { internalPath, type ServiceName } from "./Transports.ts"

// A service Worker: one service Layer (the same one the other runtimes use),
// served with effect/rpc's HTTP protocol behind two doors.
//
// - The named entrypoint `ServiceRpc` is reachable only through a service
//   binding that names it (bindings are not on the internet), so it takes
//   unsigned calls.
// - The default export's `fetch` is what a URL reaches. It answers only
//   signed, fresh, first-seen calls, and refuses everything else before
//   looking at the request; then it hands the call to the same RPC server.
//
// The doors cannot be confused: a URL only ever reaches the default export,
// and a binding without `entrypoint` lands there too and needs a signature
// like any URL call.

const maxBodyBytes = 1024 * 1024

class InternalServer extends Context.Service<
  InternalServer,
  {
    // One RPC HTTP request (a JSON batch of RPC messages) to its response.
    readonly serve: (request: Request) => Effect.Effect<Response>
    readonly secret: Redacted.Redacted<string>
  }
>()("@shop/runtime-cloudflare/InternalServer") {}

// RpcServer.toHttpEffect, except for tracing: the HTTP protocol expects an
// HTTP server span (continuing a traceparent header) to parent the RPC span,
// and leaves the trace ids in the RPC message unused. There is no HTTP server
// span here (one hop inside Cloudflare), so the message's ids are used: the
// server span is the child of the caller's client span.
const makeRpcServer = <Rpcs extends EffectRpc.Any>(group: RpcGroup.RpcGroup<Rpcs>, spanPrefix: string) =>
  Effect.gen(function* () {
    const { httpEffect, protocol } = yield* RpcServer.makeProtocolWithHttpEffect()
    // The groups have no RPC middleware, so the server needs only its handlers.
    const server = RpcServer.make(group, { spanPrefix }) as Effect.Effect<
      never,
      never,
      RpcServer.Protocol | EffectRpc.ToHandler<Rpcs>
    >
    yield* server.pipe(
      Effect.provideService(RpcServer.Protocol, RpcServer.Protocol.of({ ...protocol, supportsSpanPropagation: true })),
      Effect.forkScoped
    )
    return (request: Request) =>
      httpEffect.pipe(
        Effect.provideService(HttpServerRequest.HttpServerRequest, HttpServerRequest.fromWeb(request)),
        Effect.scoped,
        Effect.map((response) => HttpServerResponse.toWeb(response))
      )
  })

const errorResponse = (status: number, body: unknown) => Response.json(body, { status })
const encodeUnauthorized = Schema.encodeSync(Unauthorized)
const refuse = (message: string) => errorResponse(401, encodeUnauthorized(new Unauthorized({ message })))

// Reads the body up to `max` bytes and stops there: a caller without a
// content-length (chunked) cannot make an unauthenticated request buffer more.
const readCapped = (request: Request, max: number) =>
  Effect.promise(async (): Promise<Uint8Array | undefined> => {
    const reader = request.body?.getReader()
    if (reader === undefined) return new Uint8Array(0)
    const chunks: Array<Uint8Array> = []
    let total = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.byteLength
      if (total > max) {
        await reader.cancel()
        return undefined
      }
      chunks.push(value)
    }
    const out = new Uint8Array(total)
    let offset = 0
    for (const chunk of chunks) {
      out.set(chunk, offset)
      offset += chunk.byteLength
    }
    return out
  })

const handleUrlCall = Effect.fn("ServiceWorker.handleUrlCall")(function* (service: ServiceName, request: Request) {
  const { secret, serve } = yield* InternalServer
  const nonces = yield* NonceStore
  const timestampHeader = request.headers.get(SignatureHeaders.timestamp)
  const nonce = request.headers.get(SignatureHeaders.nonce)
  const signature = request.headers.get(SignatureHeaders.signature)
  if (timestampHeader === null || nonce === null || signature === null) {
    return refuse("Internal calls must be signed")
  }
  const timestamp = Number(timestampHeader)
  const now = yield* Clock.currentTimeMillis
  if (!/^\d{1,16}$/.test(timestampHeader) || Math.abs(now - timestamp) > maxSkewMillis) {
    return refuse("The signature has expired")
  }
  if (!noncePattern.test(nonce)) return refuse("The signature is not valid")
  const length = Number(request.headers.get("content-length") ?? "0")
  if (!(length <= maxBodyBytes)) {
    return errorResponse(413, Schema.encodeSync(PayloadTooLarge)(new PayloadTooLarge({})))
  }
  const body = yield* readCapped(request, maxBodyBytes)
  if (body === undefined) return errorResponse(413, Schema.encodeSync(PayloadTooLarge)(new PayloadTooLarge({})))
  const url = new URL(request.url)
  const valid = yield* verify(
    secret,
    {
      method: request.method,
      pathAndQuery: url.pathname + url.search,
      timestamp,
      nonce,
      body
    },
    signature
  )
  if (!valid) return refuse("The signature is not valid")
  // Only a well-signed request gets this far, so nobody without the secret
  // can fill the nonce table.
  if (!(yield* nonces.remember(nonce, now))) return refuse("This call was already made")

  // The path names the service, so a call signed for another one ends here.
  if (request.method !== "POST" || url.pathname !== internalPath(service)) {
    return errorResponse(404, Schema.encodeSync(NotFound)(new NotFound({})))
  }
  const call = new Request(request.url, { method: "POST", headers: request.headers, body })
  return yield* serve(call).pipe(Effect.annotateLogs({ via: "url" }))
})

export interface ServiceWorkerOptions<Rpcs extends EffectRpc.Any, I, Env extends ServiceEnv> {
  readonly name: ServiceName
  readonly group: RpcGroup.RpcGroup<Rpcs>
  readonly tag: Context.Key<I, Implementation<Rpcs>>
  // The service with its store; D1 (SqlClient and D1Client) is provided here.
  readonly layer: (env: Env) => Layer.Layer<I, never, SqlClient.SqlClient | D1Client.D1Client>
}

export const make = <Rpcs extends EffectRpc.Any, I, Env extends ServiceEnv>(
  options: ServiceWorkerOptions<Rpcs, I, Env>
) => {
  const serviceName = `shop-${options.name}`
  const serverName = options.name.charAt(0).toUpperCase() + options.name.slice(1)

  const makeRuntime = (env: Env) => {
    const handlers = Layer.unwrap(
      Effect.map(Effect.service(options.tag), (implementation) =>
        layerHandlers(options.group, serverName, implementation)
      )
    )
    const server = Layer.effect(
      InternalServer,
      Effect.gen(function* () {
        const secret = yield* Config.Redacted("INTERNAL_SECRET").pipe(
          Effect.mapError(
            (error) => new Error(`INTERNAL_SECRET is not set (wrangler secret put INTERNAL_SECRET): ${error.message}`)
          ),
          Effect.orDie
        )
        // A short key would make the signatures guessable.
        if (Redacted.value(secret).length < 32) {
          return yield* Effect.die(new Error("INTERNAL_SECRET must be at least 32 characters"))
        }
        const serve = yield* makeRpcServer(options.group, `${serverName}Server`)
        return InternalServer.of({ serve, secret })
      })
    ).pipe(Layer.provide(handlers), Layer.provide(RpcSerialization.layerJson))
    const app = Layer.mergeAll(server, NonceStore.layerD1).pipe(
      Layer.provide(options.layer(env)),
      Layer.provide(D1Client.layer({ db: env.DB }).pipe(Layer.orDie)),
      Layer.provideMerge(Observability.layer(env, serviceName))
    )
    return ManagedRuntime.make(app)
  }

  // Built once per isolate, on the first call (a Worker may not do I/O or
  // draw random numbers at module scope), and kept for the isolate's life;
  // shared by both doors.
  let runtime: ReturnType<typeof makeRuntime> | undefined

  // The response goes out first; the isolate stays up (waitUntil) until the
  // call's spans are exported.
  const run = <A>(env: Env, ctx: ExecutionContext, program: Effect.Effect<A, never, InternalServer | NonceStore>) => {
    const current = (runtime ??= makeRuntime(env))
    const result = current.runPromise(program)
    if (Observability.exporting(env)) {
      const flush = () => current.runPromise(Observability.flush)
      ctx.waitUntil(result.then(flush, flush))
    }
    return result
  }

  // Through a URL (or a binding without `entrypoint`): signed calls only.
  const Entrypoint: new (ctx: ExecutionContext, env: Env) => ServiceEntrypoint = class extends WorkerEntrypoint<Env> {
    override fetch(request: Request): Promise<Response> {
      return run(this.env, this.ctx, handleUrlCall(options.name, request))
    }
  }

  // Through a service binding with `"entrypoint": "ServiceRpc"`.
  const RpcEntrypoint: new (ctx: ExecutionContext, env: Env) => ServiceEntrypoint =
    class extends WorkerEntrypoint<Env> {
      override fetch(request: Request): Promise<Response> {
        if (request.method !== "POST") {
          return Promise.resolve(errorResponse(404, Schema.encodeSync(NotFound)(new NotFound({}))))
        }
        const program = Effect.flatMap(InternalServer, ({ serve }) => serve(request))
        return run(this.env, this.ctx, program.pipe(Effect.annotateLogs({ via: "binding" })))
      }
    }
  return { Entrypoint, RpcEntrypoint }
}

// What a service Worker's entrypoints are, for the declaration emit (an
// anonymous class with protected members cannot be named in a .d.ts).
export interface ServiceEntrypoint extends Rpc.WorkerEntrypointBranded {
  readonly fetch: (request: Request) => Promise<Response>
}
