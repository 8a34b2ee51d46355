import { Context } from "effect"
import type { ShippingMethodId } from "@shop/domain/Fulfillment"

// The shipping rate table: prices by zone, method and weight band, in minor
// units of one currency, and the subtotal from which standard shipping is
// free. It is code, not a setting: the default below is what every runtime
// uses; tests (and a shop with other prices) provide their own with
// `Layer.succeed(ShippingRates, table)`.

export type Zone = "domestic" | "us_remote" | "north_america" | "europe" | "international"

export interface MethodRate {
  readonly title: string
  // Business days from today to delivery.
  readonly transitDays: number
  // One price per weight band: prices[i] for weights up to bands[i] grams
  // (inclusive), the last price for anything heavier.
  readonly prices: ReadonlyArray<number>
}

export interface RateTable {
  readonly currency: string
  readonly bands: ReadonlyArray<number>
  readonly zones: Readonly<Record<Zone, Readonly<Record<ShippingMethodId, MethodRate>>>>
  // Standard shipping is free when the subtotal reaches this (minor units);
  // null: never.
  readonly freeStandardThreshold: number | null
}

// US states and territories shipped at remote-zone rates.
const usRemote: ReadonlySet<string> = new Set(["AK", "HI", "PR", "GU", "VI", "AS", "MP", "UM", "AA", "AE", "AP"])
const northAmerica: ReadonlySet<string> = new Set(["CA", "MX"])
// The EU, the EEA and their neighbours, shipped at one European rate.
const europe: ReadonlySet<string> = new Set(
  (
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE " +
    "GB IS LI NO CH MC SM VA AD GI IM JE GG FO AX"
  ).split(" ")
)

// The zone of a validated destination (country and, for the US, the state code).
export const zoneOf = (country: string, region: string | undefined): Zone =>
  country === "US"
    ? region !== undefined && usRemote.has(region)
      ? "us_remote"
      : "domestic"
    : northAmerica.has(country)
      ? "north_america"
      : europe.has(country)
        ? "europe"
        : "international"

const method = (title: string, transitDays: number, prices: ReadonlyArray<number>): MethodRate => ({
  title,
  transitDays,
  prices
})

// Bands: up to 0.5 kg, 2 kg, 5 kg, 10 kg, heavier. Prices in USD cents.
export const defaultRateTable: RateTable = {
  currency: "USD",
  bands: [500, 2_000, 5_000, 10_000],
  zones: {
    domestic: {
      standard: method("Standard", 5, [599, 899, 1299, 1899, 2999]),
      express: method("Express", 2, [1499, 1999, 2799, 3999, 5999]),
      priority: method("Priority", 1, [2999, 3999, 5499, 7499, 9999])
    },
    us_remote: {
      standard: method("Standard", 8, [999, 1499, 2199, 3299, 4999]),
      express: method("Express", 4, [2499, 3299, 4599, 6499, 8999]),
      priority: method("Priority", 2, [3999, 5299, 7499, 9999, 13999])
    },
    north_america: {
      standard: method("Standard", 7, [1299, 1899, 2699, 3999, 5999]),
      express: method("Express", 3, [2999, 3999, 5499, 7499, 10999]),
      priority: method("Priority", 2, [4499, 5999, 7999, 10999, 15999])
    },
    europe: {
      standard: method("Standard", 10, [1799, 2499, 3499, 4999, 7999]),
      express: method("Express", 5, [3999, 5499, 7499, 9999, 14999]),
      priority: method("Priority", 3, [5999, 7999, 10999, 14999, 21999])
    },
    international: {
      standard: method("Standard", 15, [2299, 3299, 4499, 6499, 9999]),
      express: method("Express", 7, [4999, 6999, 9499, 12999, 18999]),
      priority: method("Priority", 4, [7499, 9999, 13999, 18999, 27999])
    }
  },
  freeStandardThreshold: 7_500
}

export const ShippingRates = Context.Reference<RateTable>("@shop/fulfillment/ShippingRates", {
  defaultValue: () => defaultRateTable
})

// The index of the weight band a parcel falls in.
export const bandOf = (bands: ReadonlyArray<number>, weightGrams: number): number => {
  const index = bands.findIndex((upTo) => weightGrams <= upTo)
  return index === -1 ? bands.length : index
}

const dayMillis = 86_400_000

// The date `businessDays` Monday-to-Friday days after the UTC day of `now`,
// as YYYY-MM-DD. Saturdays and Sundays are not counted: an order on Friday
// with 1 business day arrives on Monday, and so does one on Saturday.
export const addBusinessDays = (now: number, businessDays: number): string => {
  let day = Math.floor(now / dayMillis) * dayMillis
  let left = businessDays
  while (left > 0) {
    day += dayMillis
    const weekday = new Date(day).getUTCDay()
    if (weekday !== 0 && weekday !== 6) left -= 1
  }
  return new Date(day).toISOString().slice(0, 10)
}
