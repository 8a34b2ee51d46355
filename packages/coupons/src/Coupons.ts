import { Context } from "effect"
import type { CouponsRpcs } from "@shop/domain/ServiceContracts"
import type { ServiceOf } from "@shop/domain/ServiceTransport"

// The interface of the coupons service (implementation: CouponsLive.ts):
// admin create, list and remove, the cart's lookup, and checkout's redeem and
// release. Its methods are the procedures of CouponsRpcs.
export class Coupons extends Context.Service<Coupons, ServiceOf<typeof CouponsRpcs>>()("@shop/coupons/Coupons") {}
