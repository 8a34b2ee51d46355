import { Array as Arr, Effect, Layer, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { maxStock } from "@shop/domain/Inventory"
import { chunk, maxSqlParameters } from "@shop/domain/SqlBatch"
import { InventoryRepository, LevelRow } from "./InventoryRepository.ts"

const decodeRows = Schema.decodeUnknownEffect(Schema.Array(LevelRow))

export const layer = Layer.effect(
  InventoryRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.literal("variant_id AS variantId, stock, reserved")
    const one = <E>(effect: Effect.Effect<ReadonlyArray<unknown>, E>) =>
      effect.pipe(
        Effect.flatMap(decodeRows),
        Effect.map((rows) => Option.fromNullishOr(rows[0])),
        Effect.orDie
      )

    return InventoryRepository.of({
      find: (variantId) => one(sql`SELECT ${columns} FROM stock_levels WHERE variant_id = ${variantId}`),
      findMany: (variantIds) =>
        variantIds.length === 0
          ? Effect.succeed([])
          : Effect.forEach(
              chunk(variantIds, maxSqlParameters),
              (ids) =>
                sql`SELECT ${columns} FROM stock_levels WHERE ${sql.in("variant_id", ids)}`.pipe(
                  Effect.flatMap(decodeRows)
                ),
              { concurrency: 1 }
            ).pipe(
              Effect.map((parts) => parts.flat()),
              Effect.orDie
            ),
      setStock: (variantId, stock, now) =>
        one(sql`
          UPDATE stock_levels SET stock = ${stock}, updated_at = ${now}
          WHERE variant_id = ${variantId} AND ${stock} >= reserved
          RETURNING ${columns}
        `),
      adjustStock: (variantId, delta, now) =>
        one(sql`
          UPDATE stock_levels SET stock = stock + ${delta}, updated_at = ${now}
          WHERE variant_id = ${variantId} AND stock + ${delta} >= reserved AND stock + ${delta} >= 0
            AND stock + ${delta} <= ${maxStock}
          RETURNING ${columns}
        `),
      insertMany: (levels, now) =>
        Effect.forEach(
          chunk(levels, Math.floor(maxSqlParameters / 4)),
          (rows) => {
            const values: Array<Record<string, unknown>> = rows.map((r) => ({
              variant_id: r.variantId,
              stock: r.stock,
              reserved: 0,
              updated_at: now
            }))
            return Arr.isReadonlyArrayNonEmpty(values)
              ? Effect.asVoid(sql`INSERT INTO stock_levels ${sql.insert(values)} ON CONFLICT (variant_id) DO NOTHING`)
              : Effect.void
          },
          { discard: true }
        ).pipe(Effect.orDie),
      deleteMany: (variantIds) =>
        Effect.forEach(
          chunk(variantIds, maxSqlParameters),
          (ids) => sql`DELETE FROM stock_levels WHERE ${sql.in("variant_id", ids)}`,
          { discard: true }
        ).pipe(Effect.orDie)
    })
  })
)
