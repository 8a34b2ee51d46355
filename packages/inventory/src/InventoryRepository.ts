import { Context, type Effect, type Option, Schema } from "effect"
import { VariantId } from "@shop/domain/Ids"
import { HoldId, HoldStatus } from "@shop/domain/Inventory"

export const LevelRow = Schema.Struct({ variantId: VariantId, stock: Schema.Int, reserved: Schema.Int })
export type LevelRow = typeof LevelRow.Type

export const HoldLineRow = Schema.Struct({ variantId: VariantId, quantity: Schema.Int })
export type HoldLineRow = typeof HoldLineRow.Type

// Times in epoch milliseconds.
export const HoldRow = Schema.Struct({
  holdId: HoldId,
  status: HoldStatus,
  lines: Schema.Array(HoldLineRow),
  createdAt: Schema.Int,
  expiresAt: Schema.Int,
  settledAt: Schema.NullOr(Schema.Int)
})
export type HoldRow = typeof HoldRow.Type

// The ways out of `active`. `committed` and `released` apply only before the
// expiry; `expired` only from it on.
export type Settlement = "committed" | "released" | "expired"

// What a settle or restock did, and the hold as it stands after it.
export interface Settled {
  readonly won: boolean
  readonly hold: Option.Option<HoldRow>
}

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
    // Up to `limit` rows in variant id order, after `after` when given, with
    // the time each was last written (inserted, stock changed, hold moved).
    readonly scan: (
      after: VariantId | undefined,
      limit: number
    ) => Effect.Effect<ReadonlyArray<{ readonly variantId: VariantId; readonly updatedAt: number }>>

    // Places an active hold and adds its lines to `reserved`, all of it or
    // nothing. False when nothing was written: the hold id is taken, a variant
    // has no stock row or too little available, or the store failed (D1
    // reports every failure alike, so the caller reads to learn which).
    // The lines name distinct variants.
    readonly reserve: (hold: {
      readonly holdId: HoldId
      readonly lines: ReadonlyArray<HoldLineRow>
      readonly createdAt: number
      readonly expiresAt: number
    }) => Effect.Effect<boolean>
    readonly findHold: (holdId: HoldId) => Effect.Effect<Option.Option<HoldRow>>
    // Moves one active hold to `to` and its stock with it (committed: out of
    // stock and reserved; released, expired: out of reserved), atomically.
    // Of racing settlements of one hold exactly one applies; `won` when it
    // was this one. `hold` is the hold as it then stands (as this call left
    // it, or as the one that won did), none when there is no such hold, so
    // the caller needs no read of its own.
    readonly settle: (holdId: HoldId, to: Settlement, now: number) => Effect.Effect<Settled>
    // Expires up to `limit` active holds whose expiry is at or before `now`,
    // oldest first, returning their stock; how many it expired.
    readonly expireDue: (now: number, limit: number) => Effect.Effect<number>
    // Puts a committed hold's lines back into stock and marks it `restocked`,
    // atomically (a variant removed meanwhile has no row to put them in).
    // Only from `committed`, so of racing restocks of one hold exactly one
    // applies; `won` when it was this one, and `hold` as `settle` answers it.
    // `settledAt` stays when the hold left `active`.
    readonly restock: (holdId: HoldId, now: number) => Effect.Effect<Settled>
  }
>()("@shop/inventory/InventoryRepository") {}
