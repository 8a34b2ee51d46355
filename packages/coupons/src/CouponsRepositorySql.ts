import { Effect, Layer, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { CouponType, type CouponDefinition } from "@shop/domain/Coupons"
import { Currency } from "@shop/domain/Money"
import { chunk, maxSqlParameters } from "@shop/domain/SqlBatch"
import { Attempts, CouponAttempts, CouponDefinitions, CouponRedemptions, Redemption } from "./CouponsRepository.ts"

const Row = Schema.Struct({
  code: Schema.String,
  type: CouponType,
  value: Schema.Int,
  minCartAmount: Schema.NullOr(Schema.Int),
  minCartCurrency: Schema.NullOr(Currency),
  expiresAt: Schema.NullOr(Schema.String),
  usageLimit: Schema.NullOr(Schema.Int),
  perCustomerLimit: Schema.NullOr(Schema.Int),
  createdAt: Schema.String
})
const decodeRows = Schema.decodeUnknownEffect(Schema.Array(Row))

const toDefinition = (row: typeof Row.Type): CouponDefinition => ({
  code: row.code,
  type: row.type,
  value: row.value,
  ...(row.minCartAmount !== null && row.minCartCurrency !== null
    ? { minCart: { amount: row.minCartAmount, currency: row.minCartCurrency } }
    : {}),
  ...(row.expiresAt !== null ? { expiresAt: row.expiresAt } : {}),
  ...(row.usageLimit !== null ? { usageLimit: row.usageLimit } : {}),
  ...(row.perCustomerLimit !== null ? { perCustomerLimit: row.perCustomerLimit } : {}),
  createdAt: row.createdAt
})

export const layerDefinitions = Layer.effect(
  CouponDefinitions,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.literal(
      "code, type, value, min_cart_amount AS minCartAmount, min_cart_currency AS minCartCurrency, " +
        "expires_at AS expiresAt, usage_limit AS usageLimit, per_customer_limit AS perCustomerLimit, " +
        "created_at AS createdAt"
    )
    const rows = <E>(effect: Effect.Effect<ReadonlyArray<unknown>, E>) =>
      effect.pipe(
        Effect.flatMap(decodeRows),
        Effect.map((found) => found.map(toDefinition)),
        Effect.orDie
      )

    return CouponDefinitions.of({
      // One statement: an existing code is left as it is and returns no row.
      insert: (c) =>
        sql`
          INSERT INTO coupons (code, type, value, min_cart_amount, min_cart_currency, expires_at, usage_limit,
            per_customer_limit, created_at)
          VALUES (${c.code}, ${c.type}, ${c.value}, ${c.minCart?.amount ?? null}, ${c.minCart?.currency ?? null},
            ${c.expiresAt ?? null}, ${c.usageLimit ?? null}, ${c.perCustomerLimit ?? null}, ${c.createdAt})
          ON CONFLICT (code) DO NOTHING
          RETURNING code
        `.pipe(
          Effect.map((inserted) => inserted.length > 0),
          Effect.orDie
        ),
      find: (code) =>
        rows(sql`SELECT ${columns} FROM coupons WHERE code = ${code}`).pipe(
          Effect.map((found) => Option.fromNullishOr(found[0]))
        ),
      list: () => rows(sql`SELECT ${columns} FROM coupons ORDER BY code`),
      remove: (code) =>
        sql`DELETE FROM coupons WHERE code = ${code} RETURNING code`.pipe(
          Effect.map((deleted) => deleted.length > 0),
          Effect.orDie
        )
    })
  })
)

const CountRow = Schema.Struct({ code: Schema.String, used: Schema.Int })
const decodeCounts = Schema.decodeUnknownEffect(Schema.Array(CountRow))

const decodeRedemptions = Schema.decodeUnknownEffect(Schema.Array(Redemption))
const Usage = Schema.Struct({ total: Schema.Int, byUser: Schema.Int })
const decodeUsage = Schema.decodeUnknownEffect(Schema.Array(Usage))

export const layerRedemptions = Layer.effect(
  CouponRedemptions,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.literal("redemption_id AS redemptionId, code, user_id AS userId, redeemed_at AS redeemedAt")
    return CouponRedemptions.of({
      // Split to stay under D1's 100 bound parameters.
      counts: (codes) =>
        Effect.forEach(
          chunk(codes, maxSqlParameters),
          (part) =>
            sql`SELECT code, COUNT(*) AS used FROM redemptions WHERE ${sql.in("code", part)} GROUP BY code`.pipe(
              Effect.flatMap(decodeCounts)
            ),
          { concurrency: 1 }
        ).pipe(
          Effect.map((parts) => new Map(parts.flat().map((row) => [row.code, row.used] as const))),
          Effect.orDie
        ),
      forget: (code) => sql`DELETE FROM redemptions WHERE code = ${code}`.pipe(Effect.asVoid, Effect.orDie),
      // One statement, so the counts it checks are the counts it writes
      // against, without a transaction (D1 has none): SQLite starts a writing
      // statement by taking the database's write lock, and runs it to the end
      // before any other statement on that database, so two checkouts racing
      // for the last use are serialized here and the second one's SELECT sees
      // the first one's row. A count read by one statement and an INSERT sent
      // by the next would let both through (the contract test shows it). The
      // WHERE also keeps SQLite from reading ON CONFLICT as a join's ON.
      record: (r, limits) =>
        sql`
          INSERT INTO redemptions (redemption_id, code, user_id, redeemed_at)
          SELECT ${r.redemptionId}, ${r.code}, ${r.userId}, ${r.redeemedAt}
          WHERE (${limits.usageLimit ?? null} IS NULL
              OR (SELECT COUNT(*) FROM redemptions WHERE code = ${r.code}) < ${limits.usageLimit ?? null})
            AND (${limits.perCustomerLimit ?? null} IS NULL
              OR (SELECT COUNT(*) FROM redemptions WHERE code = ${r.code} AND user_id = ${r.userId})
                < ${limits.perCustomerLimit ?? null})
          ON CONFLICT (redemption_id) DO NOTHING
          RETURNING redemption_id
        `.pipe(
          Effect.map((inserted) => inserted.length > 0),
          Effect.orDie
        ),
      find: (redemptionId) =>
        sql`SELECT ${columns} FROM redemptions WHERE redemption_id = ${redemptionId}`.pipe(
          Effect.flatMap(decodeRedemptions),
          Effect.map((found) => Option.fromNullishOr(found[0])),
          Effect.orDie
        ),
      usage: (code, userId) =>
        sql`
          SELECT COUNT(*) AS total, COALESCE(SUM(user_id = ${userId}), 0) AS byUser
          FROM redemptions WHERE code = ${code}
        `.pipe(
          Effect.flatMap(decodeUsage),
          Effect.map((rows) => rows[0] ?? { total: 0, byUser: 0 }),
          Effect.orDie
        ),
      release: (redemptionId) =>
        sql`DELETE FROM redemptions WHERE redemption_id = ${redemptionId} RETURNING redemption_id`.pipe(
          Effect.map((deleted) => deleted.length > 0),
          Effect.orDie
        )
    })
  })
)

const KeyedAttempts = Schema.Struct({ key: Schema.String, ...Attempts.fields })
const decodeKeyedAttempts = Schema.decodeUnknownEffect(Schema.Array(KeyedAttempts))
const decodeAttempts = Schema.decodeUnknownEffect(Schema.Array(Attempts))

// Bad codes per throttle key, in every runtime's SQL store (D1 on Cloudflare):
// each method is a single statement, so it is atomic without a transaction.
export const layerAttempts = Layer.effect(
  CouponAttempts,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return CouponAttempts.of({
      current: (keys, since) =>
        Effect.forEach(
          chunk(keys, maxSqlParameters - 1),
          (part) =>
            sql`
              SELECT key, count, window_start AS windowStart FROM coupon_attempts
              WHERE ${sql.in("key", part)} AND window_start > ${since}
            `.pipe(Effect.flatMap(decodeKeyedAttempts)),
          { concurrency: 1 }
        ).pipe(
          Effect.map(
            (parts) =>
              new Map(parts.flat().map((row) => [row.key, { count: row.count, windowStart: row.windowStart }] as const))
          ),
          Effect.orDie
        ),
      // One conditional upsert, as auth counts login attempts: SQLite evaluates
      // every SET expression on the old row, so both CASEs agree.
      record: (key, now, windowMs) =>
        sql`
          INSERT INTO coupon_attempts (key, count, window_start) VALUES (${key}, 1, ${now})
          ON CONFLICT (key) DO UPDATE SET
            count = CASE
              WHEN coupon_attempts.window_start <= ${now - windowMs} OR coupon_attempts.count <= 0 THEN 1
              ELSE coupon_attempts.count + 1 END,
            window_start = CASE
              WHEN coupon_attempts.window_start <= ${now - windowMs} OR coupon_attempts.count <= 0 THEN ${now}
              ELSE coupon_attempts.window_start END
          RETURNING count, window_start AS windowStart
        `.pipe(
          Effect.flatMap(decodeAttempts),
          Effect.map((rows) => rows[0] ?? { count: 1, windowStart: now }),
          Effect.orDie
        ),
      release: (key, windowStart) =>
        sql`
          UPDATE coupon_attempts SET count = count - 1
          WHERE key = ${key} AND window_start = ${windowStart} AND count > 0
        `.pipe(Effect.asVoid, Effect.orDie),
      prune: (before) =>
        sql`DELETE FROM coupon_attempts WHERE window_start <= ${before}`.pipe(Effect.asVoid, Effect.orDie)
    })
  })
)

/** Definitions, redemptions and bad-code attempts in the service's one SQL database (memory and node runtimes). */
export const layer = Layer.mergeAll(layerDefinitions, layerRedemptions, layerAttempts)
