import { ByteSize, Cause, Clock, Effect, LogLevel, Option, Predicate, Result, type Types } from "effect"
import { HttpIncomingMessage, HttpRouter, HttpServerError, HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiError } from "effect/http-api"
import { ShopApi } from "@shop/domain/Api"
import { MaxImageBytes, MaxUploadOverheadBytes } from "@shop/domain/Images"
import { isServiceUnreachable } from "@shop/domain/ServiceTransport"
import * as Traced from "@shop/domain/Traced"
import { GatewayConfig } from "./GatewayConfig.ts"
import * as HttpCache from "./HttpCache.ts"
import * as IdempotencyKeys from "./IdempotencyKeys.ts"

// Standard error body of API.md, built where no HttpApi endpoint is involved
// (unknown routes, transport failures, defects).
const errorResponse = (status: number, error: string, message: string, details?: Record<string, unknown>) =>
  HttpServerResponse.jsonUnsafe(details === undefined ? { error, message } : { error, message, details }, { status })

// Paths of every endpoint, to tell "no such route" (404) from "no such method
// on this route" (405).
const routes: ReadonlyArray<{ readonly method: string; readonly pattern: RegExp }> = [
  ...Object.values(ShopApi.groups).flatMap((group) =>
    Object.values(group.endpoints).map((endpoint) => ({
      method: endpoint.method,
      pattern: new RegExp(`^${endpoint.path.replace(/:[A-Za-z]+/g, "[^/]+").replace(/\/$/, "")}/?$`)
    }))
  ),
  { method: "GET", pattern: /^\/openapi\.json$/ },
  { method: "GET", pattern: /^\/docs$/ },
  { method: "GET", pattern: /^\/docs\/scalar\.js$/ }
]

const allowedMethods = (url: string) => {
  const path = url.split("?")[0] ?? url
  return Array.from(new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method)))
}

const reasonOf = (error: unknown) => (HttpServerError.isHttpServerError(error) ? error.reason : undefined)

const isRouteNotFound = (error: unknown) => Predicate.isTagged(reasonOf(error), "RouteNotFound")

const isBodyTooLarge = (error: unknown) => {
  const reason = reasonOf(error)
  return Predicate.isTagged(reason, "RequestParseError") && reason.reason === "BodyTooLarge"
}

// Turns whatever went wrong into the standard body with the right status.
// Everything a client can provoke is a 4xx; only our own faults are a 500, and
// those are logged with their cause but never described in the body.
const renderFailure = Traced.fn("Gateway.renderFailure")(function* (
  request: HttpServerRequest.HttpServerRequest,
  cause: Cause.Cause<unknown>
) {
  const failure = Option.getOrUndefined(Cause.findErrorOption(cause))
  const defect = Cause.findDefect(cause)
  const error = failure ?? (Result.isSuccess(defect) ? defect.success : undefined)
  if (error !== undefined && isRouteNotFound(error)) {
    const allowed = allowedMethods(request.url)
    // The path has the shape of a route for this very method, yet the
    // router could not resolve it (bad percent-encoding, an over-long
    // parameter): it names nothing.
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return HttpServerResponse.setHeader(
        errorResponse(405, "method_not_allowed", `${request.method} is not allowed here`, { allowed }),
        "allow",
        allowed.join(", ")
      )
    }
    return errorResponse(404, "not_found", "No such route")
  }
  if (HttpApiError.HttpApiSchemaError.is(error)) {
    return errorResponse(400, "validation_error", "The request is not valid")
  }
  if (HttpApiError.HttpApiPayloadTooLarge.is(error) || isBodyTooLarge(error)) {
    return errorResponse(413, "payload_too_large", "The request body is too large")
  }
  if (isServiceUnreachable(error)) {
    yield* Effect.logError("A service did not answer", cause)
    return errorResponse(502, "upstream_error", "A service this request depends on failed")
  }
  if (Cause.hasInterruptsOnly(cause)) {
    return errorResponse(503, "service_unavailable", "The request was interrupted")
  }
  yield* Effect.logError("Unhandled failure", cause)
  return errorResponse(500, "internal_error", "Something went wrong on our side")
})

// The image upload is the one route whose body may be larger than
// GatewayConfig.maxBodyBytes: one image and its multipart envelope. Its
// parser enforces the same bounds part by part (ImagesApi.ts).
const uploadPath = /^\/api\/admin\/products\/[^/]+\/images\/?$/
const isUpload = (request: HttpServerRequest.HttpServerRequest) =>
  request.method === "POST" && uploadPath.test(request.url.split("?")[0] ?? request.url)
const maxUploadBytes = MaxImageBytes + MaxUploadOverheadBytes

const requestIdPattern = /^[A-Za-z0-9._-]{1,128}$/

// A random prefix per process (drawn lazily: Workers forbid randomness at
// module scope) plus a counter: unique, and far cheaper per request than
// drawing fresh random bytes, which showed in the profile.
let requestIdPrefix: string | undefined
let requestCounter = 0
const newRequestId = () => {
  requestIdPrefix ??= Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) =>
    b.toString(16).padStart(2, "0")
  ).join("")
  return `${requestIdPrefix}-${(requestCounter++).toString(36)}`
}

const isJsonBody = (response: HttpServerResponse.HttpServerResponse) =>
  response.body._tag !== "Empty" && (response.body.contentType ?? "").includes("json")

const corsRequestHeaders =
  "authorization, content-type, idempotency-key, traceparent, tracestate, x-admin-secret, x-request-id"

const corsHeaders = (origins: ReadonlyArray<string>, origin: string | undefined): Record<string, string> => {
  if (origin === undefined || origins.length === 0) return {}
  if (origins.includes("*")) return { "access-control-allow-origin": "*" }
  if (!origins.includes(origin)) return { vary: "Origin" }
  return { "access-control-allow-origin": origin, vary: "Origin" }
}

// HttpRouter.middleware insists that a global middleware keeps the router's
// `unhandled` error in its type even when, as here, it handles everything.
const unhandled = <A, R>(effect: Effect.Effect<A, never, R>): Effect.Effect<A, Types.unhandled, R> => effect

const traceparentPattern = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/

// Untraced, like the middleware below: it runs on every request, and a span
// of its own would cost each of them with tracing off.
const respond = Effect.fnUntraced(function* <E, R>(
  config: GatewayConfig["Service"],
  idempotent: Effect.Success<typeof IdempotencyKeys.make>,
  request: HttpServerRequest.HttpServerRequest,
  requestId: string,
  httpEffect: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
) {
  const cors = corsHeaders(config.corsOrigins, request.headers["origin"])
  const finish = (response: HttpServerResponse.HttpServerResponse) =>
    HttpServerResponse.setHeaders(response, {
      ...cors,
      ...(Object.keys(cors).length > 0
        ? { "access-control-expose-headers": "x-request-id, retry-after, idempotent-replayed, etag, x-cache" }
        : {}),
      "x-request-id": requestId
    })

  if (request.method === "OPTIONS") {
    return finish(
      HttpServerResponse.empty({
        status: 204,
        headers: {
          "access-control-allow-methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
          "access-control-allow-headers": request.headers["access-control-request-headers"] ?? corsRequestHeaders,
          "access-control-max-age": "600"
        }
      })
    )
  }

  const upload = isUpload(request)
  const maxBodyBytes = upload ? maxUploadBytes : config.maxBodyBytes
  const length = Number(request.headers["content-length"] ?? "0")
  if (Number.isFinite(length) && length > maxBodyBytes) {
    return finish(errorResponse(413, "payload_too_large", "The request body is too large", { maxBytes: maxBodyBytes }))
  }

  const render = (cause: Cause.Cause<unknown>) => renderFailure(request, cause)
  const handled = httpEffect.pipe(
    Effect.catchCause(render),
    // HttpApi answers an unsupported content type with a plain-text 415; a
    // 415 of our own (an upload that is not an image) already has its body.
    Effect.map((response) =>
      response.status === 415 && !isJsonBody(response)
        ? errorResponse(
            415,
            "unsupported_media_type",
            upload ? "The request body must be multipart/form-data" : "The request body must be application/json"
          )
        : response
    )
  )
  const response = yield* (idempotent(request, handled, render) ?? handled).pipe(
    // Also bounds bodies sent without a content-length (chunked).
    Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(maxBodyBytes))
  )
  return finish(HttpCache.apply(config.httpCache, request, response))
})

// The outermost layer of every request: request id, CORS, body limit, the
// error body for anything that escaped the endpoints, and the access log line.
// It runs inside the server span when tracing is on. Runtimes should not add a
// server-level middleware of their own: that forces a span and a slower request
// path on every request even with tracing off (measured: 2.5x fewer req/s).
export const GlobalMiddleware = HttpRouter.middleware(
  Effect.gen(function* () {
    const config = yield* GatewayConfig
    const idempotent = yield* IdempotencyKeys.make
    return Effect.fnUntraced(function* (httpEffect) {
      const request = yield* HttpServerRequest.HttpServerRequest
      const started = yield* Clock.currentTimeMillis
      const incoming = request.headers["x-request-id"]
      const requestId = incoming !== undefined && requestIdPattern.test(incoming) ? incoming : newRequestId()
      // With tracing off there is no span to read a trace id from; the
      // caller's traceparent still ties these lines to its trace.
      const traceId = traceparentPattern.exec(request.headers["traceparent"] ?? "")?.[1]
      const annotations = traceId === undefined ? { requestId } : { requestId, traceId }
      const handled = respond(config, idempotent, request, requestId, httpEffect)
      // Below LOG_LEVEL=info (the bench and most production setups run at
      // warn) the access line would be dropped anyway: not building it cut
      // GET /health's CPU time by more than half (bench/pipeline.ts).
      if (!(yield* LogLevel.isEnabled("Info"))) return yield* Effect.annotateLogs(handled, annotations)
      return yield* Effect.gen(function* () {
        const response = yield* handled
        yield* Effect.logInfo("Sent HTTP response").pipe(
          Effect.annotateLogs({
            method: request.method,
            path: request.url.split("?")[0] ?? request.url,
            status: response.status,
            durationMs: (yield* Clock.currentTimeMillis) - started
          })
        )
        return response
      }).pipe(Effect.annotateLogs(annotations))
    }, unhandled)
  }),
  { global: true }
)
