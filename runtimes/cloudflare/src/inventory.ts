import { Effect, Layer } from "effect"
import { InventoryRpcs } from "@shop/domain/ServiceContracts"
import { Inventory } from "@shop/inventory/Inventory"
import * as InventoryConfig from "@shop/inventory/InventoryConfig"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import * as InventoryRepositorySql from "@shop/inventory/InventoryRepositorySql"
import * as D1SqlBatch from "./D1SqlBatch.ts"
import * as CatalogVersion from "./CatalogVersion.ts"
import type { InventoryEnv } from "./Env.ts"
import * as ServiceWorker from "./ServiceWorker.ts"
import * as Settings from "./Settings.ts"

// Holds are atomic groups of statements: D1 batches here (D1 has no
// transactions). The settings were checked before the service is built, so
// InventoryConfig cannot fail here. Every stock write bumps the catalog
// version (CatalogVersion.ts): products show `available`, so a stock change
// must reach the gateway's edge cache as a product change does.
export default ServiceWorker.make({
  name: "inventory",
  group: InventoryRpcs,
  tag: Inventory,
  settings: Settings.inventory,
  layer: (env: InventoryEnv) =>
    CatalogVersion.inventory(env.CATALOG_VERSION).pipe(
      Layer.provide(InventoryLive.layer),
      Layer.provide(InventoryRepositorySql.layerBatched),
      Layer.provide(D1SqlBatch.layer),
      Layer.provide(Layer.orDie(InventoryConfig.layerConfig))
    ),
  // The Cron Trigger (wrangler.jsonc, every minute) returns the stock of
  // expired holds, as the sweeper does on memory and node: a hold nobody
  // touches again would otherwise keep its stock from the catalog's
  // `available`. One line when it expired any; a quiet minute logs nothing.
  scheduled: Effect.gen(function* () {
    const inventory = yield* Inventory
    const { expired } = yield* inventory.expireHolds({})
    if (expired > 0) yield* Effect.logInfo("Expired holds").pipe(Effect.annotateLogs({ expired }))
  })
})

// The catalog version's Durable Object (wrangler.jsonc of this Worker; the
// gateway and catalog Workers bind to it by script_name).
export { CatalogVersion } from "./CatalogVersion.ts"
