import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Schema } from "effect"
import {
  type CartRecord,
  CartRecord as CartRecordSchema,
  decodeRecord,
  encodeRecord,
  encodeRecordUnchecked
} from "../src/CartStore.ts"

const usd = { amount: 0, currency: "USD" }
const record = (lines: number): CartRecord =>
  Schema.decodeUnknownSync(CartRecordSchema)({
    cart: {
      cartId: `cart_${"a".repeat(24)}`,
      userId: null,
      items: Array.from({ length: lines }, (_, i) => ({
        productId: `prd_record${i}`,
        variantId: `var_record${i}`,
        title: `Product ${i} "quoted" \u00e9`,
        quantity: i + 1,
        unitPrice: { amount: 150, currency: "USD" },
        lineTotal: { amount: 150 * (i + 1), currency: "USD" }
      })),
      address: null,
      shippingMethod: null,
      coupon: { code: "SAVE", applicable: false, reason: "min_cart_not_met" },
      summary: { subtotal: usd, discount: usd, shipping: usd, tax: usd, total: usd },
      currency: "USD",
      expiresAt: "2026-12-02T10:00:00.000Z",
      checkout: null,
      removedItems: []
    },
    weights: Array.from({ length: lines }, () => 250),
    expiresAtMillis: Date.UTC(2026, 11, 2, 10)
  })

// The stores' text of a record: what Schema.fromJsonString made of it before
// (carts already stored must still read), without its second parse.
describe("the cart record as stored text", () => {
  const before = Schema.fromJsonString(CartRecordSchema)
  it("is the text Schema.fromJsonString writes and reads, for 1 line and for 100", () => {
    for (const lines of [0, 1, 100]) {
      const value = record(lines)
      const text = encodeRecord(value)
      assert.strictEqual(text, Schema.encodeSync(before)(value))
      assert.deepStrictEqual(decodeRecord(text), Schema.decodeSync(before)(text))
      assert.deepStrictEqual(decodeRecord(text), value)
    }
  })

  it("refuses text that is not JSON, or not a record, and a record that is not valid", () => {
    const text = encodeRecord(record(1))
    assert.throws(() => decodeRecord(text.slice(0, -1)))
    assert.throws(() => decodeRecord(text.replace('"quantity":1', '"quantity":"1"')))
    assert.throws(() => decodeRecord("null"))
    const value = record(1)
    assert.throws(() => encodeRecord({ ...value, weights: [1.5] }))
  })
})

// The stores of node and Cloudflare write `encodeRecordUnchecked`, the value
// as it is: right only while no field of the record transforms on encode.
describe("the cart record written unchecked", () => {
  it.effect("is the checked text's value, for generated records of every shape", () =>
    Effect.gen(function* () {
      const records = yield* Arbitrary.sampleEffect(Arbitrary.schema(CartRecordSchema), { count: 300, seed: 11 })
      let withPending = 0
      let withAddress = 0
      for (const value of [...records, record(0), record(1), record(100)]) {
        if (value.pending !== undefined) withPending++
        if (value.cart.address !== null) withAddress++
        const unchecked = encodeRecordUnchecked(value)
        assert.deepStrictEqual(JSON.parse(unchecked), JSON.parse(encodeRecord(value)))
        assert.deepStrictEqual(decodeRecord(unchecked), decodeRecord(encodeRecord(value)))
      }
      // The sample reached the optional and nullable parts, not only the bare record.
      assert.isAbove(withPending, 0)
      assert.isAbove(withAddress, 0)
    })
  )

  it("leaves the check to the read: an invalid record is written, and refused when read", () => {
    const value = { ...record(1), weights: [1.5] }
    assert.throws(() => encodeRecord(value))
    assert.throws(() => decodeRecord(encodeRecordUnchecked(value)))
  })
})
