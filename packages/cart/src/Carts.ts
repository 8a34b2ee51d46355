import { Context } from "effect"
import type { CartRpcs } from "@shop/domain/ServiceContracts"
import type { ServiceOf } from "@shop/domain/ServiceTransport"

// The interface of the cart service (implementation: CartLive.ts). Its
// methods are the procedures of CartRpcs; every one but `create` names the
// cart and the caller.
export class Carts extends Context.Service<Carts, ServiceOf<typeof CartRpcs>>()("@shop/cart/Carts") {}
