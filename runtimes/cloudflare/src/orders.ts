import { Layer } from "effect"
import { OrdersRpcs } from "@shop/domain/ServiceContracts"
import { Orders } from "@shop/orders/Orders"
import * as OrdersLive from "@shop/orders/OrdersLive"
import * as OrdersRepositorySql from "@shop/orders/OrdersRepositorySql"
import type { ServiceEnv } from "./Env.ts"
import * as ServiceWorker from "./ServiceWorker.ts"

// Every change to an order is a compare-and-set on its row, so the Worker
// needs nothing beyond its D1 (no batches, no settings of its own).
export default ServiceWorker.make({
  name: "orders",
  group: OrdersRpcs,
  tag: Orders,
  layer: (_env: ServiceEnv) => OrdersLive.layer.pipe(Layer.provide(OrdersRepositorySql.layer))
})
