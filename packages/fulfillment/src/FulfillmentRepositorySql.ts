import { Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { TaxRate } from "@shop/domain/Fulfillment"
import { chunk, maxSqlParameters } from "@shop/domain/SqlBatch"
import { FulfillmentRepository } from "./FulfillmentRepository.ts"

const Row = Schema.Struct({ country: Schema.String, rate: Schema.Int, shippingTaxable: Schema.Int })
const decodeRows = Schema.decodeUnknownEffect(Schema.Array(Row))
const toRate = (row: typeof Row.Type): TaxRate => ({
  country: row.country,
  rate: row.rate,
  shippingTaxable: row.shippingTaxable === 1
})

export const layer = Layer.effect(
  FulfillmentRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.literal("country, rate, shipping_taxable AS shippingTaxable")
    const rows = <E>(effect: Effect.Effect<ReadonlyArray<unknown>, E>) =>
      effect.pipe(
        Effect.flatMap(decodeRows),
        Effect.map((found) => found.map(toRate)),
        Effect.orDie
      )

    return FulfillmentRepository.of({
      upsertTaxRate: (rate, now) =>
        rows(sql`
          INSERT INTO tax_rates (country, rate, shipping_taxable, updated_at)
          VALUES (${rate.country}, ${rate.rate}, ${rate.shippingTaxable ? 1 : 0}, ${now})
          ON CONFLICT (country) DO UPDATE SET
            rate = excluded.rate, shipping_taxable = excluded.shipping_taxable, updated_at = excluded.updated_at
          RETURNING ${columns}
        `).pipe(Effect.map((found) => found[0] ?? rate)),
      listTaxRates: () => rows(sql`SELECT ${columns} FROM tax_rates ORDER BY country`),
      // A destination asks for two codes (region and country); longer lists
      // are split to stay under D1's 100 bound parameters.
      findTaxRates: (countries) =>
        Effect.forEach(
          chunk(countries, maxSqlParameters),
          (codes) => rows(sql`SELECT ${columns} FROM tax_rates WHERE ${sql.in("country", codes)}`),
          { concurrency: 1 }
        ).pipe(Effect.map((parts) => parts.flat()))
    })
  })
)
