import { Effect, Option, Schema } from "effect"
import type { Money } from "@shop/domain/Money"
import { Currency } from "@shop/domain/Money"
import { InvalidPaymentAmount } from "./PaymentErrors.ts"

// Money crosses to PayPal as a decimal string ("19.99") and comes back the
// same way. The conversion is done on digits, never through floating point:
// 1999 USD minor units is "19.99", 1000 JPY is "1000", and "19.999" USD is
// refused rather than rounded.

// ISO 4217 minor units: how many of our minor units make one unit of the
// currency (the project's Money counts in these). Two unless listed.
const isoExponents: Record<string, number> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3
}

/** Minor units per unit, as a power of ten (ISO 4217). */
export const isoExponent = (currency: string): number => isoExponents[currency] ?? 2

// The currencies PayPal's REST API accepts, with the decimals it accepts in
// `value`. PayPal takes HUF and TWD in whole units only, although ISO gives
// them cents: an amount with cents in those is refused, never rounded.
const paypalDecimals: Record<string, number> = {
  AUD: 2,
  BRL: 2,
  CAD: 2,
  CHF: 2,
  CNY: 2,
  CZK: 2,
  DKK: 2,
  EUR: 2,
  GBP: 2,
  HKD: 2,
  HUF: 0,
  ILS: 2,
  JPY: 0,
  MXN: 2,
  MYR: 2,
  NOK: 2,
  NZD: 2,
  PHP: 2,
  PLN: 2,
  SEK: 2,
  SGD: 2,
  THB: 2,
  TWD: 0,
  USD: 2
}

/** The decimals PayPal accepts for `currency`, or None when PayPal does not take it. */
export const decimalsOf = (currency: string): Option.Option<number> => Option.fromUndefinedOr(paypalDecimals[currency])

// PayPal's `value` allows 32 characters; amounts this large are far beyond any
// order, and keeping below 2^53 keeps every step exact in a JavaScript number.
const maxMinorUnits = Number.MAX_SAFE_INTEGER

/**
 * `amount` minor units of `currency` as PayPal's `value`: None when it is not
 * a whole number of minor units, is negative, or cannot be said exactly with
 * the decimals PayPal takes for that currency.
 */
export const formatValue = (amount: number, currency: string): Option.Option<string> => {
  const decimals = paypalDecimals[currency]
  if (decimals === undefined || !Number.isSafeInteger(amount) || amount < 0 || amount > maxMinorUnits) {
    return Option.none()
  }
  const exponent = isoExponent(currency)
  // PayPal may take fewer decimals than ISO has (HUF, TWD): the dropped digits must be zeros.
  const drop = exponent - decimals
  if (drop > 0 && amount % 10 ** drop !== 0) return Option.none()
  const scaled = drop > 0 ? amount / 10 ** drop : amount
  if (decimals === 0) return Option.some(String(scaled))
  const digits = String(scaled).padStart(decimals + 1, "0")
  return Option.some(`${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`)
}

/**
 * PayPal's `value` as minor units of `currency`: None when it is not a plain
 * non-negative decimal, has more non-zero decimals than the currency has minor
 * units, or is too large to count exactly.
 */
export const parseValue = (value: string, currency: string): Option.Option<number> => {
  const match = /^(\d{1,30})(?:\.(\d{1,30}))?$/.exec(value)
  if (match === null) return Option.none()
  const exponent = isoExponent(currency)
  const whole = match[1] ?? "0"
  const fraction = (match[2] ?? "").replace(/0+$/, "")
  if (fraction.length > exponent) return Option.none()
  const minor = BigInt(whole) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, "0") || "0")
  return minor <= BigInt(maxMinorUnits) ? Option.some(Number(minor)) : Option.none()
}

/** Money as PayPal's amount object, or the typed refusal. Orders and refunds are never of nothing. */
export const toPaypalAmount = (money: Money) =>
  Option.match(money.amount > 0 ? formatValue(money.amount, money.currency) : Option.none(), {
    onNone: () =>
      Effect.fail(
        new InvalidPaymentAmount({
          message: Option.isNone(decimalsOf(money.currency))
            ? `PayPal does not take ${money.currency}`
            : money.amount > 0
              ? `${money.amount} minor units of ${money.currency} cannot be sent to PayPal exactly`
              : "A payment amount must be more than zero"
        })
      ),
    onSome: (value) => Effect.succeed({ currency_code: money.currency, value })
  })

/** PayPal's amount object as Money; None when it cannot be read exactly. */
export const fromPaypalAmount = (amount: { readonly currency_code: string; readonly value: string }) =>
  Option.flatMap(Option.liftPredicate(amount.currency_code, Schema.is(Currency)), (currency) =>
    Option.map(parseValue(amount.value, currency), (minor): Money => ({ amount: minor, currency }))
  )
