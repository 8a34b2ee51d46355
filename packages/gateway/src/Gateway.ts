import { Layer } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ShopApi } from "@shop/domain/Api"
import { DocsRoute } from "./Docs.ts"
import * as Handlers from "./Handlers.ts"
import { GlobalMiddleware } from "./Http.ts"
import * as Middleware from "./Middleware.ts"

// The public HTTP API as router layers. It needs the service interfaces (Auth,
// Catalog, Inventory, Fulfillment, Coupons), GatewayConfig and DocsScript (where
// the docs page's script comes from); each runtime decides what implements
// them and how the routes are served.
export const layer = Layer.mergeAll(
  HttpApiBuilder.layer(ShopApi, { openapiPath: "/openapi.json" }).pipe(
    Layer.provide(Handlers.layer),
    Layer.provide(Middleware.layer)
  ),
  DocsRoute,
  GlobalMiddleware
)
