import { Layer } from "effect"
import { OrdersRpcs } from "@shop/domain/ServiceContracts"
import { Orders } from "@shop/orders/Orders"
import * as OrdersLive from "@shop/orders/OrdersLive"
import * as OrdersRepositorySql from "@shop/orders/OrdersRepositorySql"
import * as Clients from "./Clients.ts"
import type { OrdersEnv } from "./Env.ts"
import * as ServiceWorker from "./ServiceWorker.ts"

// Every change to an order is a compare-and-set on its row, so the Worker
// needs no batches and no settings of its own. Cancellations and admin
// refunds move money and stock: payments and inventory are clients over the
// PAYMENTS and INVENTORY bindings (or their URLs), where memory and node give
// the implementations themselves.
export default ServiceWorker.make({
  name: "orders",
  group: OrdersRpcs,
  tag: Orders,
  layer: (env: OrdersEnv) =>
    OrdersLive.layer.pipe(
      Layer.provide(OrdersRepositorySql.layer),
      Layer.provide(Layer.mergeAll(Clients.payments(env.PAYMENTS), Clients.inventory(env.INVENTORY)))
    )
})
