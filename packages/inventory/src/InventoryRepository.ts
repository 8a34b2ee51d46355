import { Context, type Effect, type Option, Schema } from "effect"
import { VariantId } from "@shop/domain/Ids"

export const LevelRow = Schema.Struct({ variantId: VariantId, stock: Schema.Int, reserved: Schema.Int })
export type LevelRow = typeof LevelRow.Type

// Each method is one atomic step. Changes of stock are conditional updates
// (`stock >= reserved` checked and written together), never read-then-write.
export class InventoryRepository extends Context.Service<
  InventoryRepository,
  {
    readonly find: (variantId: VariantId) => Effect.Effect<Option.Option<LevelRow>>
    readonly findMany: (variantIds: ReadonlyArray<VariantId>) => Effect.Effect<ReadonlyArray<LevelRow>>
    // None when the row is missing or the new stock would be below `reserved`.
    readonly setStock: (variantId: VariantId, stock: number, now: number) => Effect.Effect<Option.Option<LevelRow>>
    readonly adjustStock: (variantId: VariantId, delta: number, now: number) => Effect.Effect<Option.Option<LevelRow>>
    readonly insertMany: (
      levels: ReadonlyArray<{ readonly variantId: VariantId; readonly stock: number }>,
      now: number
    ) => Effect.Effect<void>
    readonly deleteMany: (variantIds: ReadonlyArray<VariantId>) => Effect.Effect<void>
  }
>()("@shop/inventory/InventoryRepository") {}
