import { Layer } from "effect"
import { Catalog } from "@shop/catalog/Catalog"
import * as CatalogLive from "@shop/catalog/CatalogLive"
import * as CatalogRepositorySql from "@shop/catalog/CatalogRepositorySql"
import { CatalogRpcs } from "@shop/domain/ServiceContracts"
import * as Clients from "./Clients.ts"
import * as D1SqlBatch from "./D1SqlBatch.ts"
import type { CatalogEnv } from "./Env.ts"
import * as ServiceWorker from "./ServiceWorker.ts"

// Catalog depends on the Inventory interface; here it is a client over the
// INVENTORY binding (or INVENTORY_URL), where memory and node give it the
// implementation itself.
export default ServiceWorker.make({
  name: "catalog",
  group: CatalogRpcs,
  tag: Catalog,
  layer: (env: CatalogEnv) =>
    CatalogLive.layer.pipe(
      Layer.provide(CatalogRepositorySql.layer),
      Layer.provide(D1SqlBatch.layer),
      Layer.provide(Clients.inventory(env.INVENTORY))
    )
})
