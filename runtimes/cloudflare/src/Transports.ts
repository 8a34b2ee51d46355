import { Clock, Effect, type Redacted } from "effect"
import type { RpcMessage } from "effect/rpc"
import * as Traced from "@shop/domain/Traced"
import { refusal, routeOf } from "./CartRouting.ts"
import type { ServiceBinding } from "./Env.ts"
import * as RpcExchange from "./RpcExchange.ts"
import { signatureHeaders } from "./Signing.ts"

// The client side of the two doors of a service Worker (ServiceWorker.ts):
// an effect/rpc protocol whose one operation is an exchange, a list of
// encoded RPC messages for the list of encoded responses, made either with
// one Workers RPC call through the service binding or with one signed HTTP
// request to the service's URL.

export type ServiceName =
  | "auth"
  | "catalog"
  | "inventory"
  | "fulfillment"
  | "coupons"
  | "idempotency"
  | "orders"
  | "payments"

// Services reached through a binding only, with no URL door: the cart
// (cart.ts), whose calls go on to a Durable Object per cart.
export type BindingOnlyService = "cart"

// Path of a call that reaches a service Worker by URL. The service name is
// part of the signed path, so a call signed for one service is refused by
// another even though they share INTERNAL_SECRET.
export const internalPath = (service: ServiceName) => `/internal/${service}/rpc`

// Over a service binding: one Workers RPC call carrying plain data. Bindings
// are not reachable from the internet, so these calls are not signed.
export const binding = (service: ServiceName | BindingOnlyService, stub: ServiceBinding) =>
  RpcExchange.layerClient(service, (messages) => Effect.tryPromise(() => stub.call(messages)))

// A cart's Durable Object, by cart id: its Workers RPC method `call` serves
// one exchange (cart.ts, CartObject).
export interface CartObjectStub {
  readonly call: (messages: unknown) => Promise<ReadonlyArray<RpcMessage.FromServerEncoded>>
}
export const cartObject = (objects: DurableObjectNamespace, cartId: string): CartObjectStub =>
  objects.getByName(cartId) as unknown as CartObjectStub

// Straight to the cart's Durable Object over a Durable Object binding to the
// cart Worker's class (`script_name: "shop-cart"`), rather than through the
// cart Worker's entrypoint, which only reads the cart id and forwards the
// exchange (cart.ts). Same exchange, same refusals (CartRouting.ts), one
// isolate hop less on every cart call: the gateway's cart calls are the hot
// path of add-to-cart. Like a service binding, a Durable Object binding is
// not reachable from the internet, so these calls are not signed.
export const cartObjects = (objects: DurableObjectNamespace) =>
  RpcExchange.layerClient("cart", (messages) =>
    Effect.tryPromise(async () => {
      const route = routeOf(messages)
      if ("problem" in route) return refusal(route.problem)
      return cartObject(objects, route.cartId).call(messages)
    })
  )

// Over HTTP to the service's URL, signed with INTERNAL_SECRET. `fetch` is a
// parameter so that tests can reach a Worker without a socket.
export const url = (options: {
  readonly service: ServiceName
  readonly baseUrl: URL
  readonly secret: Redacted.Redacted<string>
  readonly fetch?: (request: Request) => Promise<Response>
}) => {
  const send = options.fetch ?? ((request: Request) => fetch(request))
  const encoder = new TextEncoder()
  const target = new URL(
    internalPath(options.service).slice(1),
    options.baseUrl.href.endsWith("/") ? options.baseUrl : `${options.baseUrl.href}/`
  )
  return RpcExchange.layerClient(
    options.service,
    Traced.fn("Transport.url")(function* (messages) {
      const body = encoder.encode(JSON.stringify(messages))
      const headers = yield* signatureHeaders(options.secret, {
        method: "POST",
        pathAndQuery: target.pathname + target.search,
        body,
        now: yield* Clock.currentTimeMillis
      })
      return yield* Effect.tryPromise(async (signal) => {
        const response = await send(
          new Request(target, {
            method: "POST",
            body,
            headers: { ...headers, "content-type": "application/json" },
            signal
          })
        )
        // A refusal (401, 404, 413) has no RPC answer in it: it becomes a
        // transport failure that says why.
        if (response.status !== 200) {
          const text = await response.text()
          throw new Error(`The ${options.service} service refused the call (${response.status}): ${text.slice(0, 200)}`)
        }
        return (await response.json()) as ReadonlyArray<RpcMessage.FromServerEncoded>
      })
    })
  )
}
