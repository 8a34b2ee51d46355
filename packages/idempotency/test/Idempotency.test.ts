import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer } from "effect"
import { TestClock } from "effect/testing"
import type { StoredResponse } from "@shop/domain/Idempotency"
import { Idempotency } from "../src/Idempotency.ts"
import * as IdempotencyLive from "../src/IdempotencyLive.ts"
import { IdempotencyRepository } from "../src/IdempotencyRepository.ts"
import * as IdempotencyRepositoryMemory from "../src/IdempotencyRepositoryMemory.ts"

const scope = "user:usr_alice POST /api/cart/cart_1/add"
const request = { scope, key: "key-1", fingerprint: "f".repeat(64) }
const response: StoredResponse = {
  status: 200,
  headers: { "content-type": "application/json" },
  body: '{"cartId":"cart_1"}'
}

// The service with its sweeper, on a fresh memory store per test.
const fresh = <A, E>(effect: Effect.Effect<A, E, Idempotency | IdempotencyRepository>) =>
  Effect.provide(
    effect,
    IdempotencyLive.layerSweeper.pipe(
      Layer.provideMerge(IdempotencyLive.layer),
      Layer.provideMerge(IdempotencyRepositoryMemory.layer)
    )
  )

const errorTag = <A, E>(exit: Exit.Exit<A, E>) =>
  Exit.isFailure(exit)
    ? exit.cause.reasons.flatMap((r) => (r._tag === "Fail" ? [(r.error as { _tag: string })._tag] : []))
    : []

describe("Idempotency", () => {
  it.effect("a first claim is new; after complete, a repeat replays the stored response", () =>
    fresh(
      Effect.gen(function* () {
        const idempotency = yield* Idempotency
        assert.deepStrictEqual(yield* idempotency.claim(request), { state: "new" })
        yield* idempotency.complete({ scope, key: request.key, response })
        assert.deepStrictEqual(yield* idempotency.claim(request), { state: "done", response })
        assert.deepStrictEqual(yield* idempotency.claim(request), { state: "done", response })
      })
    )
  )

  it.effect("the same key with another fingerprint is idempotency_key_reused, running or done", () =>
    fresh(
      Effect.gen(function* () {
        const idempotency = yield* Idempotency
        yield* idempotency.claim(request)
        const other = { ...request, fingerprint: "0".repeat(64) }
        assert.deepStrictEqual(errorTag(yield* Effect.exit(idempotency.claim(other))), ["IdempotencyKeyReused"])
        yield* idempotency.complete({ scope, key: request.key, response })
        assert.deepStrictEqual(errorTag(yield* Effect.exit(idempotency.claim(other))), ["IdempotencyKeyReused"])
      })
    )
  )

  it.effect("while the first request runs, a repeat is idempotency_key_in_use with a retry delay", () =>
    fresh(
      Effect.gen(function* () {
        const idempotency = yield* Idempotency
        yield* idempotency.claim(request)
        const error = yield* Effect.flip(idempotency.claim(request))
        assert.strictEqual(error._tag, "IdempotencyKeyInUse")
        if (error._tag === "IdempotencyKeyInUse") assert.isAbove(error.details.retryAfter, 0)
      })
    )
  )

  it.effect("another scope or key is independent", () =>
    fresh(
      Effect.gen(function* () {
        const idempotency = yield* Idempotency
        yield* idempotency.claim(request)
        assert.deepStrictEqual(yield* idempotency.claim({ ...request, scope: "guest POST /api/cart/cart_1/add" }), {
          state: "new"
        })
        assert.deepStrictEqual(yield* idempotency.claim({ ...request, key: "key-2" }), { state: "new" })
      })
    )
  )

  it.effect("abandon frees a running key, so a retry runs again; a completed key stays", () =>
    fresh(
      Effect.gen(function* () {
        const idempotency = yield* Idempotency
        yield* idempotency.claim(request)
        yield* idempotency.abandon({ scope, key: request.key })
        assert.deepStrictEqual(yield* idempotency.claim(request), { state: "new" })
        yield* idempotency.complete({ scope, key: request.key, response })
        yield* idempotency.abandon({ scope, key: request.key })
        assert.deepStrictEqual(yield* idempotency.claim(request), { state: "done", response })
      })
    )
  )

  it.effect("of concurrent claims of one key exactly one is new; the others are in use", () =>
    fresh(
      Effect.gen(function* () {
        const idempotency = yield* Idempotency
        const exits = yield* Effect.all(
          Array.from({ length: 20 }, () => Effect.exit(idempotency.claim(request))),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(exits.filter(Exit.isSuccess).length, 1)
        assert.deepStrictEqual(
          exits.flatMap(errorTag),
          Array.from({ length: 19 }, () => "IdempotencyKeyInUse")
        )
      })
    )
  )

  it.effect("a record expires 24 h after its claim: the key is new again, with any body", () =>
    fresh(
      Effect.gen(function* () {
        const idempotency = yield* Idempotency
        yield* idempotency.claim(request)
        yield* idempotency.complete({ scope, key: request.key, response })
        yield* TestClock.adjust(Duration.subtract(IdempotencyLive.ttl, Duration.millis(1)))
        assert.deepStrictEqual(yield* idempotency.claim(request), { state: "done", response })
        yield* TestClock.adjust(Duration.millis(1))
        assert.deepStrictEqual(yield* idempotency.claim({ ...request, fingerprint: "0".repeat(64) }), {
          state: "new"
        })
      })
    )
  )

  it.effect("a running claim left by a request that died is taken over by the same request, not another", () =>
    fresh(
      Effect.gen(function* () {
        const idempotency = yield* Idempotency
        yield* idempotency.claim(request)
        yield* TestClock.adjust(IdempotencyLive.staleAfter)
        assert.deepStrictEqual(
          errorTag(yield* Effect.exit(idempotency.claim({ ...request, fingerprint: "0".repeat(64) }))),
          ["IdempotencyKeyReused"]
        )
        assert.deepStrictEqual(yield* idempotency.claim(request), { state: "new" })
      })
    )
  )

  it.effect("the sweeper deletes expired records every hour", () =>
    fresh(
      Effect.gen(function* () {
        const idempotency = yield* Idempotency
        const repo = yield* IdempotencyRepository
        yield* idempotency.claim(request)
        yield* idempotency.complete({ scope, key: request.key, response })
        yield* TestClock.adjust(Duration.sum(IdempotencyLive.ttl, Duration.hours(1)))
        // Nothing left for an explicit pass to remove: the sweep ran.
        assert.strictEqual(yield* repo.removeExpired(Number.MAX_SAFE_INTEGER), 0)
      })
    )
  )
})
