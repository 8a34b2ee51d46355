import { Effect, Layer, Option, Redacted, SchemaIssue } from "effect"
import { HttpServerRequest } from "effect/http"
import { HttpApiMiddleware } from "effect/http-api"
import {
  ApiErrors,
  AdminAuthentication,
  Authentication,
  CurrentShopper,
  CurrentUser,
  Idempotent,
  OptionalAuthentication
} from "@shop/domain/Api"
import { Forbidden, Unauthorized, ValidationError } from "@shop/domain/Errors"
import { Auth } from "@shop/auth/Auth"
import * as Traced from "@shop/domain/Traced"
import { GatewayConfig } from "./GatewayConfig.ts"
import { makeCall } from "./Upstream.ts"

const formatIssue = SchemaIssue.makeFormatterStandardSchemaV1()

const where = {
  Params: "path",
  Query: "query",
  Headers: "headers",
  Payload: "body",
  Body: "body",
  ResponseHeaders: "headers"
} as const

// Request decoding failures become 400 validation_error with the failing
// fields listed, instead of the empty 400 that HttpApi sends by default.
export const ApiErrorsLive = HttpApiMiddleware.layerSchemaErrorTransform(ApiErrors, (error) => {
  const issue = error.cause.issue
  const formatted = formatIssue(issue)
  const location = where[error.kind]
  return Effect.fail(
    new ValidationError({
      message: `Invalid request ${location}`,
      details: {
        in: location,
        issues: formatted.issues.map((i) => ({
          path: (i.path ?? []).map((p) => (typeof p === "object" && p !== null && "key" in p ? p.key : p)).join("."),
          message: i.message
        }))
      }
    })
  )
})

const authenticate = Traced.fn("Gateway.authenticate")(function* (token: string) {
  const auth = yield* Auth
  const config = yield* GatewayConfig
  if (token.length === 0 || token.length > 4096) return yield* new Unauthorized({})
  return yield* makeCall(config.serviceTimeout)(auth.authenticate({ token }))
})

export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.gen(function* () {
    const context = yield* Effect.context<Auth | GatewayConfig>()
    return Authentication.of({
      bearer: (httpEffect, { credential }) =>
        authenticate(Redacted.value(credential)).pipe(
          Effect.provideContext(context),
          Effect.flatMap((principal) => Effect.provideService(httpEffect, CurrentUser, principal))
        )
    })
  })
)

export const AdminAuthenticationLive = Layer.effect(
  AdminAuthentication,
  Effect.gen(function* () {
    const context = yield* Effect.context<Auth | GatewayConfig>()
    return AdminAuthentication.of({
      bearer: Traced.fn("Gateway.authenticateAdmin")(function* (httpEffect, { credential }) {
        const principal = yield* authenticate(Redacted.value(credential)).pipe(Effect.provideContext(context))
        if (principal.role !== "admin") return yield* new Forbidden({})
        return yield* Effect.provideService(httpEffect, CurrentUser, principal)
      })
    })
  })
)

// Guests and users alike: no Authorization header is a guest; a bearer token
// must be valid (401 otherwise), so a user whose session ended is told so
// rather than silently shown as a guest.
export const OptionalAuthenticationLive = Layer.effect(
  OptionalAuthentication,
  Effect.gen(function* () {
    const context = yield* Effect.context<Auth | GatewayConfig>()
    const shopper = Traced.fn("Gateway.authenticateShopper")(function* <A, E, R>(
      header: string,
      httpEffect: Effect.Effect<A, E, R>
    ) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
      if (match === null) return yield* new Unauthorized({})
      const principal = yield* authenticate(match[1] ?? "").pipe(Effect.provideContext(context))
      return yield* Effect.provideService(httpEffect, CurrentShopper, Option.some(principal))
    })
    // A guest (no Authorization header) has nothing to authenticate: no span
    // of its own, which cost every guest request a span and a call-site stack
    // capture (the profile of add-to-cart and get-cart).
    return OptionalAuthentication.of((httpEffect) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
        const header = request.headers.authorization
        return header === undefined
          ? Effect.provideService(httpEffect, CurrentShopper, Option.none())
          : shopper(header, httpEffect)
      })
    )
  })
)

// Idempotency-Key is handled for every POST by the global middleware (Http.ts,
// IdempotencyKeys.ts), before routing; this one only declares its answers.
export const IdempotentLive = Layer.succeed(Idempotent)(Idempotent.of((httpEffect) => httpEffect))

export const layer = Layer.mergeAll(
  ApiErrorsLive,
  IdempotentLive,
  AuthenticationLive,
  AdminAuthenticationLive,
  OptionalAuthenticationLive
)
