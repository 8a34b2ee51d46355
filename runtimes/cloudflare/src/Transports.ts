import { Clock, Effect, type Redacted } from "effect"
import { ServiceUnreachable, type Transport, type WireCall } from "@shop/domain/ServiceTransport"
import type { ServiceBinding } from "./Env.ts"
import { signatureHeaders } from "./Signing.ts"

export type ServiceName = "auth" | "catalog" | "inventory"

// Path of a call that reaches a service Worker by URL. The service name is
// part of the signed path, so a call signed for one service is refused by
// another even though they share INTERNAL_SECRET.
export const internalPath = (service: ServiceName, method: string) => `/internal/${service}/${method}`

// Over a service binding: one Workers RPC call carrying plain data. Bindings
// are not reachable from the internet, so these calls are not signed.
export const binding =
  (service: ServiceName, stub: ServiceBinding): Transport =>
  (call) =>
    Effect.tryPromise({
      try: () => stub.call(call),
      catch: (cause) => new ServiceUnreachable(`The ${service} service binding failed`, { cause })
    }).pipe(Effect.orDie)

// Over HTTP to the service's URL, signed with INTERNAL_SECRET. `fetch` is a
// parameter so that tests can reach a Worker without a socket.
export const url = (options: {
  readonly service: ServiceName
  readonly baseUrl: URL
  readonly secret: Redacted.Redacted<string>
  readonly fetch?: (request: Request) => Promise<Response>
}): Transport => {
  const send = options.fetch ?? ((request: Request) => fetch(request))
  const encoder = new TextEncoder()
  return Effect.fn("Transport.url")(function* (call: WireCall) {
    const path = internalPath(options.service, call.method)
    const target = new URL(
      path.slice(1),
      options.baseUrl.href.endsWith("/") ? options.baseUrl : `${options.baseUrl.href}/`
    )
    const body = encoder.encode(JSON.stringify({ payload: call.payload, traceparent: call.traceparent }))
    const headers = yield* signatureHeaders(options.secret, {
      method: "POST",
      pathAndQuery: target.pathname + target.search,
      body,
      now: yield* Clock.currentTimeMillis
    })
    const response = yield* Effect.tryPromise({
      try: (signal) =>
        send(
          new Request(target, {
            method: "POST",
            body,
            headers: { ...headers, "content-type": "application/json" },
            signal
          })
        ),
      catch: (cause) =>
        new ServiceUnreachable(`The ${options.service} service did not answer at ${options.baseUrl.origin}`, { cause })
    })
    if (response.status !== 200) {
      const text = yield* Effect.promise(() => response.text())
      return yield* Effect.fail(
        new ServiceUnreachable(
          `The ${options.service} service refused the call (${response.status}): ${text.slice(0, 200)}`
        )
      )
    }
    return yield* Effect.tryPromise({
      try: () => response.json(),
      catch: (cause) => new ServiceUnreachable(`The ${options.service} service answered with invalid JSON`, { cause })
    })
  }, Effect.orDie)
}
