import { Context, Effect, Layer, Option, Redacted } from "effect"
import * as Settings from "@shop/observability/Settings"

// HS256 is only as strong as its key: RFC 7518 asks for at least 256 bits.
const minJwtSecretLength = 32
// Guesses are throttled, but the secret must not be guessable either.
const minAdminSecretLength = 16

export const defaultThrottle = {
  windowSeconds: 15 * 60,
  maxFailuresPerEmail: 5,
  maxFailuresPerClient: 50
}

// PBKDF2-SHA-256 at 100,000 iterations: the most WebCrypto allows in Workers.
export const defaultPasswordIterations = 100_000
export const defaultTokenTtlSeconds = 24 * 60 * 60

/**
 * The settings of the auth service, declared once here and read by every
 * runtime from its own ConfigProvider (see README, "Configuration").
 */
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
>()("@shop/auth/AuthConfig") {
  /**
   * From configuration, with `jwtSecretWhenUnset` used when JWT_SECRET is not
   * set: the node runtime generates one and keeps it in its data directory.
   * Elsewhere a missing JWT_SECRET stops start-up (no secret has a default).
   */
  static readonly layerConfigWith = <E, R>(jwtSecretWhenUnset: Effect.Effect<Redacted.Redacted<string>, E, R>) =>
    Layer.effect(
      AuthConfig,
      Effect.gen(function* () {
        const configured = yield* Settings.secret("JWT_SECRET", minJwtSecretLength)
        const adminSecret = yield* Settings.secret("ADMIN_SECRET", minAdminSecretLength)
        const tokenTtlSeconds = yield* Settings.int("TOKEN_TTL_SECONDS", {
          min: 60,
          max: 30 * 24 * 60 * 60,
          fallback: defaultTokenTtlSeconds
        })
        // Lower than the default only for tests and demos: each login costs this many hashes.
        const passwordIterations = yield* Settings.int("PASSWORD_ITERATIONS", {
          min: 1_000,
          max: defaultPasswordIterations,
          fallback: defaultPasswordIterations
        })
        const windowSeconds = yield* Settings.int("LOGIN_THROTTLE_WINDOW_SECONDS", {
          min: 1,
          max: 24 * 60 * 60,
          fallback: defaultThrottle.windowSeconds
        })
        const maxFailuresPerEmail = yield* Settings.int("LOGIN_MAX_FAILURES_PER_EMAIL", {
          min: 1,
          max: 1_000,
          fallback: defaultThrottle.maxFailuresPerEmail
        })
        const maxFailuresPerClient = yield* Settings.int("LOGIN_MAX_FAILURES_PER_CLIENT", {
          min: 1,
          max: 100_000,
          fallback: defaultThrottle.maxFailuresPerClient
        })
        const jwtSecret = Option.isSome(configured) ? configured.value : yield* jwtSecretWhenUnset
        yield* Effect.logInfo(
          Option.isSome(adminSecret)
            ? "Admin signup is enabled (ADMIN_SECRET is set)"
            : "Admin signup is disabled (ADMIN_SECRET is not set)"
        )
        return AuthConfig.of({
          jwtSecret,
          adminSecret,
          tokenTtlSeconds,
          passwordIterations,
          throttle: { windowSeconds, maxFailuresPerEmail, maxFailuresPerClient }
        })
      })
    )

  /** From configuration; JWT_SECRET is required. */
  static readonly layerConfig = AuthConfig.layerConfigWith(
    Settings.requiredSecret("JWT_SECRET", minJwtSecretLength, "at least 32 random characters")
  )

  /** Fixed values for service tests: a known secret and cheap password hashing. */
  static readonly layerTest = (overrides: Partial<AuthConfig["Service"]> = {}) =>
    Layer.succeed(
      AuthConfig,
      AuthConfig.of({
        jwtSecret: Redacted.make("test-jwt-secret-0123456789abcdef0123"),
        adminSecret: Option.none(),
        tokenTtlSeconds: defaultTokenTtlSeconds,
        passwordIterations: 1_000,
        throttle: defaultThrottle,
        ...overrides
      })
    )
}
