import { Context, Effect, Layer } from "effect"
import * as D1Client from "@effect/sql-d1/D1Client"
import * as Traced from "@shop/domain/Traced"
import { maxSkewMillis } from "./Signing.ts"

// Remembers the nonces of accepted signed calls in the service's own D1
// database (migrations/<service>/0002_internal_nonces.sql). Memory per
// isolate would not do: Cloudflare runs many isolates of one Worker, and a
// replay may reach another one. D1 has one primary, so the conditional insert
// below lets exactly one of two concurrent uses of a nonce through.
export class NonceStore extends Context.Service<
  NonceStore,
  {
    // True the first time a nonce is seen inside the retention period.
    readonly remember: (nonce: string, now: number) => Effect.Effect<boolean>
  }
>()("@shop/runtime-cloudflare/NonceStore") {
  static readonly layerD1 = Layer.effect(
    NonceStore,
    Effect.gen(function* () {
      const sql = yield* D1Client.D1Client
      return NonceStore.of({
        remember: Traced.fn("NonceStore.remember")(function* (nonce: string, now: number) {
          // One round trip: forget nonces whose timestamps can no longer be
          // accepted, then claim this one.
          const [, claimed] = yield* sql.batch([
            sql`DELETE FROM internal_nonces WHERE seen_at < ${now - 2 * maxSkewMillis}`,
            sql`INSERT INTO internal_nonces (nonce, seen_at) VALUES (${nonce}, ${now})
                ON CONFLICT (nonce) DO NOTHING RETURNING nonce`
          ])
          return claimed.length === 1
        }, Effect.orDie)
      })
    })
  )
}
