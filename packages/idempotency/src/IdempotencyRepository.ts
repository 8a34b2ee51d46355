import { Context, type Effect } from "effect"
import type { StoredResponse } from "@shop/domain/Idempotency"

export interface ClaimAttempt {
  readonly scope: string
  readonly key: string
  readonly fingerprint: string
  readonly now: number
  // When a record claimed now expires (now + 24 h).
  readonly expiresAt: number
  // A record still running that was claimed at or before this time is taken
  // to belong to a request that died (a crashed process, a killed isolate):
  // the same request may take it over instead of waiting 24 h.
  readonly staleBefore: number
}

// What the store found: "claimed" means this call now holds the key.
export type ClaimOutcome =
  | { readonly state: "claimed" }
  | { readonly state: "done"; readonly response: StoredResponse }
  | { readonly state: "running" }
  | { readonly state: "reused" }

// Where idempotency records live: the service's SQL store (SQLite on node,
// D1 on Cloudflare) or memory. Every method is one atomic step (a single
// conditional statement, or one synchronous update of a Map), so two
// concurrent claims of one key cannot both succeed, without transactions.
export class IdempotencyRepository extends Context.Service<
  IdempotencyRepository,
  {
    // Takes the key unless a live record holds it: an absent or expired
    // record is (re)placed, a stale running record with the same fingerprint
    // is taken over. Otherwise answers what the live record says.
    readonly claim: (attempt: ClaimAttempt) => Effect.Effect<ClaimOutcome>
    // Stores the response of a running record; nothing if there is none.
    readonly complete: (scope: string, key: string, response: StoredResponse) => Effect.Effect<void>
    // Deletes a running record (never a completed one).
    readonly abandon: (scope: string, key: string) => Effect.Effect<void>
    // Deletes records expired at `now`; how many.
    readonly removeExpired: (now: number) => Effect.Effect<number>
  }
>()("@shop/idempotency/IdempotencyRepository") {}
