import { Deferred, Effect, Exit, Layer, Predicate, Queue } from "effect"
import { type Rpc, type RpcGroup, RpcClient, RpcClientError, RpcMessage, RpcSerialization, RpcServer } from "effect/rpc"
import * as Traced from "@shop/domain/Traced"

// The effect/rpc protocol between Workers: one *exchange* per call, the
// encoded RPC messages of one client in, the encoded responses out, carried
// by one Workers RPC call (a service binding) or one signed HTTP request (a
// URL). Plain JSON-compatible data both ways, so it crosses either. No
// Cloudflare import: it is tested in Node (test/RpcExchange.test.ts).

// Fails with the cause when no answer came back.
export type Exchange = (
  messages: ReadonlyArray<RpcMessage.FromClientEncoded>
) => Effect.Effect<ReadonlyArray<RpcMessage.FromServerEncoded>, unknown>

const unreachable = (message: string, cause: unknown) =>
  new RpcClientError.RpcClientError({ reason: new RpcClientError.RpcClientDefect({ message, cause }) })

// One exchange per request. The callee answers a request only when it is
// done (an Exit, or a Defect ending the exchange), so there is nothing to
// acknowledge; an interrupted caller simply stops waiting.
export const layerClient = (service: string, exchange: Exchange) =>
  Layer.effect(
    RpcClient.Protocol,
    RpcClient.Protocol.make((writeResponse) =>
      Effect.succeed({
        send: (clientId, message) =>
          message._tag !== "Request"
            ? Effect.void
            : exchange([message]).pipe(
                Effect.mapError((cause) => unreachable(`The ${service} service did not answer`, cause)),
                Effect.flatMap((responses) =>
                  // A reply that is not a list of responses (a URL that answers
                  // other JSON) is no answer: 502, like an unreachable service.
                  Array.isArray(responses) &&
                  responses.some((response) => response._tag === "Exit" || response._tag === "Defect")
                    ? Effect.forEach(responses, (response) => writeResponse(clientId, response), { discard: true })
                    : Effect.fail(unreachable(`The ${service} service answered without a result`, responses))
                )
              ),
        supportsAck: false,
        supportsTransferables: false,
        codecFor: RpcSerialization.json.codecFor
      })
    )
  )

const isMessages = (u: unknown): u is ReadonlyArray<RpcMessage.FromClientEncoded> =>
  Array.isArray(u) && u.every((m) => Predicate.hasProperty(m, "_tag") && Predicate.isString(m._tag))

// The server side of the exchanges (layerClient above): each exchange
// is a client of its own that sends its messages, then Eof; the server ends
// the client once every request has its Exit, and the exchange answers with
// what was sent to it. The RPC messages carry the caller's span, so the
// server span is the child of the client span (supportsSpanPropagation).
export const makeServer = Traced.fn("RpcExchange.makeServer")(function* <Rpcs extends Rpc.Any>(
  group: RpcGroup.RpcGroup<Rpcs>,
  spanPrefix: string
) {
  const disconnects = yield* Queue.make<number>()
  const exchanges = new Map<
    number,
    { readonly responses: Array<RpcMessage.FromServerEncoded>; readonly done: Deferred.Deferred<void> }
  >()
  let nextClientId = 0
  let writeRequest!: (clientId: number, message: RpcMessage.FromClientEncoded) => Effect.Effect<void>
  const protocol = yield* RpcServer.Protocol.make((write) => {
    writeRequest = write
    return Effect.succeed({
      disconnects,
      send: (clientId, response) => {
        const exchange = exchanges.get(clientId)
        if (exchange === undefined) return Effect.void
        exchange.responses.push(response)
        // A Defect ends the whole exchange for the caller: answer now
        // rather than wait for an end that may not come.
        return response._tag === "Defect" ? Deferred.done(exchange.done, Exit.void) : Effect.void
      },
      end: (clientId) => {
        const exchange = exchanges.get(clientId)
        return exchange === undefined ? Effect.void : Deferred.done(exchange.done, Exit.void)
      },
      clientIds: Effect.sync(() => new Set(exchanges.keys())),
      initialMessage: Effect.succeedNone,
      supportsAck: false,
      supportsTransferables: false,
      supportsSpanPropagation: true,
      supportsNotifications: false,
      codecFor: RpcSerialization.json.codecFor
    })
  })
  // The groups have no RPC middleware, so the server needs only its handlers.
  // A handler's defect is that call's Exit (a die), as a typed failure is,
  // rather than a Defect that would end the exchange without an Exit.
  const server = RpcServer.make(group, { spanPrefix, disableFatalDefects: true }) as Effect.Effect<
    never,
    never,
    RpcServer.Protocol | Rpc.ToHandler<Rpcs>
  >
  yield* server.pipe(Effect.provideService(RpcServer.Protocol, protocol), Effect.forkScoped)

  return (messages: unknown): Effect.Effect<ReadonlyArray<RpcMessage.FromServerEncoded>> => {
    if (!isMessages(messages)) {
      return Effect.succeed([{ _tag: "Defect", defect: "Malformed RPC messages" }])
    }
    const clientId = nextClientId++
    const exchange = { responses: [], done: Deferred.makeUnsafe<void>() }
    exchanges.set(clientId, exchange)
    return Effect.forEach(messages, (message) => writeRequest(clientId, message), { discard: true }).pipe(
      Effect.andThen(writeRequest(clientId, RpcMessage.constEof)),
      Effect.andThen(Deferred.await(exchange.done)),
      Effect.as(exchange.responses),
      Effect.ensuring(
        Effect.sync(() => {
          exchanges.delete(clientId)
          Queue.offerUnsafe(disconnects, clientId)
        })
      )
    )
  }
})
