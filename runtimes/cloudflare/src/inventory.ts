import { Layer } from "effect"
import { InventoryRpcs } from "@shop/domain/ServiceContracts"
import { Inventory } from "@shop/inventory/Inventory"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import * as InventoryRepositorySql from "@shop/inventory/InventoryRepositorySql"
import type { ServiceEnv } from "./Env.ts"
import * as ServiceWorker from "./ServiceWorker.ts"

export default ServiceWorker.make({
  name: "inventory",
  group: InventoryRpcs,
  tag: Inventory,
  layer: (_env: ServiceEnv) => InventoryLive.layer.pipe(Layer.provide(InventoryRepositorySql.layer))
})
