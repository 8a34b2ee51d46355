import { Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { StoredResponse } from "@shop/domain/Idempotency"
import * as Traced from "@shop/domain/Traced"
import { type ClaimAttempt, type ClaimOutcome, IdempotencyRepository } from "./IdempotencyRepository.ts"

const Row = Schema.Struct({
  fingerprint: Schema.String,
  response: Schema.NullOr(Schema.fromJsonString(StoredResponse)),
  expiresAt: Schema.Int
})
const decodeRows = Schema.decodeUnknownEffect(Schema.Array(Row))
const encodeResponse = Schema.encodeSync(Schema.fromJsonString(StoredResponse))

// Works on node:sqlite and D1 alike: every method is a single statement (a
// claim that loses is followed by one read), so none needs a transaction.
export const layer = Layer.effect(
  IdempotencyRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    // One statement decides the claim: the row is inserted, or replaces a row
    // that expired or a stale running row of the same request; otherwise
    // nothing is written and no row comes back.
    const insert = (attempt: ClaimAttempt) =>
      sql`
        INSERT INTO idempotency_keys (scope, idempotency_key, fingerprint, response, claimed_at, expires_at)
        VALUES (${attempt.scope}, ${attempt.key}, ${attempt.fingerprint}, NULL, ${attempt.now}, ${attempt.expiresAt})
        ON CONFLICT (scope, idempotency_key) DO UPDATE SET
          fingerprint = excluded.fingerprint, response = NULL, claimed_at = excluded.claimed_at,
          expires_at = excluded.expires_at
        WHERE idempotency_keys.expires_at <= ${attempt.now}
          OR (idempotency_keys.response IS NULL AND idempotency_keys.fingerprint = excluded.fingerprint
            AND idempotency_keys.claimed_at <= ${attempt.staleBefore})
        RETURNING scope
      `.pipe(Effect.orDie)

    const read = (scope: string, key: string) =>
      sql`
        SELECT fingerprint, response, expires_at AS expiresAt FROM idempotency_keys
        WHERE scope = ${scope} AND idempotency_key = ${key}
      `.pipe(Effect.flatMap(decodeRows), Effect.orDie)

    const claim = Traced.fn("IdempotencyRepository.claim")(function* (attempt: ClaimAttempt) {
      // The row that won may be abandoned (deleted) or expire between the two
      // statements; the claim is then simply tried again.
      for (let tries = 0; tries < 3; tries++) {
        const inserted = yield* insert(attempt)
        if (inserted.length > 0) return { state: "claimed" } as ClaimOutcome
        const [row] = yield* read(attempt.scope, attempt.key)
        if (row === undefined || row.expiresAt <= attempt.now) continue
        if (row.fingerprint !== attempt.fingerprint) return { state: "reused" } as ClaimOutcome
        if (row.response === null) return { state: "running" } as ClaimOutcome
        return { state: "done", response: row.response } as ClaimOutcome
      }
      // The key changes hands faster than we can look: as good as running.
      return { state: "running" } as ClaimOutcome
    })

    return IdempotencyRepository.of({
      claim,
      complete: (scope, key, response) =>
        sql`
          UPDATE idempotency_keys SET response = ${encodeResponse(response)}
          WHERE scope = ${scope} AND idempotency_key = ${key} AND response IS NULL
        `.pipe(Effect.asVoid, Effect.orDie),
      abandon: (scope, key) =>
        sql`
          DELETE FROM idempotency_keys WHERE scope = ${scope} AND idempotency_key = ${key} AND response IS NULL
        `.pipe(Effect.asVoid, Effect.orDie),
      removeExpired: (now) =>
        sql`DELETE FROM idempotency_keys WHERE expires_at <= ${now} RETURNING scope`.pipe(
          Effect.map((rows) => rows.length),
          Effect.orDie
        )
    })
  })
)
