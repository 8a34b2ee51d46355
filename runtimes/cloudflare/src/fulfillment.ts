import { Layer } from "effect"
import { FulfillmentRpcs } from "@shop/domain/ServiceContracts"
import { Fulfillment } from "@shop/fulfillment/Fulfillment"
import * as FulfillmentLive from "@shop/fulfillment/FulfillmentLive"
import * as FulfillmentRepositorySql from "@shop/fulfillment/FulfillmentRepositorySql"
import type { ServiceEnv } from "./Env.ts"
import * as ServiceWorker from "./ServiceWorker.ts"

export default ServiceWorker.make({
  name: "fulfillment",
  group: FulfillmentRpcs,
  tag: Fulfillment,
  layer: (_env: ServiceEnv) => FulfillmentLive.layer.pipe(Layer.provide(FulfillmentRepositorySql.layer))
})
