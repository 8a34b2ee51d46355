import { Config, type Context, Effect, Layer } from "effect"
import type { Rpc, RpcGroup } from "effect/rpc"
import { refuse } from "@shop/observability/Settings"
import { Auth } from "@shop/auth/Auth"
import { Carts } from "@shop/cart/Carts"
import { Catalog } from "@shop/catalog/Catalog"
import { Coupons } from "@shop/coupons/Coupons"
import {
  AuthRpcs,
  CartRpcs,
  CatalogRpcs,
  CouponsRpcs,
  FulfillmentRpcs,
  IdempotencyRpcs,
  InventoryRpcs,
  OrdersRpcs,
  PaymentsRpcs
} from "@shop/domain/ServiceContracts"
import { type Implementation, makeClient } from "@shop/domain/ServiceTransport"
import { Fulfillment } from "@shop/fulfillment/Fulfillment"
import { Idempotency } from "@shop/idempotency/Idempotency"
import { Inventory } from "@shop/inventory/Inventory"
import { Orders } from "@shop/orders/Orders"
import { Payments } from "@shop/payments/Payments"
import type { ServiceBinding } from "./Env.ts"
import * as Settings from "./Settings.ts"
import * as Transports from "./Transports.ts"

// Layers that implement the service interfaces (the same Context tags the
// in-process implementations provide) by calling the service's Worker. The
// code that depends on Auth, Catalog, Inventory, Fulfillment, Coupons or Carts cannot tell the difference.

// The service binding when the Worker has one, else the service's URL from
// configuration (`<SERVICE>_URL`), with calls signed with INTERNAL_SECRET.
const protocol = (service: Transports.ServiceName, stub: ServiceBinding | undefined) => {
  if (stub !== undefined) return Transports.binding(service, stub)
  const name = `${service.toUpperCase()}_URL`
  return Layer.unwrap(
    Effect.gen(function* () {
      // Read only when the binding is absent; the same rules as every setting
      // (Settings.ts): a refusal names the setting.
      const baseUrl = yield* Effect.orDie(
        Config.URL(name).pipe(
          Config.mapEffect((url) =>
            // The calls carry passwords and tokens, and only requests are
            // signed, not replies: anything but a loopback address must be
            // reached over TLS.
            url.protocol === "https:" || ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)
              ? Effect.succeed(url)
              : Effect.fail(refuse(name, "must be an https:// URL (plain http only to a loopback address)"))
          )
        )
      )
      const secret = yield* Effect.orDie(Settings.internalSecret)
      const settings = { baseUrl, secret }
      return Transports.url({ service, ...settings })
    })
  )
}

const clientLayer =
  <I, Rpcs extends Rpc.Any>(
    tag: Context.Key<I, Implementation<Rpcs>>,
    group: RpcGroup.RpcGroup<Rpcs>,
    service: Transports.ServiceName
  ) =>
  (stub: ServiceBinding | undefined) =>
    Layer.effect(tag, makeClient(group, service.charAt(0).toUpperCase() + service.slice(1))).pipe(
      Layer.provide(protocol(service, stub))
    )

export const auth = clientLayer(Auth, AuthRpcs, "auth")
export const catalog = clientLayer(Catalog, CatalogRpcs, "catalog")
export const inventory = clientLayer(Inventory, InventoryRpcs, "inventory")
export const fulfillment = clientLayer(Fulfillment, FulfillmentRpcs, "fulfillment")
export const coupons = clientLayer(Coupons, CouponsRpcs, "coupons")
export const idempotency = clientLayer(Idempotency, IdempotencyRpcs, "idempotency")
export const orders = clientLayer(Orders, OrdersRpcs, "orders")
export const payments = clientLayer(Payments, PaymentsRpcs, "payments")

// The cart Worker through bindings only: it has no URL door, because its
// signed-call replay protection would need a nonce store of its own (the
// other services keep theirs in their D1, the cart has none). With the
// Durable Object binding to its carts (`CART_OBJECTS`, script_name
// shop-cart), each call goes straight to the cart's object; else through the
// cart Worker's entrypoint (the CART service binding), which routes it there.
// Without either the Worker cannot start, like one missing a secret: every
// request answers 500 and one log line says why.
export const carts = (stub: ServiceBinding | undefined, objects?: DurableObjectNamespace | undefined) =>
  objects !== undefined
    ? Layer.effect(Carts, makeClient(CartRpcs, "Cart")).pipe(Layer.provide(Transports.cartObjects(objects)))
    : stub === undefined
      ? Layer.effect(
          Carts,
          Effect.die(new Error("The CART service binding is missing (the cart Worker is reached by binding only)"))
        )
      : Layer.effect(Carts, makeClient(CartRpcs, "Cart")).pipe(Layer.provide(Transports.binding("cart", stub)))
