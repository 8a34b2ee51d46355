import { Context, type Redacted, type Option } from "effect"
import type { AuthRpcs } from "@shop/domain/ServiceContracts"
import type { ServiceOf } from "@shop/domain/ServiceTransport"

// The interface of the auth service. Other packages and runtimes import only
// this module; the implementation lives in AuthLive.ts. Every method takes one
// plain object so that the same call can cross a service binding as data.
// Its methods are the procedures of AuthRpcs (their schemas are the single
// statement of the interface).
export class Auth extends Context.Service<Auth, ServiceOf<typeof AuthRpcs>>()("@shop/auth/Auth") {}

// Configuration of the auth service, supplied by each runtime from its own
// configuration source. No secret has a default.
export class AuthConfig extends Context.Service<
  AuthConfig,
  {
    readonly jwtSecret: Redacted.Redacted<string>
    // None disables admin signup altogether.
    readonly adminSecret: Option.Option<Redacted.Redacted<string>>
    readonly tokenTtlSeconds: number
    readonly passwordIterations: number
    readonly throttle: {
      readonly windowSeconds: number
      readonly maxFailuresPerEmail: number
      readonly maxFailuresPerClient: number
    }
  }
>()("@shop/auth/AuthConfig") {}

export const defaultThrottle = {
  windowSeconds: 15 * 60,
  maxFailuresPerEmail: 5,
  maxFailuresPerClient: 50
}

// PBKDF2-SHA-256 at 100,000 iterations: the most WebCrypto allows in Workers.
export const defaultPasswordIterations = 100_000
export const defaultTokenTtlSeconds = 24 * 60 * 60
