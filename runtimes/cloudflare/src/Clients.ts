import { Config, type Context, Effect, Layer } from "effect"
import { Auth } from "@shop/auth/Auth"
import { Catalog } from "@shop/catalog/Catalog"
import { AuthContract, CatalogContract, InventoryContract } from "@shop/domain/ServiceContracts"
import { makeClient, type Transport } from "@shop/domain/ServiceTransport"
import { Inventory } from "@shop/inventory/Inventory"
import type { ServiceBinding } from "./Env.ts"
import * as Transports from "./Transports.ts"

// Layers that implement the service interfaces (the same Context tags the
// in-process implementations provide) by calling the service's Worker. The
// code that depends on Auth, Catalog or Inventory cannot tell the difference.

// The service binding when the Worker has one, else the service's URL from
// configuration (`<SERVICE>_URL`), with calls signed with INTERNAL_SECRET.
const transport = Effect.fn("Clients.transport")(function* (
  service: Transports.ServiceName,
  stub: ServiceBinding | undefined
) {
  if (stub !== undefined) return Transports.binding(service, stub)
  const name = `${service.toUpperCase()}_URL`
  const settings = yield* Config.all({ baseUrl: Config.URL(name), secret: Config.Redacted("INTERNAL_SECRET") }).pipe(
    Effect.mapError(
      (error) =>
        new Error(
          `The ${service} service has no service binding, and no usable ${name} and INTERNAL_SECRET: ${error.message}`
        )
    ),
    Effect.orDie
  )
  // The calls carry passwords and tokens, and only requests are signed, not
  // replies: anything but a loopback address must be reached over TLS.
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(settings.baseUrl.hostname)
  if (settings.baseUrl.protocol !== "https:" && !loopback) {
    return yield* Effect.die(new Error(`${name} must be an https:// URL (plain http only to a loopback address)`))
  }
  return Transports.url({ service, ...settings })
})

const clientLayer =
  <I, S>(tag: Context.Service<I, S>, make: (transport: Transport) => S, service: Transports.ServiceName) =>
  (stub: ServiceBinding | undefined) =>
    Layer.effect(
      tag,
      Effect.map(transport(service, stub), (t) => tag.of(make(t)))
    )

export const auth = clientLayer(Auth, (t) => makeClient("Auth", AuthContract, t), "auth")
export const catalog = clientLayer(Catalog, (t) => makeClient("Catalog", CatalogContract, t), "catalog")
export const inventory = clientLayer(Inventory, (t) => makeClient("Inventory", InventoryContract, t), "inventory")
