import { Effect, Layer } from "effect"
import { IdempotencyRpcs } from "@shop/domain/ServiceContracts"
import { Idempotency } from "@shop/idempotency/Idempotency"
import * as IdempotencyLive from "@shop/idempotency/IdempotencyLive"
import * as IdempotencyRepositorySql from "@shop/idempotency/IdempotencyRepositorySql"
import type { ServiceEnv } from "./Env.ts"
import * as ServiceWorker from "./ServiceWorker.ts"
import * as Settings from "./Settings.ts"

// Idempotency-Key records in the Worker's D1. Every store method is one
// statement (a claim is one INSERT ... ON CONFLICT), so D1's lack of
// transactions costs nothing here.
export default ServiceWorker.make({
  name: "idempotency",
  group: IdempotencyRpcs,
  tag: Idempotency,
  settings: Settings.service,
  layer: (_env: ServiceEnv) => IdempotencyLive.layer.pipe(Layer.provide(IdempotencyRepositorySql.layer)),
  // The Cron Trigger (wrangler.jsonc, hourly) deletes expired records, as the
  // sweeper does on memory and node, so the table does not grow with old keys.
  scheduled: Effect.gen(function* () {
    const idempotency = yield* Idempotency
    const { removed } = yield* idempotency.removeExpired({})
    if (removed > 0) yield* Effect.logInfo("Removed expired idempotency keys").pipe(Effect.annotateLogs({ removed }))
  })
})
