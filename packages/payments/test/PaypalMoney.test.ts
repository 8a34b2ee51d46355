import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { Currency } from "@shop/domain/Money"
import * as PaypalMoney from "../src/PaypalMoney.ts"

const format = (amount: number, currency: string) => Option.getOrUndefined(PaypalMoney.formatValue(amount, currency))
const parse = (value: string, currency: string) => Option.getOrUndefined(PaypalMoney.parseValue(value, currency))

describe("PaypalMoney", () => {
  it("writes minor units as PayPal's decimal strings, exactly", () => {
    assert.strictEqual(format(1999, "USD"), "19.99")
    assert.strictEqual(format(5, "USD"), "0.05")
    assert.strictEqual(format(100, "EUR"), "1.00")
    assert.strictEqual(format(0, "USD"), "0.00")
    assert.strictEqual(format(1000, "JPY"), "1000")
    assert.strictEqual(format(7, "JPY"), "7")
    // Forints: ISO counts fillér, PayPal takes whole forints only.
    assert.strictEqual(format(12_300, "HUF"), "123")
    assert.strictEqual(format(9_007_199_254_740_991, "USD"), "90071992547409.91")
  })

  it("refuses what it cannot write exactly", () => {
    assert.strictEqual(format(19.5, "USD"), undefined)
    assert.strictEqual(format(0.1 + 0.2, "USD"), undefined)
    assert.strictEqual(format(-1, "USD"), undefined)
    assert.strictEqual(format(Number.NaN, "USD"), undefined)
    assert.strictEqual(format(2 ** 53, "USD"), undefined)
    assert.strictEqual(format(12_345, "HUF"), undefined)
    // Currencies PayPal does not take.
    assert.strictEqual(format(100, "KWD"), undefined)
    assert.strictEqual(format(100, "XTS"), undefined)
  })

  it("reads PayPal's decimal strings as minor units, exactly", () => {
    assert.strictEqual(parse("19.99", "USD"), 1999)
    assert.strictEqual(parse("0.05", "USD"), 5)
    assert.strictEqual(parse("19.9", "USD"), 1990)
    assert.strictEqual(parse("19", "USD"), 1900)
    assert.strictEqual(parse("19.990", "USD"), 1999)
    assert.strictEqual(parse("1000", "JPY"), 1000)
    assert.strictEqual(parse("1000.00", "JPY"), 1000)
    assert.strictEqual(parse("123", "HUF"), 12_300)
    assert.strictEqual(parse("1.234", "KWD"), 1234)
    assert.strictEqual(parse("90071992547409.91", "USD"), Number.MAX_SAFE_INTEGER)
  })

  it("refuses what it cannot read exactly", () => {
    for (const value of ["19.999", "0.001", "-1.00", "1e3", "", ".5", "5.", " 1.00", "1,00", "0x10", "Infinity"]) {
      assert.strictEqual(parse(value, "USD"), undefined, value)
    }
    assert.strictEqual(parse("10.5", "JPY"), undefined)
    assert.strictEqual(parse("90071992547409.92", "USD"), undefined)
  })

  it("goes there and back for every amount in a range and for large ones", () => {
    for (const currency of ["USD", "JPY", "EUR"]) {
      for (let amount = 0; amount <= 20_000; amount += 7) {
        const value = format(amount, currency)
        assert.strictEqual(value === undefined ? undefined : parse(value, currency), amount)
      }
      for (const amount of [123_456_789_012, 9_007_199_254_740_991]) {
        assert.strictEqual(parse(format(amount, currency) ?? "", currency), amount)
      }
    }
  })

  it.effect("toPaypalAmount refuses nothing-amounts and unknown currencies with a typed error", () =>
    Effect.gen(function* () {
      const usd = Currency.make("USD")
      assert.deepStrictEqual(yield* PaypalMoney.toPaypalAmount({ amount: 1999, currency: usd }), {
        currency_code: "USD",
        value: "19.99"
      })
      const zero = yield* Effect.flip(PaypalMoney.toPaypalAmount({ amount: 0, currency: usd }))
      assert.strictEqual(zero._tag, "InvalidPaymentAmount")
      assert.strictEqual(zero.message, "A payment amount must be more than zero")
      const unknown = yield* Effect.flip(PaypalMoney.toPaypalAmount({ amount: 100, currency: Currency.make("XTS") }))
      assert.strictEqual(unknown.message, "PayPal does not take XTS")
      const fraction = yield* Effect.flip(PaypalMoney.toPaypalAmount({ amount: 19.99, currency: usd }))
      assert.strictEqual(fraction.message, "19.99 minor units of USD cannot be sent to PayPal exactly")
      assert.deepStrictEqual(
        PaypalMoney.fromPaypalAmount({ currency_code: "JPY", value: "1000" }),
        Option.some({ amount: 1000, currency: Currency.make("JPY") })
      )
      assert.isTrue(Option.isNone(PaypalMoney.fromPaypalAmount({ currency_code: "usd", value: "1.00" })))
    })
  )
})
