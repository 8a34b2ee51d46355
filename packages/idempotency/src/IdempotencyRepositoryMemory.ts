import { Effect, Layer } from "effect"
import type { StoredResponse } from "@shop/domain/Idempotency"
import { type ClaimAttempt, type ClaimOutcome, IdempotencyRepository } from "./IdempotencyRepository.ts"

interface Entry {
  readonly fingerprint: string
  readonly claimedAt: number
  readonly expiresAt: number
  readonly response: StoredResponse | undefined
}

// scope and key joined by a character neither contains (both are printable).
const id = (scope: string, key: string) => `${scope}\n${key}`

// Each method is one synchronous step inside Effect.sync, which is what makes
// it atomic under concurrent fibers.
export const layer = Layer.sync(IdempotencyRepository, () => {
  const entries = new Map<string, Entry>()
  return IdempotencyRepository.of({
    claim: (attempt: ClaimAttempt) =>
      Effect.sync((): ClaimOutcome => {
        const at = id(attempt.scope, attempt.key)
        const found = entries.get(at)
        const takeOver =
          found === undefined ||
          found.expiresAt <= attempt.now ||
          (found.response === undefined &&
            found.fingerprint === attempt.fingerprint &&
            found.claimedAt <= attempt.staleBefore)
        if (takeOver) {
          entries.set(at, {
            fingerprint: attempt.fingerprint,
            claimedAt: attempt.now,
            expiresAt: attempt.expiresAt,
            response: undefined
          })
          return { state: "claimed" }
        }
        if (found.fingerprint !== attempt.fingerprint) return { state: "reused" }
        if (found.response === undefined) return { state: "running" }
        return { state: "done", response: found.response }
      }),
    complete: (scope, key, response) =>
      Effect.sync(() => {
        const at = id(scope, key)
        const found = entries.get(at)
        if (found !== undefined && found.response === undefined) entries.set(at, { ...found, response })
      }),
    abandon: (scope, key) =>
      Effect.sync(() => {
        const at = id(scope, key)
        if (entries.get(at)?.response === undefined) entries.delete(at)
      }),
    removeExpired: (now) =>
      Effect.sync(() => {
        let removed = 0
        for (const [at, entry] of entries) {
          if (entry.expiresAt <= now) {
            entries.delete(at)
            removed++
          }
        }
        return removed
      })
  })
})
