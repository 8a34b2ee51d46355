import { Layer } from "effect"
import { InventoryContract } from "@shop/domain/ServiceContracts"
import { Inventory } from "@shop/inventory/Inventory"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import * as InventoryRepositorySql from "@shop/inventory/InventoryRepositorySql"
import type { ServiceEnv } from "./Env.ts"
import * as ServiceWorker from "./ServiceWorker.ts"

export default ServiceWorker.make({
  name: "inventory",
  contract: InventoryContract,
  tag: Inventory,
  layer: (_env: ServiceEnv) => InventoryLive.layer.pipe(Layer.provide(InventoryRepositorySql.layer))
})
