import { Predicate, Schema } from "effect"
import type { RpcMessage } from "effect/rpc"
import { CartId } from "@shop/domain/Ids"

// Which cart's Durable Object an exchange of CartRpcs goes to. Shared by the
// cart Worker's entrypoint (its binding door) and the gateway's client, which
// calls the object itself over a Durable Object binding (Transports.cartObjects):
// both refuse the same exchanges the same way. No Cloudflare import, so it is
// tested in Node.

// An exchange answer that ends the caller's call with a defect (the caller's
// client turns it into a failed call): for calls that cannot be routed.
export const refusal = (problem: string): ReadonlyArray<RpcMessage.FromServerEncoded> => [
  { _tag: "Defect", defect: problem }
]

const isCartId = Schema.is(CartId)

/**
 * The cart an exchange is for: the `cartId` of its request messages (every
 * procedure of CartRpcs has one), checked with the CartId schema. An
 * exchange with no request, a request without a well-formed cart id, or
 * requests for different carts has no single object to go to.
 */
export const routeOf = (messages: unknown): { readonly cartId: string } | { readonly problem: string } => {
  if (!Array.isArray(messages)) return { problem: "Malformed RPC messages" }
  let cartId: string | undefined
  for (const message of messages) {
    if (!Predicate.hasProperty(message, "_tag")) return { problem: "Malformed RPC messages" }
    if (message._tag !== "Request") continue
    const payload = Predicate.hasProperty(message, "payload") ? message.payload : undefined
    const id = Predicate.hasProperty(payload, "cartId") ? payload.cartId : undefined
    if (!isCartId(id)) return { problem: "A cart call must name a well-formed cart id" }
    if (cartId !== undefined && cartId !== id) return { problem: "An exchange must be for one cart" }
    cartId = id
  }
  return cartId === undefined ? { problem: "An exchange must carry a cart call" } : { cartId }
}
