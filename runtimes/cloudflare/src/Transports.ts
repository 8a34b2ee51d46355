import { Clock, Effect, Layer, type Redacted } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { RpcClient, RpcSerialization } from "effect/rpc"
import type { ServiceBinding } from "./Env.ts"
import { signatureHeaders } from "./Signing.ts"

// The client side of the two doors of a service Worker (ServiceWorker.ts):
// effect/rpc's HTTP protocol with JSON serialization, sent either through the
// service binding's `fetch` (to the Worker's named `ServiceRpc` entrypoint)
// or to the service's URL, signed.

export type ServiceName = "auth" | "catalog" | "inventory"

// Path of a call that reaches a service Worker by URL. The service name is
// part of the signed path, so a call signed for one service is refused by
// another even though they share INTERNAL_SECRET.
export const internalPath = (service: ServiceName) => `/internal/${service}/rpc`

// Every call is a POST to exactly `url` (RpcClient.layerProtocolHttp would
// append a slash to it) through `fetch`. The fetch function is provided per
// call, innermost: FetchHttpClient reads it from the calling fiber, whose
// context wins over the layer's (HttpClient.layerMergedContext), so a `Fetch`
// provided as a layer can be overridden by the caller's context. The HTTP
// client span is off: it would only repeat the RPC client span
// (`<Service>Client.<method>`), whose ids the RPC message itself carries.
const protocol = (
  url: string,
  fetch: typeof globalThis.fetch,
  transformClient: (client: HttpClient.HttpClient) => HttpClient.HttpClient = (client) => client
) =>
  Layer.effect(
    RpcClient.Protocol,
    Effect.flatMap(HttpClient.HttpClient, (client) =>
      RpcClient.makeProtocolHttp(
        HttpClient.transform(transformClient(HttpClient.mapRequest(client, HttpClientRequest.setUrl(url))), (effect) =>
          effect.pipe(
            Effect.provideService(FetchHttpClient.Fetch, fetch),
            Effect.provideService(HttpClient.TracerDisabledWhen, () => true)
          )
        )
      )
    )
  ).pipe(Layer.provide(RpcSerialization.layerJson), Layer.provide(FetchHttpClient.layer))

// Over a service binding. Bindings are not reachable from the internet, and
// the binding points at the `ServiceRpc` entrypoint, which a URL never
// reaches: these calls are not signed. The host name is never resolved.
export const binding = (service: ServiceName, stub: ServiceBinding) =>
  protocol(`https://${service}.binding${internalPath(service)}`, (input, init) => stub.fetch(new Request(input, init)))

// Over HTTP to the service's URL, each request signed with INTERNAL_SECRET.
// `fetch` is a parameter so that tests can reach a Worker without a socket.
export const url = (options: {
  readonly service: ServiceName
  readonly baseUrl: URL
  readonly secret: Redacted.Redacted<string>
  readonly fetch?: (request: Request) => Promise<Response>
}) => {
  const send = options.fetch ?? ((request: Request) => fetch(request))
  const target = new URL(
    internalPath(options.service).slice(1),
    options.baseUrl.href.endsWith("/") ? options.baseUrl : `${options.baseUrl.href}/`
  )
  const sign = (request: HttpClientRequest.HttpClientRequest) =>
    Effect.gen(function* () {
      // The RPC HTTP protocol sends its JSON as a byte body.
      const body = request.body._tag === "Uint8Array" ? request.body.body : new Uint8Array(0)
      const signedUrl = new URL(request.url)
      const headers = yield* signatureHeaders(options.secret, {
        method: request.method,
        pathAndQuery: signedUrl.pathname + signedUrl.search,
        body,
        now: yield* Clock.currentTimeMillis
      })
      return HttpClientRequest.setHeaders(request, headers)
    })
  // A refusal (401, 404, 413) has no RPC answer in it: it becomes a transport
  // failure that says why, rather than a decoding error.
  const sendChecked = async (request: Request) => {
    const response = await send(request)
    if (response.status === 200) return response
    const text = await response.text()
    throw new Error(`The ${options.service} service refused the call (${response.status}): ${text.slice(0, 200)}`)
  }
  return protocol(
    target.href,
    (input, init) => sendChecked(new Request(input, init)),
    (client) => HttpClient.mapRequestEffect(client, sign)
  )
}
