import { Effect, Layer } from "effect"
import type { TaxRate } from "@shop/domain/Fulfillment"
import { FulfillmentRepository } from "./FulfillmentRepository.ts"

const byCode = (a: TaxRate, b: TaxRate) => (a.country < b.country ? -1 : a.country > b.country ? 1 : 0)

export const layer = Layer.sync(FulfillmentRepository, () => {
  const rates = new Map<string, TaxRate>()
  return FulfillmentRepository.of({
    upsertTaxRate: (rate) =>
      Effect.sync(() => {
        const row = { country: rate.country, rate: rate.rate, shippingTaxable: rate.shippingTaxable }
        rates.set(rate.country, row)
        return row
      }),
    listTaxRates: () => Effect.sync(() => Array.from(rates.values()).sort(byCode)),
    findTaxRates: (countries) =>
      Effect.sync(() =>
        countries.flatMap((country) => {
          const row = rates.get(country)
          return row ? [row] : []
        })
      )
  })
})
