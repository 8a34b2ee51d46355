import { Schema } from "effect"

// ISO 4217 alphabetic code. Amounts are always integer minor units.
export const Currency = Schema.String.annotate({ description: "ISO 4217 code", examples: ["USD"] }).pipe(
  Schema.check(Schema.isPattern(/^[A-Z]{3}$/u)),
  Schema.brand("Currency")
)
export type Currency = typeof Currency.Type

// The example keeps documentation tools from showing the bound
// (-9007199254740991) as a sample amount.
export const MinorUnits = Schema.Int.pipe(
  Schema.check(Schema.isBetween({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }))
).annotate({ description: "Integer minor units (cents for USD)", examples: [1299] })

export const Money = Schema.Struct({
  amount: MinorUnits,
  currency: Currency
})
export type Money = typeof Money.Type

// A price can never be negative.
export const Price = Schema.Struct({
  amount: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 100_000_000_00 }))).annotate({
    description: "Integer minor units (cents for USD)",
    examples: [1299]
  }),
  currency: Currency
})
export type Price = typeof Price.Type

// The one rounding rule of the project (API.md): half away from zero, applied
// per line. `numerator / denominator` is computed on integers only.
export const roundHalfAwayFromZero = (numerator: number, denominator: number): number => {
  const sign = Math.sign(numerator) * Math.sign(denominator)
  const n = Math.abs(numerator)
  const d = Math.abs(denominator)
  const q = Math.floor(n / d)
  const r = n - q * d
  return sign * (r * 2 >= d ? q + 1 : q)
}

// `amount × numerator / denominator`, rounded half away from zero, exact for
// any safe integers (the product can pass 2^53: a line of 999 × 10^10 minor
// units at 825 basis points does), for percentages and tax rates.
export const scaleRounded = (amount: number, numerator: number, denominator: number): number => {
  const product = amount * numerator
  if (Number.isSafeInteger(product)) return roundHalfAwayFromZero(product, denominator)
  const n = BigInt(amount) * BigInt(numerator)
  const d = BigInt(denominator)
  const negative = n < 0n !== d < 0n
  const absN = n < 0n ? -n : n
  const absD = d < 0n ? -d : d
  const q = absN / absD
  const r = absN - q * absD
  const rounded = r * 2n >= absD ? q + 1n : q
  return Number(negative ? -rounded : rounded)
}
