import { Effect, Layer, Schema } from "effect"
import { Catalog } from "@shop/catalog/Catalog"
import { CreateProductInput } from "@shop/domain/Catalog"
import { type DemoProduct, products } from "@shop/demo/DemoCatalog"
import * as Traced from "@shop/domain/Traced"

const decodeProduct = Schema.decodeUnknownEffect(CreateProductInput)

/**
 * Creates the demo catalog when the catalog holds no product at all, through the
 * Catalog service so that inventory gets its stock rows like for any product.
 * Returns how many products it created (0 when the catalog was not empty).
 *
 * A shop whose owner deleted every product is seeded again on its next start;
 * that is the price of not keeping a "seeded" flag in another service's store.
 */
export const seedIfEmpty = Traced.fn("Seed.seedIfEmpty")(function* (demo: ReadonlyArray<DemoProduct> = products) {
  const catalog = yield* Catalog
  const page = yield* catalog.list({ limit: 1, offset: 0, sort: "newest" })
  if (page.total > 0) return 0
  // The data is checked against the public contract, like a request body would be;
  // a product that does not fit is a bug in packages/demo/src/DemoCatalog.ts.
  const inputs = yield* Effect.forEach(demo, (product) => decodeProduct(product)).pipe(Effect.orDie)
  // One at a time, oldest first, so that "newest" lists the end of the file first.
  yield* Effect.forEach(inputs, (input) => catalog.create(input).pipe(Effect.orDie), { discard: true })
  yield* Effect.logInfo("Seeded the demo catalog").pipe(Effect.annotateLogs({ products: inputs.length }))
  return inputs.length
})

/** Seeds the catalog while the app starts, before the server accepts requests. */
export const layer = Layer.effectDiscard(seedIfEmpty())
