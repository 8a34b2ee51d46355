import { Context, type Effect } from "effect"
import type { TaxRate } from "@shop/domain/Fulfillment"

// The fulfillment store: tax rates by country or region. The shipping rate
// table is code (ShippingRates.ts), not data.
export class FulfillmentRepository extends Context.Service<
  FulfillmentRepository,
  {
    // Inserts or replaces the rate of one country or region.
    readonly upsertTaxRate: (rate: TaxRate, now: number) => Effect.Effect<TaxRate>
    // Every rate, ordered by country code.
    readonly listTaxRates: () => Effect.Effect<ReadonlyArray<TaxRate>>
    // The rates of the given codes that exist, in no particular order.
    readonly findTaxRates: (countries: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<TaxRate>>
  }
>()("@shop/fulfillment/FulfillmentRepository") {}
