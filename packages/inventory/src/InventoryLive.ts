import { Clock, Effect, Layer, Option } from "effect"
import { StockBelowReserved, ValidationError, VariantNotFound } from "@shop/domain/Errors"
import type { VariantId } from "@shop/domain/Ids"
import { maxStock, type StockLevel } from "@shop/domain/Inventory"
import { Inventory } from "./Inventory.ts"
import { InventoryRepository, type LevelRow } from "./InventoryRepository.ts"
import * as InventoryRepositoryMemory from "./InventoryRepositoryMemory.ts"

const toLevel = (row: LevelRow): StockLevel => ({ ...row, available: row.stock - row.reserved })

export const layer = Layer.effect(
  Inventory,
  Effect.gen(function* () {
    const repo = yield* InventoryRepository

    const get = Effect.fn("Inventory.get")(function* (input: { variantId: VariantId }) {
      const row = yield* repo.find(input.variantId)
      if (Option.isNone(row)) return yield* new VariantNotFound({})
      return toLevel(row.value)
    })

    // The write is conditional; when it does not apply, a read says why.
    const explainRefusal = Effect.fn("Inventory.explainRefusal")(function* (variantId: VariantId, requested: number) {
      const row = yield* repo.find(variantId)
      if (Option.isNone(row)) return yield* new VariantNotFound({})
      if (requested > maxStock) {
        return yield* new ValidationError({
          message: `Stock cannot exceed ${maxStock}`,
          details: { stock: row.value.stock, requested, max: maxStock }
        })
      }
      return yield* new StockBelowReserved({
        details: { stock: row.value.stock, reserved: row.value.reserved, requested }
      })
    })

    const set = Effect.fn("Inventory.set")(function* (input: { variantId: VariantId; stock: number }) {
      const row = yield* repo.setStock(input.variantId, input.stock, yield* Clock.currentTimeMillis)
      if (Option.isNone(row)) return yield* explainRefusal(input.variantId, input.stock)
      return toLevel(row.value)
    })

    const adjust = Effect.fn("Inventory.adjust")(function* (input: { variantId: VariantId; delta: number }) {
      const row = yield* repo.adjustStock(input.variantId, input.delta, yield* Clock.currentTimeMillis)
      if (Option.isNone(row)) {
        const current = yield* repo.find(input.variantId)
        return yield* explainRefusal(
          input.variantId,
          Option.match(current, {
            onNone: () => input.delta,
            onSome: (r) => r.stock + input.delta
          })
        )
      }
      return toLevel(row.value)
    })

    const availability = Effect.fn("Inventory.availability")(function* (input: {
      variantIds: ReadonlyArray<VariantId>
    }) {
      const unique = Array.from(new Set(input.variantIds))
      const rows = yield* repo.findMany(unique)
      const byId = new Map(rows.map((row) => [row.variantId, row.stock - row.reserved]))
      return unique.map((variantId) => ({ variantId, available: byId.get(variantId) ?? 0 }))
    })

    const initialize = Effect.fn("Inventory.initialize")(function* (input: {
      levels: ReadonlyArray<{ variantId: VariantId; stock: number }>
    }) {
      if (input.levels.length === 0) return
      yield* repo.insertMany(input.levels, yield* Clock.currentTimeMillis)
    })

    const remove = Effect.fn("Inventory.remove")(function* (input: { variantIds: ReadonlyArray<VariantId> }) {
      if (input.variantIds.length === 0) return
      yield* repo.deleteMany(input.variantIds)
    })

    return Inventory.of({ get, set, adjust, availability, initialize, remove })
  })
)

/** Inventory on its in-memory store (one per layer build); needs nothing. */
export const layerMemory = layer.pipe(Layer.provide(InventoryRepositoryMemory.layer))
