import { Cause, type Context, Effect, Exit, Layer, Predicate, Schema } from "effect"
import { Rpc, RpcClient, type RpcClientError, type RpcGroup } from "effect/rpc"
import * as Traced from "./Traced.ts"

// Calling a service across a process boundary (a Workers service binding, a
// signed HTTP request, ...) without the service or its callers knowing, on
// effect/rpc. Each service is an RpcGroup (ServiceContracts.ts) whose
// schemas type every payload, success and typed failure; its Context tag's
// shape is derived from the group (Implementation below), so the two cannot
// drift apart. Results cross as encoded Exits: a typed failure comes back as
// an instance of its own class. The protocol (one Workers RPC call through a
// binding, a signed HTTP request to a URL, in memory in tests) is the
// runtime's choice.

// The service interface an RpcGroup describes: one method per procedure,
// taking the decoded payload and answering with its success or typed failure.
export type Implementation<Rpcs extends Rpc.Any> = {
  readonly [Current in Rpcs as Current["_tag"]]: (
    input: Rpc.Payload<Current>
  ) => Effect.Effect<Rpc.Success<Current>, Rpc.Error<Current>>
}

// The service interface of a group, for a Context tag:
// `Context.Service<Inventory, ServiceOf<typeof InventoryRpcs>>()`.
export type ServiceOf<Group> = Implementation<RpcGroup.Rpcs<Group>>

// The defect of a transport that got no usable answer from a service (binding
// failure, network error, refused or garbled reply). The gateway answers it
// with 502 upstream_error rather than 500: the fault is another service's.
export class ServiceUnreachable extends Error {
  readonly _tag = "ServiceUnreachable"
  override readonly name = "ServiceUnreachable"
}

export const isServiceUnreachable = (u: unknown): u is ServiceUnreachable => Predicate.isTagged(u, "ServiceUnreachable")

type AnyMethod = (input: unknown) => Effect.Effect<unknown, unknown>

// A client implementing the service interface over the current
// RpcClient.Protocol. Its spans are `<service>Client.<method>`; the callee's
// are `<service>Server.<method>`. A transport failure (RpcClientError) is a
// defect: the service interfaces have no failure for "unreachable", and the
// caller's timeout and error rendering handle a defect.
export const makeClient = Traced.fn("ServiceTransport.makeClient")(function* <Rpcs extends Rpc.Any>(
  group: RpcGroup.RpcGroup<Rpcs>,
  service: string
) {
  const typed = yield* RpcClient.make(group, { spanPrefix: `${service}Client` })
  // Walked by procedure name below; each method's types are restored on the
  // way out.
  const client = typed as unknown as Record<string, AnyMethod>
  const implementation: Record<string, AnyMethod> = {}
  for (const tag of group.requests.keys()) {
    const call = client[tag]!
    implementation[tag] = (input) =>
      Effect.catchIf(
        call(input),
        (error): error is RpcClientError.RpcClientError => Predicate.isTagged(error, "RpcClientError"),
        (error) =>
          Effect.die(
            new ServiceUnreachable(`The ${service} service did not answer: ${error.message}`, { cause: error })
          )
      )
  }
  // One method per procedure of the group, filled in just above.
  return implementation as unknown as Implementation<Rpcs>
})

const outcome = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isSuccess(exit) ? "success" : Cause.hasFails(exit.cause) ? "failure" : "defect"

// The callee side: the group's handlers, each one the service's own method,
// with one log line per call (under the server span, so with its trace id).
export const layerHandlers = <Rpcs extends Rpc.Any>(
  group: RpcGroup.RpcGroup<Rpcs>,
  service: string,
  implementation: Implementation<Rpcs>
): Layer.Layer<Rpc.ToHandler<Rpcs>> => {
  const methods = implementation as unknown as Record<string, AnyMethod>
  const handlers: Record<string, AnyMethod> = {}
  for (const tag of group.requests.keys()) {
    const run = methods[tag]!
    handlers[tag] = (input) =>
      Effect.onExit(run(input), (exit) =>
        Effect.logInfo("served").pipe(Effect.annotateLogs({ rpc: `${service}.${tag}`, outcome: outcome(exit) }))
      )
  }
  // The handlers need nothing from the context: the implementation is built.
  return group.toLayer(handlers as unknown as RpcGroup.HandlersFrom<Rpcs>) as Layer.Layer<Rpc.ToHandler<Rpcs>>
}

const throughJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

/**
 * The service of `tag`, called through its contract's JSON encoding in
 * process: every payload and every Exit is encoded with the group's schemas
 * (the codec effect/rpc uses between Workers), turned into JSON text and back,
 * and decoded, so a value the contract cannot carry, or a typed failure that
 * would not come back as its own class with its details, shows up without a
 * Worker. A value that does not encode is a defect, as on the wire. Needs the
 * service itself under the same tag.
 */
export const layerOverJson = <I, Rpcs extends Rpc.Any>(
  group: RpcGroup.RpcGroup<Rpcs>,
  tag: Context.Key<I, Implementation<Rpcs>>
): Layer.Layer<I, never, I> =>
  Layer.effect(
    tag,
    Effect.gen(function* () {
      const service = (yield* tag) as unknown as Record<string, AnyMethod>
      const client: Record<string, AnyMethod> = {}
      // Walked by procedure name; the types come back on the way out.
      for (const [name, rpc] of group.requests as unknown as ReadonlyMap<string, Rpc.AnyWithProps>) {
        const payload = Schema.toCodecJson(rpc.payloadSchema)
        const exit = Schema.toCodecJson(Rpc.exitSchema(rpc))
        const run = service[name]!
        // The contracts' schemas need no services, so the codecs need none either.
        client[name] = (input) =>
          Effect.gen(function* () {
            const sent = throughJson(yield* Schema.encodeUnknownEffect(payload)(input))
            const decoded: unknown = yield* Schema.decodeUnknownEffect(payload)(sent)
            const result = yield* Effect.exit(run(decoded))
            const answered = throughJson(yield* Schema.encodeUnknownEffect(exit)(result))
            return (yield* Schema.decodeUnknownEffect(exit)(answered)) as Exit.Exit<unknown, unknown>
          }).pipe(
            Effect.orDie,
            Effect.flatMap((back) => (Exit.isSuccess(back) ? Effect.succeed(back.value) : Effect.failCause(back.cause)))
          ) as Effect.Effect<unknown, unknown>
      }
      // One method per procedure of the group, filled in just above.
      return client as unknown as Implementation<Rpcs>
    })
  )
