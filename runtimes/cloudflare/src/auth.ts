import { Config, Effect, Layer } from "effect"
import { AuthConfig, defaultPasswordIterations, defaultThrottle, defaultTokenTtlSeconds } from "@shop/auth/Auth"
import { Auth } from "@shop/auth/Auth"
import * as AuthLive from "@shop/auth/AuthLive"
import * as AuthRepositorySql from "@shop/auth/AuthRepositorySql"
import { AuthRpcs } from "@shop/domain/ServiceContracts"
import type { AuthEnv } from "./Env.ts"
import * as ServiceWorker from "./ServiceWorker.ts"

// Secrets come from `wrangler secret put` (or .dev.vars locally) and have no
// default: a missing JWT_SECRET stops the Worker with this message.
const authConfig = Layer.effect(
  AuthConfig,
  Effect.gen(function* () {
    const jwtSecret = yield* Config.Redacted("JWT_SECRET").pipe(
      Effect.mapError((error) => new Error(`JWT_SECRET is not set (wrangler secret put JWT_SECRET): ${error.message}`)),
      Effect.orDie
    )
    const settings = yield* Config.all({
      // Absent: admin signup is disabled.
      adminSecret: Config.option(Config.Redacted("ADMIN_SECRET")),
      tokenTtlSeconds: Config.Int("TOKEN_TTL_SECONDS").pipe(Config.withDefault(defaultTokenTtlSeconds)),
      passwordIterations: Config.Int("PASSWORD_ITERATIONS").pipe(Config.withDefault(defaultPasswordIterations)),
      windowSeconds: Config.Int("LOGIN_THROTTLE_WINDOW_SECONDS").pipe(
        Config.withDefault(defaultThrottle.windowSeconds)
      ),
      maxFailuresPerEmail: Config.Int("LOGIN_MAX_FAILURES_PER_EMAIL").pipe(
        Config.withDefault(defaultThrottle.maxFailuresPerEmail)
      ),
      maxFailuresPerClient: Config.Int("LOGIN_MAX_FAILURES_PER_CLIENT").pipe(
        Config.withDefault(defaultThrottle.maxFailuresPerClient)
      )
    }).pipe(Effect.orDie)
    return AuthConfig.of({
      jwtSecret,
      adminSecret: settings.adminSecret,
      tokenTtlSeconds: settings.tokenTtlSeconds,
      passwordIterations: settings.passwordIterations,
      throttle: {
        windowSeconds: settings.windowSeconds,
        maxFailuresPerEmail: settings.maxFailuresPerEmail,
        maxFailuresPerClient: settings.maxFailuresPerClient
      }
    })
  })
)

export default ServiceWorker.make({
  name: "auth",
  group: AuthRpcs,
  tag: Auth,
  layer: (_env: AuthEnv) => AuthLive.layer.pipe(Layer.provide(AuthRepositorySql.layer), Layer.provide(authConfig))
})
