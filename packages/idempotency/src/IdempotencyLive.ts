import { Clock, Duration, Effect, Layer, Schedule } from "effect"
import { IdempotencyKeyInUse, IdempotencyKeyReused } from "@shop/domain/Errors"
import type { ClaimInput, CompleteInput, KeyRef } from "@shop/domain/Idempotency"
import * as Traced from "@shop/domain/Traced"
import { Idempotency } from "./Idempotency.ts"
import { IdempotencyRepository } from "./IdempotencyRepository.ts"
import * as IdempotencyRepositoryMemory from "./IdempotencyRepositoryMemory.ts"

// API.md: keys expire 24 h after the first request claimed them.
export const ttl = Duration.hours(24)

// A running claim older than this belongs to a request that will never
// finish (its process or isolate died): the same request may run again
// rather than meet 409 for 24 h. Far above any request's duration (each
// service call times out after SERVICE_TIMEOUT_MS, 10 s by default).
export const staleAfter = Duration.minutes(2)

// What a caller that meets a running claim is told to wait (Retry-After).
export const retryAfterSeconds = 1

/**
 * The idempotency service over an IdempotencyRepository (the only
 * dependency); time comes from the Clock.
 */
export const layer = Layer.effect(
  Idempotency,
  Effect.gen(function* () {
    const repo = yield* IdempotencyRepository
    return Idempotency.of({
      claim: Traced.fn("Idempotency.claim")(function* (input: ClaimInput) {
        const now = yield* Clock.currentTimeMillis
        const outcome = yield* repo.claim({
          ...input,
          now,
          expiresAt: now + Duration.toMillis(ttl),
          staleBefore: now - Duration.toMillis(staleAfter)
        })
        switch (outcome.state) {
          case "claimed":
            return { state: "new" as const }
          case "done":
            return { state: "done" as const, response: outcome.response }
          case "reused":
            return yield* new IdempotencyKeyReused({})
          case "running":
            return yield* new IdempotencyKeyInUse({ details: { retryAfter: retryAfterSeconds } })
        }
      }),
      complete: Traced.fn("Idempotency.complete")(function* (input: CompleteInput) {
        yield* repo.complete(input.scope, input.key, input.response)
      }),
      abandon: Traced.fn("Idempotency.abandon")(function* (input: KeyRef) {
        yield* repo.abandon(input.scope, input.key)
      }),
      removeExpired: Traced.fn("Idempotency.removeExpired")(function* () {
        const removed = yield* repo.removeExpired(yield* Clock.currentTimeMillis)
        return { removed }
      })
    })
  })
)

/**
 * Deletes expired records every hour of the Clock, so the store does not grow
 * with old keys (memory and node; the Worker uses a Cron Trigger). A claim
 * treats an expired record as absent before then.
 */
export const layerSweeper = Layer.effectDiscard(
  Effect.gen(function* () {
    const idempotency = yield* Idempotency
    const sweep = Effect.gen(function* () {
      const { removed } = yield* idempotency.removeExpired({})
      if (removed > 0) {
        yield* Effect.logInfo("Removed expired idempotency keys").pipe(Effect.annotateLogs({ removed }))
      }
    })
    yield* Effect.forkScoped(Effect.repeat(Effect.delay(sweep, Duration.hours(1)), Schedule.forever))
  })
)

/** The service with its sweeper on an in-memory store (one per layer build); needs nothing. */
export const layerMemory = layerSweeper.pipe(
  Layer.provideMerge(layer),
  Layer.provide(IdempotencyRepositoryMemory.layer)
)
