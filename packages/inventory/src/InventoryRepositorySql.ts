import { Array as Arr, Context, Effect, Exit, Layer, Option, Request, RequestResolver, Schema } from "effect"
import { SecureRandom } from "effect/crypto"
import { SqlClient } from "effect/sql"
import { VariantId } from "@shop/domain/Ids"
import type { HoldId } from "@shop/domain/Inventory"
import { maxStock } from "@shop/domain/Inventory"
import { chunk, maxSqlParameters, SqlBatch } from "@shop/domain/SqlBatch"
import { HoldLineRow, HoldRow, InventoryRepository, LevelRow, type Settlement } from "./InventoryRepository.ts"

const decodeRows = Schema.decodeUnknownEffect(Schema.Array(LevelRow))

/**
 * Whether reads of stock levels made at the same moment by different callers
 * may share one SELECT (a cart re-pricing each of its lines through the
 * catalog, one product at a time, then costs one statement, not one per
 * line). Only where every caller runs in one process and one Effect runtime
 * over a database it owns: the node runtime sets it (runtimes/node
 * Databases.ts). Not under Workers, where each call is a request of its own
 * and one request must not complete another's.
 */
export const SharedReads = Context.Reference<boolean>("@shop/inventory/InventoryRepositorySql/SharedReads", {
  defaultValue: () => false
})

// One caller's read of stock levels: the rows of these variants.
interface LevelsRead extends Request.Request<ReadonlyArray<LevelRow>> {
  readonly variantIds: ReadonlyArray<VariantId>
}
const LevelsRead = Request.of<LevelsRead>()
const decodeHold = Schema.decodeUnknownEffect(HoldRow)

// A hold read with its lines in one statement: the lines come as a JSON
// array with their positions (json_group_array's own ORDER BY needs SQLite
// 3.44), put in order here.
const JoinedHoldRow = Schema.Struct({
  lines: Schema.fromJsonString(
    Schema.Array(Schema.Struct({ variantId: HoldLineRow.fields.variantId, quantity: Schema.Int, position: Schema.Int }))
  )
})
const decodeJoined = Schema.decodeUnknownEffect(Schema.Array(JoinedHoldRow))
// The hold of the first of `rows` (read with `holdColumns`), none without one.
const holdOfRows = (rows: ReadonlyArray<unknown>) =>
  Effect.gen(function* () {
    const [joined] = yield* decodeJoined(rows.slice(0, 1))
    if (joined === undefined) return Option.none<HoldRow>()
    const lines = [...joined.lines]
      .sort((x, y) => x.position - y.position)
      .map(({ variantId, quantity }) => ({ variantId, quantity }))
    return Option.some(yield* decodeHold({ ...(rows[0] as object), lines }))
  })
// Four bound parameters per line, within D1's 100 per statement.
const linesPerInsert = Math.floor(maxSqlParameters / 4)

const decodeScan = Schema.decodeUnknownEffect(
  Schema.Array(Schema.Struct({ variantId: VariantId, updatedAt: Schema.Int }))
)

const decodeCount = Schema.decodeUnknownEffect(Schema.Array(Schema.Struct({ count: Schema.Int })))

// Holds and the stock they set aside (migrations/inventory/0003_holds.sql,
// 0004_restocked_holds.sql).
//
// Every write that touches both a hold and stock_levels is ONE group through
// SqlBatch (a transaction on SQLite, one batch on D1, which has neither
// interactive transactions nor row counts for a batch), made of single
// statements that need no earlier read:
//
// - reserve: insert the hold, insert each line with its variant taken from
//   stock_levels (an unknown variant inserts NULL into a NOT NULL column), add
//   the lines to `reserved`. CHECK (stock >= reserved) refuses a line short of
//   stock, and any refusal undoes the whole group, so concurrent reserves can
//   never hold more than the stock between them.
// - settle and expire: first the conditional change of status (only from
//   `active`, and on the right side of the expiry), which stamps the rows it
//   changes with a token fresh for this group; then the stock moves for the
//   holds carrying that token, that is, only for the changes this group won.
//   A racing commit, release or expiry of the same hold finds it no longer
//   active, stamps nothing and moves nothing. This needs the group's
//   atomicity only, not isolation from other groups. The change of status
//   returns the hold (its lines included) when it applied, so the winner
//   learns that it won and where the hold stands from the group itself; a
//   loser reads the hold afterwards.
// - restock: the same two steps from `committed` to `restocked` (stock goes
//   back up), so a racing restock finds the hold no longer committed.
export const layerBatched = Layer.effect(
  InventoryRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const batch = yield* SqlBatch
    // Tokens only tell racing groups apart (Workers isolates included), so
    // any good randomness will do; the store keeps its own source rather than
    // adding a dependency to every runtime's wiring.
    const random = yield* Effect.provide(Effect.service(SecureRandom.SecureRandom), SecureRandom.layerWebCrypto)
    const token = random.uuidV4()
    const columns = sql.literal("variant_id AS variantId, stock, reserved")
    const one = <E>(effect: Effect.Effect<ReadonlyArray<unknown>, E>) =>
      effect.pipe(
        Effect.flatMap(decodeRows),
        Effect.map((rows) => Option.fromNullishOr(rows[0])),
        Effect.orDie
      )

    // What the holds stamped with `token` set aside of each variant.
    const held = (token: string) => sql`(
      SELECT SUM(l.quantity) FROM hold_lines l JOIN holds h ON h.hold_id = l.hold_id
      WHERE h.settle_token = ${token} AND l.variant_id = stock_levels.variant_id
    )`
    const moveStock = (to: Settlement | "restocked", token: string, now: number) => {
      const quantity = held(token)
      const change =
        to === "committed"
          ? sql`stock = stock - ${quantity}, reserved = reserved - ${quantity}`
          : to === "restocked"
            ? sql`stock = stock + ${quantity}`
            : sql`reserved = reserved - ${quantity}`
      return sql`
        UPDATE stock_levels SET ${change}, updated_at = ${now}
        WHERE variant_id IN (
          SELECT l.variant_id FROM hold_lines l JOIN holds h ON h.hold_id = l.hold_id WHERE h.settle_token = ${token}
        )
      `
    }
    // A hold and its lines, as one statement's columns: a SELECT's, or the
    // RETURNING of the conditional UPDATE that settles it.
    const holdColumns = sql.literal(`
      hold_id AS holdId, status, created_at AS createdAt, expires_at AS expiresAt, settled_at AS settledAt, (
        SELECT json_group_array(json_object('variantId', variant_id, 'quantity', quantity, 'position', position))
        FROM hold_lines WHERE hold_lines.hold_id = holds.hold_id
      ) AS lines
    `)
    const findHold = (holdId: HoldId) =>
      sql`SELECT ${holdColumns} FROM holds WHERE hold_id = ${holdId}`.pipe(Effect.flatMap(holdOfRows))
    // The group's first statement is the conditional change of the hold,
    // which returns the hold only when it applied, that is, when this group
    // won; a group that lost reads the hold as the winner left it.
    const settledBy = (holdId: HoldId, results: ReadonlyArray<ReadonlyArray<unknown>>) =>
      Effect.gen(function* () {
        const changed = yield* holdOfRows(results[0] ?? [])
        if (Option.isSome(changed)) return { won: true, hold: changed }
        return { won: false, hold: yield* findHold(holdId) }
      })
    const stamped = (token: string) =>
      sql`SELECT COUNT(*) AS count FROM holds WHERE settle_token = ${token}`.pipe(
        Effect.flatMap(decodeCount),
        Effect.map((rows) => rows[0]?.count ?? 0)
      )
    // `status = 'active'` is written out, not bound: SQLite uses the partial
    // index holds_active_expiry only for a literal that matches its WHERE.
    const due = (now: number) => sql`status = 'active' AND expires_at <= ${now}`

    const readLevels = (variantIds: ReadonlyArray<VariantId>) =>
      Effect.forEach(
        chunk(variantIds, maxSqlParameters),
        (ids) =>
          sql`SELECT ${columns} FROM stock_levels WHERE ${sql.in("variant_id", ids)}`.pipe(Effect.flatMap(decodeRows)),
        { concurrency: 1 }
      ).pipe(
        Effect.map((parts) => parts.flat()),
        Effect.orDie
      )
    const shareReads = yield* SharedReads
    // The reads made together are one SELECT of all their variants; each
    // caller gets the rows of its own, as of that one read.
    const levelsReads = RequestResolver.make<LevelsRead>(
      Effect.fnUntraced(function* (entries) {
        const rows = yield* readLevels(Array.from(new Set(entries.flatMap((entry) => entry.request.variantIds))))
        const byId = new Map(rows.map((row) => [row.variantId, row]))
        for (const entry of entries) {
          const own: Array<LevelRow> = []
          for (const variantId of new Set(entry.request.variantIds)) {
            const row = byId.get(variantId)
            if (row !== undefined) own.push(row)
          }
          entry.completeUnsafe(Exit.succeed(own))
        }
      })
    )

    return InventoryRepository.of({
      find: (variantId) => one(sql`SELECT ${columns} FROM stock_levels WHERE variant_id = ${variantId}`),
      findMany: (variantIds) =>
        variantIds.length === 0
          ? Effect.succeed([])
          : shareReads
            ? Effect.request(LevelsRead({ variantIds }), levelsReads)
            : readLevels(variantIds),
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
        ).pipe(Effect.orDie),
      scan: (after, limit) =>
        sql<{ variantId: VariantId; updatedAt: number }>`
          SELECT variant_id AS variantId, updated_at AS updatedAt FROM stock_levels
          WHERE ${after === undefined ? sql.literal("1 = 1") : sql`variant_id > ${after}`}
          ORDER BY variant_id LIMIT ${limit}
        `.pipe(Effect.flatMap(decodeScan), Effect.orDie),
      reserve: (hold) =>
        batch
          .run([
            sql`
              INSERT INTO holds (hold_id, status, created_at, expires_at)
              VALUES (${hold.holdId}, 'active', ${hold.createdAt}, ${hold.expiresAt})
            `,
            // Few statements, not one per line: D1 counts each statement of
            // a batch against a Worker invocation's query limit.
            ...chunk(
              hold.lines.map((line, position) => ({ ...line, position })),
              linesPerInsert
            ).map(
              (rows) => sql`
                INSERT INTO hold_lines (hold_id, variant_id, quantity, position) VALUES ${sql.csv(
                  rows.map(
                    (line) => sql`(
                      ${hold.holdId},
                      (SELECT variant_id FROM stock_levels WHERE variant_id = ${line.variantId}),
                      ${line.quantity},
                      ${line.position}
                    )`
                  )
                )}
              `
            ),
            sql`
              UPDATE stock_levels
              SET reserved = reserved + (
                SELECT l.quantity FROM hold_lines l
                WHERE l.hold_id = ${hold.holdId} AND l.variant_id = stock_levels.variant_id
              ), updated_at = ${hold.createdAt}
              WHERE variant_id IN (SELECT variant_id FROM hold_lines WHERE hold_id = ${hold.holdId})
            `
          ])
          .pipe(
            Effect.as(true),
            // The expected refusals (a taken id, a short or unknown line) and
            // a failing store look the same on D1; the caller reads to tell.
            Effect.catch((error) =>
              Effect.as(Effect.logDebug("A reserve group was refused").pipe(Effect.annotateLogs({ error })), false)
            )
          ),
      findHold: (holdId) => Effect.orDie(findHold(holdId)),
      settle: (holdId: HoldId, to: Settlement, now: number) =>
        Effect.gen(function* () {
          const stamp = yield* token
          const window = to === "expired" ? sql`expires_at <= ${now}` : sql`expires_at > ${now}`
          const results = yield* batch.run([
            sql`
              UPDATE holds SET status = ${to}, settled_at = ${now}, settle_token = ${stamp}
              WHERE hold_id = ${holdId} AND status = 'active' AND ${window}
              RETURNING ${holdColumns}
            `,
            moveStock(to, stamp, now)
          ])
          return yield* settledBy(holdId, results)
        }).pipe(Effect.orDie),
      expireDue: (now, limit) =>
        Effect.gen(function* () {
          const stamp = yield* token
          yield* batch.run([
            sql`
              UPDATE holds SET status = 'expired', settled_at = ${now}, settle_token = ${stamp}
              WHERE hold_id IN (
                SELECT hold_id FROM holds WHERE ${due(now)} ORDER BY expires_at, hold_id LIMIT ${limit}
              )
            `,
            moveStock("expired", stamp, now)
          ])
          return yield* stamped(stamp)
        }).pipe(Effect.orDie),
      // The same two steps as a settlement: only a committed hold changes,
      // stamped with a fresh token (replacing its settlement's), and only the
      // hold carrying that token puts its lines back, so of racing restocks
      // one moves the stock. settled_at keeps when the hold left `active`.
      restock: (holdId: HoldId, now: number) =>
        Effect.gen(function* () {
          const stamp = yield* token
          const results = yield* batch.run([
            sql`
              UPDATE holds SET status = 'restocked', settle_token = ${stamp}
              WHERE hold_id = ${holdId} AND status = 'committed'
              RETURNING ${holdColumns}
            `,
            moveStock("restocked", stamp, now)
          ])
          return yield* settledBy(holdId, results)
        }).pipe(Effect.orDie)
    })
  })
)

/**
 * For SQLite (node, tests): the groups run as transactions on the store's own
 * connection. D1 has no transactions: a Worker uses `layerBatched` with
 * `D1SqlBatch.layer`.
 *
 * `Layer.fresh`: layers are memoized by identity across one build, so the one
 * `SqlBatch.layerTransaction` object shared with another service (the node
 * runtime gives it to the catalog) would hand both the transactions of
 * whichever database built it first, and this store's groups would not be
 * atomic.
 */
export const layer = layerBatched.pipe(Layer.provide(Layer.fresh(SqlBatch.layerTransaction)))
