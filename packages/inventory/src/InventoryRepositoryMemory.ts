import { Effect, Layer, Option } from "effect"
import type { VariantId } from "@shop/domain/Ids"
import { maxStock } from "@shop/domain/Inventory"
import { InventoryRepository, type LevelRow } from "./InventoryRepository.ts"

export const layer = Layer.sync(InventoryRepository, () => {
  const levels = new Map<VariantId, LevelRow>()
  const write = (variantId: VariantId, stock: number) => {
    const row = levels.get(variantId)
    if (!row || stock < row.reserved || stock < 0 || stock > maxStock) return Option.none<LevelRow>()
    const next = { ...row, stock }
    levels.set(variantId, next)
    return Option.some(next)
  }
  return InventoryRepository.of({
    find: (variantId) => Effect.sync(() => Option.fromNullishOr(levels.get(variantId))),
    findMany: (variantIds) =>
      Effect.sync(() =>
        variantIds.flatMap((id) => {
          const row = levels.get(id)
          return row ? [row] : []
        })
      ),
    setStock: (variantId, stock) => Effect.sync(() => write(variantId, stock)),
    adjustStock: (variantId, delta) =>
      Effect.sync(() => {
        const row = levels.get(variantId)
        return row ? write(variantId, row.stock + delta) : Option.none()
      }),
    insertMany: (rows) =>
      Effect.sync(() => {
        for (const { variantId, stock } of rows) {
          if (!levels.has(variantId)) levels.set(variantId, { variantId, stock, reserved: 0 })
        }
      }),
    deleteMany: (variantIds) =>
      Effect.sync(() => {
        for (const id of variantIds) levels.delete(id)
      })
  })
})
