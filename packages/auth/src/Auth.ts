import { Context } from "effect"
import type { AuthRpcs } from "@shop/domain/ServiceContracts"
import type { ServiceOf } from "@shop/domain/ServiceTransport"

// The interface of the auth service. Other packages and runtimes import only
// this module; the implementation lives in AuthLive.ts. Every method takes one
// plain object so that the same call can cross a service binding as data.
// Its methods are the procedures of AuthRpcs (their schemas are the single
// statement of the interface).
export class Auth extends Context.Service<Auth, ServiceOf<typeof AuthRpcs>>()("@shop/auth/Auth") {}
