import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { VariantId } from "@shop/domain/Ids"
import { Inventory } from "../src/Inventory.ts"
import * as InventoryLive from "../src/InventoryLive.ts"

const withInventory = Effect.provide(InventoryLive.layerMemory)
const a = VariantId.make("var_aaaaaaaaaaaa")
const b = VariantId.make("var_bbbbbbbbbbbb")

describe("Inventory", () => {
  it.effect("initialises stock once and reports levels", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* inventory.initialize({ levels: [{ variantId: a, stock: 5 }] })
      yield* inventory.initialize({ levels: [{ variantId: a, stock: 99 }] })
      assert.deepStrictEqual(yield* inventory.get({ variantId: a }), {
        variantId: a,
        stock: 5,
        reserved: 0,
        available: 5
      })
    }).pipe(withInventory)
  )

  it.effect("sets and adjusts; refuses below reserved and unknown variants", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* inventory.initialize({ levels: [{ variantId: a, stock: 5 }] })
      assert.strictEqual((yield* inventory.set({ variantId: a, stock: 9 })).stock, 9)
      assert.strictEqual((yield* inventory.adjust({ variantId: a, delta: -4 })).available, 5)
      const below = yield* Effect.flip(inventory.adjust({ variantId: a, delta: -6 }))
      assert.strictEqual(below._tag, "StockBelowReserved")
      if (below._tag === "StockBelowReserved")
        assert.deepStrictEqual(below.details, { stock: 5, reserved: 0, requested: -1 })
      const missing = yield* Effect.flip(inventory.set({ variantId: b, stock: 1 }))
      assert.strictEqual(missing._tag, "VariantNotFound")
      assert.strictEqual((yield* inventory.get({ variantId: a })).stock, 5)
    }).pipe(withInventory)
  )

  it.effect("availability answers many variants in one call, unknown ones as 0", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* inventory.initialize({ levels: [{ variantId: a, stock: 3 }] })
      const levels = yield* inventory.availability({ variantIds: [a, b, a] })
      assert.deepStrictEqual(levels, [
        { variantId: a, available: 3 },
        { variantId: b, available: 0 }
      ])
    }).pipe(withInventory)
  )

  it.effect("concurrent decrements never oversell", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* inventory.initialize({ levels: [{ variantId: a, stock: 10 }] })
      const results = yield* Effect.all(
        Array.from({ length: 25 }, () => Effect.result(inventory.adjust({ variantId: a, delta: -1 }))),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(results.filter((r) => r._tag === "Success").length, 10)
      assert.strictEqual((yield* inventory.get({ variantId: a })).stock, 0)
    }).pipe(withInventory)
  )

  it.effect("remove deletes the rows", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* inventory.initialize({
        levels: [
          { variantId: a, stock: 1 },
          { variantId: b, stock: 2 }
        ]
      })
      yield* inventory.remove({ variantIds: [a] })
      assert.strictEqual((yield* Effect.flip(inventory.get({ variantId: a })))._tag, "VariantNotFound")
      assert.strictEqual((yield* inventory.get({ variantId: b })).stock, 2)
    }).pipe(withInventory)
  )
})
