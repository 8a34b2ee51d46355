import { Schema } from "effect"

// Idempotency keys (API.md, Conventions): the records the idempotency service
// keeps so that a repeated POST with the same Idempotency-Key replays the
// first answer instead of running again.

// 1..255 visible ASCII characters, as API.md says; anything else is refused
// with 400 before any record is touched.
export const IdempotencyKey = Schema.String.check(Schema.isPattern(/^[\x21-\x7e]{1,255}$/u))

// Whose key it is: the caller (`user:<userId>` or `guest`), the method and the
// path, so a key never replays another caller's response or another route's.
export const IdempotencyScope = Schema.String.check(Schema.isNonEmpty())

// A response as it is replayed: status, the headers the endpoint set
// (content-type, location, cache-control...), and the body's text (every
// endpoint answers UTF-8 JSON or nothing).
export const StoredResponse = Schema.Struct({
  status: Schema.Int,
  headers: Schema.Record(Schema.String, Schema.String),
  body: Schema.String
})
export type StoredResponse = typeof StoredResponse.Type

export const ClaimInput = Schema.Struct({
  scope: IdempotencyScope,
  key: IdempotencyKey,
  // Hex SHA-256 of the request (method, path, body bytes).
  fingerprint: Schema.String.check(Schema.isNonEmpty(), Schema.isMaxLength(128))
})
export type ClaimInput = typeof ClaimInput.Type

// "new": the caller now holds the key and must complete or abandon it.
// "done": the first request finished; replay its response.
export const ClaimResult = Schema.Union([
  Schema.Struct({ state: Schema.Literal("new") }),
  Schema.Struct({ state: Schema.Literal("done"), response: StoredResponse })
])
export type ClaimResult = typeof ClaimResult.Type

export const CompleteInput = Schema.Struct({
  scope: IdempotencyScope,
  key: IdempotencyKey,
  response: StoredResponse
})
export type CompleteInput = typeof CompleteInput.Type

export const KeyRef = Schema.Struct({ scope: IdempotencyScope, key: IdempotencyKey })
export type KeyRef = typeof KeyRef.Type
