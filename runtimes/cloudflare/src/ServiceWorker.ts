import { WorkerEntrypoint } from "cloudflare:workers"
import { Clock, type Config, Context, Effect, Layer, ManagedRuntime, Option, type Redacted, Schema } from "effect"
// `Rpc` alone is the Workers global namespace (WorkerEntrypointBranded).
import type { Rpc as EffectRpc, RpcGroup, RpcMessage } from "effect/rpc"
import type { SqlClient } from "effect/sql"
import * as D1Client from "@effect/sql-d1/D1Client"
import { NotFound, PayloadTooLarge, Unauthorized } from "@shop/domain/Errors"
import { type Implementation, layerHandlers } from "@shop/domain/ServiceTransport"
import type { ServiceEnv } from "./Env.ts"
import { NonceStore } from "./NonceStore.ts"
import * as Observability from "./Observability.ts"
import * as Settings from "./Settings.ts"
import * as Traced from "@shop/domain/Traced"
import { describeError } from "@shop/observability/Settings"
import * as RpcExchange from "./RpcExchange.ts"
import { maxSkewMillis, noncePattern, SignatureHeaders, verify } from "./Signing.ts"
import { internalPath, type ServiceName } from "./Transports.ts"

// A service Worker: one service Layer (the same one the other runtimes use),
// served with effect/rpc behind two doors.
//
// - `call`, a Workers RPC method, is reachable only through a service binding
//   (bindings are not on the internet), so it takes unsigned calls.
// - `fetch` is what a URL reaches. It answers only signed, fresh, first-seen
//   calls, and refuses everything else before looking at the request; then it
//   hands the call to the same RPC server.
//
// The doors cannot be confused: a binding's `fetch()` lands in `fetch` and
// needs a signature like any URL call, and no URL reaches `call`.

// The largest signed URL call a service takes unless it says otherwise
// (ServiceWorkerOptions.maxCallBytes).
const defaultMaxCallBytes = 1024 * 1024

class InternalServer extends Context.Service<
  InternalServer,
  {
    // One exchange: encoded RPC messages in, encoded responses out.
    readonly serve: (messages: unknown) => Effect.Effect<ReadonlyArray<RpcMessage.FromServerEncoded>>
    readonly secret: Redacted.Redacted<string>
  }
>()("@shop/runtime-cloudflare/InternalServer") {}

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

const handleUrlCall = Traced.fn("ServiceWorker.handleUrlCall")(function* (
  service: ServiceName,
  request: Request,
  maxBodyBytes: number
) {
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
  const messages = yield* Effect.option(Effect.try(() => JSON.parse(new TextDecoder().decode(body)) as unknown))
  if (Option.isNone(messages)) {
    return errorResponse(400, { error: "validation_error", message: "Malformed internal call" })
  }
  return Response.json(yield* serve(messages.value).pipe(Effect.annotateLogs({ via: "url" })))
})

export interface ServiceWorkerOptions<Rpcs extends EffectRpc.Any, I, Env extends ServiceEnv, S = never> {
  readonly name: ServiceName
  readonly group: RpcGroup.RpcGroup<Rpcs>
  readonly tag: Context.Key<I, Implementation<Rpcs>>
  // The service with its store; D1 (SqlClient and D1Client) and the env as
  // ConfigProvider are provided here. It may also build services `S` that
  // only the scheduled hook uses (the catalog's reconciler).
  readonly layer: (env: Env) => Layer.Layer<I | S, never, SqlClient.SqlClient | D1Client.D1Client>
  // The service's own settings (Settings.ts), checked before anything runs.
  readonly settings?: Layer.Layer<never, Config.ConfigError>
  // What a Cron Trigger of this Worker runs (`triggers.crons` in its
  // wrangler.jsonc), on the same runtime as the calls. Without it the Worker
  // has no scheduled handler.
  readonly scheduled?: Effect.Effect<void, never, I | S>
  // The largest body of a signed URL call, default 1 MiB: more only for a
  // service whose calls carry files (the catalog's images).
  readonly maxCallBytes?: number
}

export const make = <Rpcs extends EffectRpc.Any, I, Env extends ServiceEnv, S = never>(
  options: ServiceWorkerOptions<Rpcs, I, Env, S>
): (new (
  ctx: ExecutionContext,
  env: Env
) => ServiceEntrypoint) => {
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
        const secret = yield* Effect.orDie(Settings.internalSecret)
        const serve = yield* RpcExchange.makeServer(options.group, `${serverName}Server`)
        return InternalServer.of({ serve, secret })
      })
    ).pipe(Layer.provide(handlers))
    // The service itself stays in the runtime's context for the scheduled
    // hook; the memo map builds it once for the handlers and the hook alike.
    const app = Layer.mergeAll(server, NonceStore.layerD1).pipe(
      Layer.provideMerge(options.layer(env)),
      Layer.provide(D1Client.layer({ db: env.DB }).pipe(Layer.orDie)),
      Layer.provideMerge(
        Observability.layer(serviceName).pipe(
          Layer.provideMerge(Settings.service),
          Layer.provideMerge(Settings.provider(env))
        )
      )
    )
    return ManagedRuntime.make(app.pipe(Layer.provideMerge(Observability.layerScheduler)))
  }

  // Built once per isolate, on the first call (a Worker may not do I/O or
  // draw random numbers at module scope), and kept for the isolate's life;
  // shared by both doors.
  let runtime: ReturnType<typeof makeRuntime> | undefined
  // Refused settings are found once, before the runtime is built: every call
  // then fails with one log line naming the setting.
  const settings = Layer.mergeAll(options.settings ?? Settings.service, Settings.layerInternalSecret)
  let settingsProblem: Promise<string | undefined> | undefined
  const checkSettings = (env: Env) => (settingsProblem ??= Settings.check(settings, env))

  // The response goes out first; the isolate stays up (waitUntil) until the
  // call's spans are exported.
  const run = <A>(
    env: Env,
    ctx: ExecutionContext,
    program: Effect.Effect<A, never, InternalServer | NonceStore | I | S>
  ) => {
    const current = (runtime ??= makeRuntime(env))
    const result = current.runPromise(program)
    if (Observability.exporting(env)) {
      const flush = () => current.runPromise(Observability.flush)
      ctx.waitUntil(result.then(flush, flush))
    }
    return result
  }

  class Entrypoint extends WorkerEntrypoint<Env> {
    // Through a service binding.
    async call(messages: unknown): Promise<ReadonlyArray<RpcMessage.FromServerEncoded>> {
      const problem = await checkSettings(this.env)
      // The caller's binding call fails: the gateway answers 502 upstream_error.
      if (problem !== undefined) throw new Error(Settings.refuseCall(serviceName, problem))
      const program = Effect.flatMap(InternalServer, ({ serve }) => serve(messages))
      return run(this.env, this.ctx, program.pipe(Effect.annotateLogs({ via: "binding" })))
    }

    // Through a URL: signed calls only.
    override async fetch(request: Request): Promise<Response> {
      const problem = await checkSettings(this.env)
      if (problem !== undefined) return Settings.refuseRequest(serviceName, problem)
      // A runtime that cannot start (a missing binding) answers like refused settings.
      return run(
        this.env,
        this.ctx,
        handleUrlCall(options.name, request, options.maxCallBytes ?? defaultMaxCallBytes)
      ).catch((error: unknown) => Settings.refuseRequest(serviceName, describeError(error)))
    }
  }
  const scheduled = options.scheduled
  if (scheduled === undefined) return Entrypoint

  return class extends Entrypoint {
    // Through a Cron Trigger. Nobody awaits a cron's answer, so the work is
    // handed to waitUntil (and awaited as well, so that the invocation's
    // outcome, in the dashboard's cron events, is the work's).
    override async scheduled(controller: ScheduledController): Promise<void> {
      const problem = await checkSettings(this.env)
      // The invocation fails and the one line naming the setting is logged,
      // once a minute, as every call to this Worker would.
      if (problem !== undefined) throw new Error(Settings.refuseCall(serviceName, problem))
      const program = scheduled.pipe(
        Effect.tapCause((cause) => Effect.logError("Scheduled run failed", cause)),
        Effect.withSpan(`${serverName}Cron.scheduled`, { attributes: { cron: controller.cron } }),
        Effect.annotateLogs({ via: "cron", cron: controller.cron })
      )
      const work = run(this.env, this.ctx, program)
      this.ctx.waitUntil(work)
      await work
    }
  }
}

// What a service Worker's default export is, for the declaration emit (an
// anonymous class with protected members cannot be named in a .d.ts).
export interface ServiceEntrypoint extends Rpc.WorkerEntrypointBranded {
  readonly call: (messages: unknown) => Promise<ReadonlyArray<RpcMessage.FromServerEncoded>>
  readonly fetch: (request: Request) => Promise<Response>
  // Present when the Worker was made with a `scheduled` hook.
  readonly scheduled?: (controller: ScheduledController) => void | Promise<void>
}
