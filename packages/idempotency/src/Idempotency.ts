import { Context } from "effect"
import type { IdempotencyRpcs } from "@shop/domain/ServiceContracts"
import type { ServiceOf } from "@shop/domain/ServiceTransport"

// The interface of the idempotency service (implementation:
// IdempotencyLive.ts): the records behind the gateway's Idempotency-Key
// handling. Its methods are the procedures of IdempotencyRpcs.
export class Idempotency extends Context.Service<Idempotency, ServiceOf<typeof IdempotencyRpcs>>()(
  "@shop/idempotency/Idempotency"
) {}
