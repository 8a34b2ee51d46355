import { Effect, Layer, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { Address } from "@shop/domain/Auth"
import { Attempts, AuthRepository, SessionRow, UserRow } from "./AuthRepository.ts"

// SQL has no "absent": optional address fields come back as NULL.
const withoutNulls = (row: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null))

const decodeAll = <S extends Schema.Top>(schema: S) => {
  const decode = Schema.decodeUnknownEffect(Schema.Array(schema))
  return (rows: ReadonlyArray<unknown>) => decode(rows.map((row) => withoutNulls(row as Record<string, unknown>)))
}

const first = <A>(rows: ReadonlyArray<A>) => Option.fromNullishOr(rows[0])

const addressColumns =
  "address_id AS addressId, name, line1, line2, city, region, postal_code AS postalCode, country, phone"

// Works on any effect/sql SQLite dialect (node:sqlite, D1): every method is a
// single statement, so it is atomic without a transaction.
export const layer = Layer.effect(
  AuthRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const users = decodeAll(UserRow)
    const addresses = decodeAll(Address)
    const attempts = decodeAll(Attempts)
    const userColumns = sql.literal(
      "user_id AS userId, email, name, role, password_hash AS passwordHash, created_at AS createdAt"
    )
    const addressCols = sql.literal(addressColumns)

    return AuthRepository.of({
      insertUser: (user) =>
        sql<{ userId: string }>`
          INSERT INTO users (user_id, email, name, role, password_hash, created_at)
          VALUES (${user.userId}, ${user.email}, ${user.name}, ${user.role}, ${user.passwordHash}, ${user.createdAt})
          ON CONFLICT (email) DO NOTHING
          RETURNING user_id AS userId
        `.pipe(
          Effect.map((rows) => rows.length === 1),
          Effect.orDie
        ),
      findUserByEmail: (email) =>
        sql`SELECT ${userColumns} FROM users WHERE email = ${email}`.pipe(
          Effect.flatMap(users),
          Effect.map(first),
          Effect.orDie
        ),
      findUserById: (userId) =>
        sql`SELECT ${userColumns} FROM users WHERE user_id = ${userId}`.pipe(
          Effect.flatMap(users),
          Effect.map(first),
          Effect.orDie
        ),
      promote: (userId) =>
        sql`UPDATE users SET role = 'admin' WHERE user_id = ${userId} AND role <> 'admin' RETURNING user_id`.pipe(
          Effect.map((rows) => rows.length === 1),
          Effect.orDie
        ),
      insertSession: (session) =>
        sql`
          INSERT INTO sessions (session_id, user_id, created_at, expires_at)
          VALUES (${session.sessionId}, ${session.userId}, ${session.createdAt}, ${session.expiresAt})
        `.pipe(Effect.asVoid, Effect.orDie),
      findSession: (sessionId) =>
        sql`
          SELECT s.session_id AS sessionId, s.user_id AS userId, u.email AS email, u.role AS role,
                 s.expires_at AS expiresAt, s.revoked_at AS revokedAt
          FROM sessions s JOIN users u ON u.user_id = s.user_id
          WHERE s.session_id = ${sessionId}
        `.pipe(
          // revokedAt is nullable in the schema, so keep NULLs for this row.
          Effect.flatMap((rows) => Schema.decodeUnknownEffect(Schema.Array(SessionRow))(rows)),
          Effect.map(first),
          Effect.orDie
        ),
      revokeSession: (sessionId, at) =>
        sql`UPDATE sessions SET revoked_at = ${at} WHERE session_id = ${sessionId} AND revoked_at IS NULL`.pipe(
          Effect.asVoid,
          Effect.orDie
        ),
      listAddresses: (userId) =>
        sql`SELECT ${addressCols} FROM addresses WHERE user_id = ${userId} ORDER BY created_at, address_id`.pipe(
          Effect.flatMap(addresses),
          Effect.orDie
        ),
      insertAddress: (userId, address, createdAt) =>
        sql`
          INSERT INTO addresses (address_id, user_id, name, line1, line2, city, region, postal_code, country, phone, created_at)
          VALUES (${address.addressId}, ${userId}, ${address.name ?? null}, ${address.line1}, ${address.line2 ?? null},
                  ${address.city}, ${address.region ?? null}, ${address.postalCode}, ${address.country},
                  ${address.phone ?? null}, ${createdAt})
        `.pipe(Effect.asVoid, Effect.orDie),
      updateAddress: (userId, addressId, patch) =>
        // COALESCE keeps the stored value for every field the patch leaves out.
        sql`
          UPDATE addresses SET
            name = COALESCE(${patch.name ?? null}, name),
            line1 = COALESCE(${patch.line1 ?? null}, line1),
            line2 = COALESCE(${patch.line2 ?? null}, line2),
            city = COALESCE(${patch.city ?? null}, city),
            region = COALESCE(${patch.region ?? null}, region),
            postal_code = COALESCE(${patch.postalCode ?? null}, postal_code),
            country = COALESCE(${patch.country ?? null}, country),
            phone = COALESCE(${patch.phone ?? null}, phone)
          WHERE user_id = ${userId} AND address_id = ${addressId}
          RETURNING ${addressCols}
        `.pipe(Effect.flatMap(addresses), Effect.map(first), Effect.orDie),
      deleteAddress: (userId, addressId) =>
        sql`DELETE FROM addresses WHERE user_id = ${userId} AND address_id = ${addressId} RETURNING address_id`.pipe(
          Effect.map((rows) => rows.length === 1),
          Effect.orDie
        ),
      recordAttempt: (key, now, windowMs) =>
        sql`
          INSERT INTO login_attempts (key, count, window_start) VALUES (${key}, 1, ${now})
          ON CONFLICT (key) DO UPDATE SET
            count = CASE WHEN login_attempts.window_start <= ${now - windowMs} THEN 1 ELSE login_attempts.count + 1 END,
            window_start = CASE WHEN login_attempts.window_start <= ${now - windowMs} THEN ${now} ELSE login_attempts.window_start END
          RETURNING count, window_start AS windowStart
        `.pipe(
          Effect.flatMap(attempts),
          Effect.map((rows) => rows[0] ?? { count: 1, windowStart: now }),
          Effect.orDie
        ),
      releaseAttempt: (key) =>
        sql`UPDATE login_attempts SET count = MAX(count - 1, 0) WHERE key = ${key}`.pipe(Effect.asVoid, Effect.orDie),
      purge: (attemptsBefore, sessionsBefore) =>
        Effect.all(
          [
            sql`DELETE FROM login_attempts WHERE window_start < ${attemptsBefore}`,
            sql`DELETE FROM sessions WHERE expires_at < ${sessionsBefore}`
          ],
          { discard: true }
        ).pipe(Effect.orDie),
      clearAttempts: (key) => sql`DELETE FROM login_attempts WHERE key = ${key}`.pipe(Effect.asVoid, Effect.orDie)
    })
  })
)
