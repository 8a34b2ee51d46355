import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { CreateProductInput } from "@shop/domain/Catalog"
import { products } from "../src/DemoCatalog.ts"

// The runtimes seed this data at start-up and stop if a product does not fit:
// check it here, where a mistake is cheap.
describe("demo catalog", () => {
  it("is made of valid create-product requests", () => {
    for (const product of products) {
      const exit = Schema.decodeUnknownExit(CreateProductInput)(product, { onExcessProperty: "error" })
      assert.strictEqual(exit._tag, "Success", product.sku)
    }
  })

  it("uses every SKU once, products and variants together", () => {
    const skus = products.flatMap((p) => [p.sku, ...("variants" in p ? p.variants.map((v) => v.sku) : [])])
    assert.strictEqual(new Set(skus).size, skus.length)
    assert.isAtLeast(products.length, 20)
  })
})
