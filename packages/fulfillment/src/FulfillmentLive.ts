import { Clock, Effect, Layer } from "effect"
import { InvalidShippingMethod, ValidationError } from "@shop/domain/Errors"
import {
  type AddressCandidate,
  type LabelInput,
  type QuoteInput,
  type ShippingAddress,
  type ShippingCoupon,
  ShippingMethodId,
  type ShippingOption,
  type TaxDestination,
  type TaxRate
} from "@shop/domain/Fulfillment"
import { Currency, roundHalfAwayFromZero } from "@shop/domain/Money"
import * as Traced from "@shop/domain/Traced"
import * as Addresses from "./Addresses.ts"
import { Fulfillment } from "./Fulfillment.ts"
import { FulfillmentRepository } from "./FulfillmentRepository.ts"
import * as FulfillmentRepositoryMemory from "./FulfillmentRepositoryMemory.ts"
import { addBusinessDays, bandOf, ShippingRates, type Zone, zoneOf } from "./ShippingRates.ts"

const methods = ShippingMethodId.literals

// Who carries each method: the postal service for standard at home, a courier
// for the faster methods and for anything abroad.
const carrierOf = (methodId: ShippingMethodId, zone: Zone) =>
  methodId === "standard"
    ? zone === "domestic" || zone === "us_remote"
      ? "USPS"
      : "DHL"
    : methodId === "express"
      ? "UPS"
      : "FEDEX"

const invalid = (message: string, issues: ReadonlyArray<Addresses.Issue>) =>
  new ValidationError({ message, details: { issues } })

// The schemas check these at every process boundary; in-process callers (the
// memory and node runtimes) do not decode, so the service checks them too.
const inputIssues = (input: QuoteInput): ReadonlyArray<Addresses.Issue> => {
  const issues: Array<Addresses.Issue> = []
  if (!Number.isSafeInteger(input.weightGrams) || input.weightGrams < 0) {
    issues.push({ path: "weightGrams", message: "must be a whole number of grams, 0 or more" })
  }
  if (!Number.isSafeInteger(input.subtotal.amount) || input.subtotal.amount < 0) {
    issues.push({ path: "subtotal.amount", message: "must be whole minor units, 0 or more" })
  }
  const coupon = input.coupon
  if (
    coupon?.type === "percent_shipping" &&
    !(Number.isInteger(coupon.value) && coupon.value >= 1 && coupon.value <= 100)
  ) {
    issues.push({ path: "coupon.value", message: "must be a whole percentage from 1 to 100" })
  }
  if (coupon?.type === "fixed_shipping" && !(Number.isSafeInteger(coupon.value) && coupon.value >= 0)) {
    issues.push({ path: "coupon.value", message: "must be whole minor units, 0 or more" })
  }
  return issues
}

// A coupon's effect on one method's cost (minor units, never negative).
const applyCoupon = (methodId: ShippingMethodId, cost: number, coupon: ShippingCoupon | undefined): number => {
  if (coupon === undefined) return cost
  switch (coupon.type) {
    case "free_shipping":
      return methodId === "standard" ? 0 : cost
    case "percent_shipping":
      return Math.max(0, cost - roundHalfAwayFromZero(cost * coupon.value, 100))
    case "fixed_shipping":
      return Math.max(0, cost - coupon.value)
  }
}

export const layer = Layer.effect(
  Fulfillment,
  Effect.gen(function* () {
    const repo = yield* FulfillmentRepository

    const checkAddress = (address: AddressCandidate, prefix: string) => {
      const result = Addresses.validate(address)
      return result._tag === "Valid"
        ? Effect.succeed(result.address)
        : Effect.fail(
            invalid(
              "The address is not valid",
              result.issues.map((issue) => ({ path: `${prefix}${issue.path}`, message: issue.message }))
            )
          )
    }

    const validateAddress = Traced.fn("Fulfillment.validateAddress")(function* (input: { address: AddressCandidate }) {
      return yield* checkAddress(input.address, "")
    })

    const options = Traced.fn("Fulfillment.options")(function* (input: QuoteInput) {
      const destination: ShippingAddress = yield* checkAddress(input.destination, "destination.")
      const issues = inputIssues(input)
      if (issues.length > 0) return yield* invalid("The quote request is not valid", issues)
      const table = yield* ShippingRates
      if (input.subtotal.currency !== table.currency) {
        return yield* invalid("Shipping is quoted in another currency", [
          { path: "subtotal.currency", message: `must be ${table.currency}` }
        ])
      }
      const rates = table.zones[zoneOf(destination.country, destination.region)]
      const band = bandOf(table.bands, input.weightGrams)
      const free = table.freeStandardThreshold !== null && input.subtotal.amount >= table.freeStandardThreshold
      const now = yield* Clock.currentTimeMillis
      const currency = Currency.make(table.currency)
      return methods.map((methodId): ShippingOption => {
        const rate = rates[methodId]
        const base =
          methodId === "standard" && free ? 0 : (rate.prices[band] ?? rate.prices[rate.prices.length - 1] ?? 0)
        return {
          methodId,
          title: rate.title,
          cost: { amount: applyCoupon(methodId, base, input.coupon), currency },
          transitDays: rate.transitDays,
          eta: addBusinessDays(now, rate.transitDays)
        }
      })
    })

    const quote = Traced.fn("Fulfillment.quote")(function* (input: QuoteInput) {
      return { shippingOptions: yield* options(input) }
    })

    const quoteMethod = Traced.fn("Fulfillment.quoteMethod")(function* (input: QuoteInput & { methodId: string }) {
      const all = yield* options(input)
      const found = all.find((option) => option.methodId === input.methodId)
      if (found === undefined) {
        return yield* new InvalidShippingMethod({
          details: { methodId: input.methodId, available: all.map((option) => option.methodId) }
        })
      }
      return found
    })

    const setTaxRate = Traced.fn("Fulfillment.setTaxRate")(function* (input: TaxRate) {
      if (!Number.isInteger(input.rate) || input.rate < 0 || input.rate > 10_000) {
        return yield* invalid("The rate is not valid", [
          { path: "rate", message: "must be whole basis points from 0 to 10000" }
        ])
      }
      const [country, region] = input.country.split("-")
      if (country === undefined || !Addresses.countries.has(country)) {
        return yield* invalid("Unknown country", [
          { path: "country", message: "must be an ISO 3166-1 alpha-2 country code" }
        ])
      }
      const known = Addresses.regions[country]
      if (region !== undefined && known !== undefined && !known.has(region)) {
        return yield* invalid("Unknown region", [
          { path: "country", message: `${region} is not a ${country} region code` }
        ])
      }
      return yield* repo.upsertTaxRate(input, yield* Clock.currentTimeMillis)
    })

    const listTaxRates = Traced.fn("Fulfillment.listTaxRates")(function* (_input: {}) {
      return yield* repo.listTaxRates()
    })

    const taxRateFor = Traced.fn("Fulfillment.taxRateFor")(function* (input: TaxDestination) {
      const country = input.country.trim().toUpperCase()
      const raw = input.region?.trim().toUpperCase()
      const region = raw?.startsWith(`${country}-`) ? raw.slice(country.length + 1) : raw
      const regional = region !== undefined && region.length > 0 ? `${country}-${region}` : undefined
      const found = yield* repo.findTaxRates(regional === undefined ? [country] : [regional, country])
      return found.find((rate) => rate.country === regional) ?? found.find((rate) => rate.country === country) ?? null
    })

    // A label needs no store: the carrier follows from the method and zone,
    // and the tracking number from the order (SHA-256 of its id), so the same
    // order always gets the same label on every runtime.
    const label = Traced.fn("Fulfillment.label")(function* (input: LabelInput) {
      const zone = zoneOf(input.destination.country, input.destination.region)
      const carrier = carrierOf(input.methodId, zone)
      const digest = yield* Effect.promise(() =>
        crypto.subtle.digest("SHA-256", new TextEncoder().encode(`label:${input.orderId}`))
      )
      const digits = Array.from(new Uint8Array(digest).slice(0, 10), (byte) => String(byte % 100).padStart(2, "0"))
      return { carrier, trackingNumber: `${carrier.replace(/[^A-Z]/g, "").slice(0, 3)}${digits.join("")}` }
    })

    return Fulfillment.of({ quote, quoteMethod, validateAddress, setTaxRate, listTaxRates, taxRateFor, label })
  })
)

/** Fulfillment on its in-memory store (one per layer build); needs nothing. */
export const layerMemory = layer.pipe(Layer.provide(FulfillmentRepositoryMemory.layer))
