import { Context } from "effect"
import type { FulfillmentRpcs } from "@shop/domain/ServiceContracts"
import type { ServiceOf } from "@shop/domain/ServiceTransport"

// The interface of the fulfillment service (implementation:
// FulfillmentLive.ts): shipping quotes, address validation and tax rates.
// Its methods are the procedures of FulfillmentRpcs.
export class Fulfillment extends Context.Service<Fulfillment, ServiceOf<typeof FulfillmentRpcs>>()(
  "@shop/fulfillment/Fulfillment"
) {}
