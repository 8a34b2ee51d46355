import { Cause, Effect, Exit, Option, Schema, type Tracer } from "effect"
import { Headers, HttpTraceContext } from "effect/http"

// Calling a service across a process boundary (a Workers service binding, a
// signed HTTP request, ...) without the service or its callers knowing. A
// contract lists, per method, the schemas of its payload, success and typed
// failure. The caller encodes the payload; the callee decodes it, runs the
// method and answers with the whole Exit, schema-encoded, so that a typed
// failure comes back as an instance of its own class (a thrown error would
// lose its class, and over Workers RPC its fields too).

type Codec = Schema.ConstraintCodec<unknown, unknown, never, never>

export interface ServiceMethod<P extends Codec, S extends Codec, E extends Codec> {
  readonly payload: P
  readonly success: S
  readonly error: E
}

export const method = <P extends Codec, S extends Codec, E extends Codec>(
  payload: P,
  success: S,
  error: E
): ServiceMethod<P, S, E> => ({ payload, success, error })

export type ServiceContract = Record<string, ServiceMethod<Codec, Codec, Codec>>

// The service interface a contract describes. A client built from the
// contract has this type, and a server accepts any implementation of it, so
// the compiler checks the contract against the service's Context tag.
export type Implementation<C extends ServiceContract> = {
  readonly [K in keyof C]: (
    input: C[K]["payload"]["Type"]
  ) => Effect.Effect<C[K]["success"]["Type"], C[K]["error"]["Type"]>
}

// One call as it crosses the boundary: plain JSON data only.
export const WireCall = Schema.Struct({
  method: Schema.String.pipe(Schema.check(Schema.isPattern(/^[A-Za-z][A-Za-z0-9]{0,63}$/))),
  payload: Schema.Unknown,
  // The caller's span, so that the callee's spans join the caller's trace.
  traceparent: Schema.optional(Schema.String.pipe(Schema.check(Schema.isMaxLength(128))))
})
export type WireCall = typeof WireCall.Type

// The defect of a transport that got no usable answer from a service (binding
// failure, network error, refused or garbled reply). The gateway answers it
// with 502 upstream_error rather than 500: the fault is another service's.
export class ServiceUnreachable extends Error {
  readonly _tag = "ServiceUnreachable"
  override readonly name = "ServiceUnreachable"
}

export const isServiceUnreachable = (u: unknown): u is ServiceUnreachable =>
  typeof u === "object" && u !== null && "_tag" in u && u._tag === "ServiceUnreachable"

// Sends one call and returns the encoded Exit. A transport that cannot get an
// answer dies: the service interfaces have no failure for "unreachable", and
// the caller's timeout and error rendering handle a defect.
export type Transport = (call: WireCall) => Effect.Effect<unknown>

const exitCodec = <M extends ServiceMethod<Codec, Codec, Codec>>(m: M) =>
  Schema.toCodecJson(Schema.Exit(m.success, m.error, Schema.Defect()))

// Used when there is no method to encode with (unknown method, result that
// does not match its schema): only the defect crosses.
const encodeDefect = Schema.encodeUnknownSync(
  Schema.toCodecJson(Schema.Exit(Schema.Never, Schema.Never, Schema.Defect()))
)

export const traceparentOf = (span: Tracer.Span): string => HttpTraceContext.toHeaders(span)["traceparent"]!

export const parentFromTraceparent = (traceparent: string | undefined): Option.Option<Tracer.ExternalSpan> =>
  traceparent === undefined ? Option.none() : HttpTraceContext.w3c(Headers.fromInput({ traceparent }))

const clientMethod = <M extends ServiceMethod<Codec, Codec, Codec>>(
  service: string,
  name: string,
  m: M,
  transport: Transport
) => {
  const encodePayload = Schema.encodeUnknownEffect(Schema.toCodecJson(m.payload))
  const decodeExit = Schema.decodeUnknownEffect(exitCodec(m))
  return Effect.fn(`${service}Client.${name}`, { kind: "client" })(function* (input: M["payload"]["Type"]) {
    const payload = yield* Effect.orDie(encodePayload(input))
    const span = yield* Effect.option(Effect.currentSpan)
    const encoded = yield* transport({
      method: name,
      payload,
      ...(Option.isSome(span) ? { traceparent: traceparentOf(span.value) } : {})
    })
    const exit: Exit.Exit<M["success"]["Type"], M["error"]["Type"]> = yield* Effect.orDie(decodeExit(encoded))
    return yield* exit
  })
}

// A client implementing the service interface over a transport.
export const makeClient = <C extends ServiceContract>(
  service: string,
  contract: C,
  transport: Transport
): Implementation<C> => {
  const client: Partial<Record<keyof C, unknown>> = {}
  for (const name of Object.keys(contract) as Array<keyof C & string>) {
    client[name] = clientMethod(service, name, contract[name], transport)
  }
  // Every key of the contract was filled in just above.
  return client as Implementation<C>
}

// Returns the Exit of the method next to its encoding: the encoding is what
// crosses, the Exit is for logging.
const serverMethod = <M extends ServiceMethod<Codec, Codec, Codec>>(
  m: M,
  run: (input: M["payload"]["Type"]) => Effect.Effect<M["success"]["Type"], M["error"]["Type"]>
) => {
  const decodePayload = Schema.decodeUnknownEffect(Schema.toCodecJson(m.payload))
  const encodeExit = Schema.encodeUnknownEffect(exitCodec(m))
  return (payload: unknown): Effect.Effect<{ readonly exit: Exit.Exit<unknown, unknown>; readonly encoded: unknown }> =>
    decodePayload(payload).pipe(
      Effect.mapError((error) => new Error(`Malformed payload: ${error.message}`)),
      Effect.orDie,
      Effect.flatMap(run),
      Effect.exit,
      Effect.flatMap((exit) => Effect.map(encodeExit(exit), (encoded) => ({ exit, encoded }))),
      Effect.catchCause((cause) => {
        const exit = Exit.die(Cause.squash(cause))
        return Effect.succeed({ exit, encoded: encodeDefect(exit) })
      })
    )
}

const decodeCall = Schema.decodeUnknownEffect(WireCall)

const outcome = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isSuccess(exit) ? "success" : Cause.hasFails(exit.cause) ? "failure" : "defect"

// The callee side: answers a call with the encoded Exit of the method,
// continuing the caller's trace, with one log line per call. Never fails:
// every outcome, a malformed call included, is an encoded Exit.
export const makeServer = <C extends ServiceContract>(
  service: string,
  contract: C,
  implementation: Implementation<C>
) => {
  const handlers = new Map<string, ReturnType<typeof serverMethod>>()
  for (const name of Object.keys(contract) as Array<keyof C & string>) {
    handlers.set(name, serverMethod(contract[name], implementation[name]))
  }
  return (input: unknown): Effect.Effect<unknown> =>
    Effect.gen(function* () {
      const call = yield* Effect.option(decodeCall(input))
      if (Option.isNone(call)) return encodeDefect(Exit.die(new Error(`Malformed call to ${service}`)))
      const { method, payload, traceparent } = call.value
      const handler = handlers.get(method)
      if (handler === undefined) return encodeDefect(Exit.die(new Error(`${service} has no method ${method}`)))
      const parent = parentFromTraceparent(traceparent)
      return yield* handler(payload).pipe(
        Effect.tap(({ exit }) =>
          Effect.logInfo("served").pipe(Effect.annotateLogs({ rpc: `${service}.${method}`, outcome: outcome(exit) }))
        ),
        Effect.map(({ encoded }) => encoded),
        Effect.withSpan(`${service}Server.${method}`, {
          kind: "server",
          ...(Option.isSome(parent) ? { parent: parent.value } : {})
        })
      )
    })
}
