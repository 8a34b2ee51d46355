import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import type { AddressCandidate, QuoteInput, ShippingCoupon } from "@shop/domain/Fulfillment"
import { Currency } from "@shop/domain/Money"
import { Fulfillment } from "../src/Fulfillment.ts"
import * as FulfillmentLive from "../src/FulfillmentLive.ts"
import { addBusinessDays, defaultRateTable, type RateTable, ShippingRates } from "../src/ShippingRates.ts"

const withFulfillment = Effect.provide(FulfillmentLive.layerMemory)
const usd = Currency.make("USD")

// Wednesday 2026-12-02, 10:00 UTC.
const wednesday = Date.UTC(2026, 11, 2, 10)
const day = 86_400_000

const us: AddressCandidate = {
  line1: "1 Market St",
  city: "San Francisco",
  region: "CA",
  postalCode: "94103",
  country: "US"
}
const input = (overrides: Partial<QuoteInput> = {}): QuoteInput => ({
  destination: us,
  weightGrams: 400,
  subtotal: { amount: 1_000, currency: usd },
  ...overrides
})

const costs = (options: ReadonlyArray<{ readonly methodId: string; readonly cost: { readonly amount: number } }>) =>
  Object.fromEntries(options.map((o) => [o.methodId, o.cost.amount]))

const quote = (overrides: Partial<QuoteInput> = {}) =>
  Effect.gen(function* () {
    const fulfillment = yield* Fulfillment
    return (yield* fulfillment.quote(input(overrides))).shippingOptions
  })

const issuesOf = (error: { readonly details?: Record<string, unknown> | undefined }) =>
  (error.details?.["issues"] as ReadonlyArray<{ path: string; message: string }>).map((i) => i.path)

describe("Fulfillment: shipping quotes", () => {
  it.effect("quotes standard, express and priority with transit days and an ETA from the Clock", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(wednesday)
      const options = yield* quote()
      assert.deepStrictEqual(options, [
        {
          methodId: "standard",
          title: "Standard",
          cost: { amount: 599, currency: usd },
          transitDays: 5,
          eta: "2026-12-09"
        },
        {
          methodId: "express",
          title: "Express",
          cost: { amount: 1499, currency: usd },
          transitDays: 2,
          eta: "2026-12-04"
        },
        {
          methodId: "priority",
          title: "Priority",
          cost: { amount: 2999, currency: usd },
          transitDays: 1,
          eta: "2026-12-03"
        }
      ])
    }).pipe(withFulfillment)
  )

  it.effect("counts business days only: Friday and the weekend roll to Monday", () =>
    Effect.gen(function* () {
      const friday = wednesday + 2 * day
      yield* TestClock.setTime(friday)
      const fromFriday = yield* quote()
      assert.deepStrictEqual(
        fromFriday.map((o) => o.eta),
        ["2026-12-11", "2026-12-08", "2026-12-07"]
      )
      yield* TestClock.setTime(friday + day)
      assert.strictEqual((yield* quote())[2]?.eta, "2026-12-07")
      yield* TestClock.setTime(friday + 2 * day)
      assert.strictEqual((yield* quote())[2]?.eta, "2026-12-07")
      assert.strictEqual(addBusinessDays(friday, 0), "2026-12-04")
      assert.strictEqual(addBusinessDays(wednesday, 10), "2026-12-16")
    }).pipe(withFulfillment)
  )

  it.effect("prices by zone and weight band, band bounds inclusive", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(costs(yield* quote({ weightGrams: 500 })), {
        standard: 599,
        express: 1499,
        priority: 2999
      })
      assert.strictEqual(costs(yield* quote({ weightGrams: 501 }))["standard"], 899)
      assert.strictEqual(costs(yield* quote({ weightGrams: 10_000 }))["standard"], 1899)
      assert.strictEqual(costs(yield* quote({ weightGrams: 250_000 }))["standard"], 2999)
      const alaska = { ...us, region: "AK", postalCode: "99501" }
      assert.strictEqual(costs(yield* quote({ destination: alaska }))["standard"], 999)
      const toronto = { line1: "1 Yonge St", city: "Toronto", region: "ON", postalCode: "m5e1w7", country: "CA" }
      assert.strictEqual(costs(yield* quote({ destination: toronto }))["express"], 2999)
      const berlin = { line1: "Unter den Linden 1", city: "Berlin", postalCode: "10117", country: "DE" }
      assert.strictEqual(costs(yield* quote({ destination: berlin, weightGrams: 3_000 }))["priority"], 10999)
      const tokyo = { line1: "1-1 Chiyoda", city: "Tokyo", postalCode: "1000001", country: "JP" }
      const fromTokyo = yield* quote({ destination: tokyo })
      assert.deepStrictEqual(costs(fromTokyo), { standard: 2299, express: 4999, priority: 7499 })
      assert.deepStrictEqual(
        fromTokyo.map((o) => o.transitDays),
        [15, 7, 4]
      )
    }).pipe(withFulfillment)
  )

  it.effect("standard is free from the threshold on; the other methods are not", () =>
    Effect.gen(function* () {
      assert.strictEqual(costs(yield* quote({ subtotal: { amount: 7_499, currency: usd } }))["standard"], 599)
      const free = costs(yield* quote({ subtotal: { amount: 7_500, currency: usd } }))
      assert.deepStrictEqual(free, { standard: 0, express: 1499, priority: 2999 })
    }).pipe(withFulfillment)
  )

  it.effect("a table of its own replaces the default one", () =>
    Effect.gen(function* () {
      const table: RateTable = { ...defaultRateTable, freeStandardThreshold: null }
      const options = yield* quote({ subtotal: { amount: 1_000_000, currency: usd } }).pipe(
        Effect.provide(Layer.succeed(ShippingRates, table))
      )
      assert.strictEqual(costs(options)["standard"], 599)
    }).pipe(withFulfillment)
  )

  it.effect("shipping coupons change the quotes", () =>
    Effect.gen(function* () {
      const withCoupon = (coupon: ShippingCoupon, weightGrams = 400) =>
        quote({ coupon, weightGrams }).pipe(Effect.map(costs))
      assert.deepStrictEqual(yield* withCoupon({ type: "free_shipping" }), {
        standard: 0,
        express: 1499,
        priority: 2999
      })
      // 599 * 10% = 59.9 -> 60; 1499 -> 149.9 -> 150; 2999 -> 299.9 -> 300.
      assert.deepStrictEqual(yield* withCoupon({ type: "percent_shipping", value: 10 }), {
        standard: 539,
        express: 1349,
        priority: 2699
      })
      // 899 * 50% = 449.5 -> 450 off (half away from zero).
      assert.strictEqual((yield* withCoupon({ type: "percent_shipping", value: 50 }, 1_000))["standard"], 449)
      assert.deepStrictEqual(yield* withCoupon({ type: "percent_shipping", value: 100 }), {
        standard: 0,
        express: 0,
        priority: 0
      })
      assert.deepStrictEqual(yield* withCoupon({ type: "fixed_shipping", value: 1_000 }), {
        standard: 0,
        express: 499,
        priority: 1999
      })
    }).pipe(withFulfillment)
  )

  it.effect("refuses an invalid destination or another currency, naming the field", () =>
    Effect.gen(function* () {
      const fulfillment = yield* Fulfillment
      const bad = yield* Effect.flip(fulfillment.quote(input({ destination: { ...us, postalCode: "ABCDE" } })))
      assert.strictEqual(bad._tag, "ValidationError")
      assert.deepStrictEqual(issuesOf(bad), ["destination.postalCode"])
      const eur = yield* Effect.flip(
        fulfillment.quote(input({ subtotal: { amount: 1, currency: Currency.make("EUR") } }))
      )
      assert.deepStrictEqual(issuesOf(eur), ["subtotal.currency"])
      // What the schemas refuse at a process boundary, the service refuses in process too.
      const unchecked = yield* Effect.flip(
        fulfillment.quote(input({ weightGrams: -1, coupon: { type: "percent_shipping", value: 150 } }))
      )
      assert.deepStrictEqual(issuesOf(unchecked), ["weightGrams", "coupon.value"])
    }).pipe(withFulfillment)
  )

  it.effect("quoteMethod answers one method, or invalid_shipping_method", () =>
    Effect.gen(function* () {
      const fulfillment = yield* Fulfillment
      const express = yield* fulfillment.quoteMethod({ ...input(), methodId: "express" })
      assert.strictEqual(express.cost.amount, 1499)
      const error = yield* Effect.flip(fulfillment.quoteMethod({ ...input(), methodId: "teleport" }))
      assert.strictEqual(error._tag, "InvalidShippingMethod")
    }).pipe(withFulfillment)
  )
})

describe("Fulfillment: address validation", () => {
  const validate = (address: AddressCandidate) =>
    Effect.gen(function* () {
      const fulfillment = yield* Fulfillment
      return yield* Effect.result(fulfillment.validateAddress({ address }))
    })
  const base = { line1: "1 Main St", city: "Town" }

  it.effect("names every missing required field", () =>
    Effect.gen(function* () {
      const result = yield* validate({ line1: "  ", phone: "+1 555" })
      assert.strictEqual(result._tag, "Failure")
      if (result._tag === "Failure")
        assert.deepStrictEqual(issuesOf(result.failure), ["line1", "city", "country", "postalCode"])
    }).pipe(withFulfillment)
  )

  it.effect("accepts ISO 3166-1 countries only", () =>
    Effect.gen(function* () {
      const unknown = yield* validate({ ...base, postalCode: "1000", country: "XX" })
      assert.strictEqual(unknown._tag, "Failure")
      if (unknown._tag === "Failure") assert.deepStrictEqual(issuesOf(unknown.failure), ["country"])
      // A country without a known postal format takes any postal code.
      const ok = yield* validate({ ...base, postalCode: "1000", country: "be" })
      assert.strictEqual(ok._tag === "Success" && ok.success.country, "BE")
    }).pipe(withFulfillment)
  )

  const cases: ReadonlyArray<
    readonly [country: string, region: string | undefined, good: string, normalized: string, bad: string]
  > = [
    ["US", "NY", "10001-1234", "10001-1234", "1000"],
    ["US", "NY", "100011234", "10001-1234", "10001-12"],
    ["CA", "QC", "h3z2y7", "H3Z 2Y7", "D3Z 2Y7"],
    ["GB", undefined, "sw1a1aa", "SW1A 1AA", "SW1A 1A"],
    ["GB", undefined, "N1 9GU", "N1 9GU", "9N1 GU"],
    ["DE", undefined, "10115", "10115", "1011"],
    ["FR", undefined, "75001", "75001", "7500A"],
    ["IN", undefined, "110 001", "110001", "011001"],
    ["JP", undefined, "1000001", "100-0001", "100-00011"],
    ["AU", "NSW", "2000", "2000", "20000"]
  ]
  for (const [country, region, good, normalized, bad] of cases) {
    it.effect(`postal codes of ${country}: ${good} is ${normalized}, ${bad} is refused`, () =>
      Effect.gen(function* () {
        const address = { ...base, country, ...(region !== undefined ? { region } : {}) }
        const ok = yield* validate({ ...address, postalCode: good })
        assert.strictEqual(ok._tag === "Success" && ok.success.postalCode, normalized)
        const refused = yield* validate({ ...address, postalCode: bad })
        assert.strictEqual(refused._tag, "Failure")
        if (refused._tag === "Failure") assert.deepStrictEqual(issuesOf(refused.failure), ["postalCode"])
      }).pipe(withFulfillment)
    )
  }

  it.effect("requires a known region where it matters (US, CA, AU), as a code", () =>
    Effect.gen(function* () {
      const missing = yield* validate({ ...base, postalCode: "94103", country: "US" })
      assert.strictEqual(missing._tag === "Failure" && issuesOf(missing.failure).join(), "region")
      const unknown = yield* validate({ ...base, postalCode: "94103", country: "US", region: "Narnia" })
      assert.strictEqual(unknown._tag === "Failure" && issuesOf(unknown.failure).join(), "region")
      const ok = yield* validate({ ...base, postalCode: "94103", country: "us", region: "us-ca" })
      assert.deepStrictEqual(ok._tag === "Success" && ok.success, {
        line1: "1 Main St",
        city: "Town",
        region: "CA",
        postalCode: "94103",
        country: "US"
      })
    }).pipe(withFulfillment)
  )
})

describe("Fulfillment: tax rates", () => {
  it.effect("sets, replaces and lists rates by code", () =>
    Effect.gen(function* () {
      const fulfillment = yield* Fulfillment
      yield* fulfillment.setTaxRate({ country: "US", rate: 500, shippingTaxable: false })
      yield* fulfillment.setTaxRate({ country: "DE", rate: 1900, shippingTaxable: true })
      yield* fulfillment.setTaxRate({ country: "US", rate: 600, shippingTaxable: true })
      assert.deepStrictEqual(yield* fulfillment.listTaxRates({}), [
        { country: "DE", rate: 1900, shippingTaxable: true },
        { country: "US", rate: 600, shippingTaxable: true }
      ])
    }).pipe(withFulfillment)
  )

  it.effect("US-CA beats US; other states get the country's rate; unknown is null", () =>
    Effect.gen(function* () {
      const fulfillment = yield* Fulfillment
      yield* fulfillment.setTaxRate({ country: "US", rate: 500, shippingTaxable: false })
      yield* fulfillment.setTaxRate({ country: "US-CA", rate: 825, shippingTaxable: true })
      assert.strictEqual((yield* fulfillment.taxRateFor({ country: "US", region: "CA" }))?.rate, 825)
      assert.strictEqual((yield* fulfillment.taxRateFor({ country: "us", region: "US-CA" }))?.rate, 825)
      assert.strictEqual((yield* fulfillment.taxRateFor({ country: "US", region: "NV" }))?.rate, 500)
      assert.strictEqual((yield* fulfillment.taxRateFor({ country: "US" }))?.rate, 500)
      assert.isNull(yield* fulfillment.taxRateFor({ country: "FR" }))
      assert.isNull(yield* fulfillment.taxRateFor({ country: "(", region: "[" }))
    }).pipe(withFulfillment)
  )

  it.effect("refuses unknown countries and regions", () =>
    Effect.gen(function* () {
      const fulfillment = yield* Fulfillment
      const country = yield* Effect.flip(fulfillment.setTaxRate({ country: "XX", rate: 1, shippingTaxable: false }))
      assert.deepStrictEqual(issuesOf(country), ["country"])
      const region = yield* Effect.flip(fulfillment.setTaxRate({ country: "US-ZZ", rate: 1, shippingTaxable: false }))
      assert.deepStrictEqual(issuesOf(region), ["country"])
      const rate = yield* Effect.flip(fulfillment.setTaxRate({ country: "US", rate: 10_001, shippingTaxable: false }))
      assert.deepStrictEqual(issuesOf(rate), ["rate"])
      assert.deepStrictEqual(yield* fulfillment.listTaxRates({}), [])
    }).pipe(withFulfillment)
  )
})
