import { Context } from "effect"
import type { PaymentsRpcs } from "@shop/domain/ServiceContracts"
import type { ServiceOf } from "@shop/domain/ServiceTransport"

// The interface of the payments service (implementation: PaymentsLive.ts):
// the shop's record of the money at the payment provider. Its methods are the
// procedures of PaymentsRpcs.
export class Payments extends Context.Service<Payments, ServiceOf<typeof PaymentsRpcs>>()("@shop/payments/Payments") {}
