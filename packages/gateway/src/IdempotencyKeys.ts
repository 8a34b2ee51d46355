import { Cause, Effect, Option, Predicate, Schema } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { Auth } from "@shop/auth/Auth"
import { IdempotencyKeyInUse, IdempotencyKeyReused, UpstreamTimeout } from "@shop/domain/Errors"
import { IdempotencyKey, type StoredResponse } from "@shop/domain/Idempotency"
import { Idempotency } from "@shop/idempotency/Idempotency"
import { GatewayConfig } from "./GatewayConfig.ts"
import { makeCall } from "./Upstream.ts"

// API.md, Conventions: a POST that carries an Idempotency-Key runs once per
// key, caller, method and path; a repeat gets the first response again, byte
// for byte, with `Idempotent-Replayed: true`. The records live in the
// idempotency service (the gateway keeps no data): claim before the request,
// complete with its response after, or abandon the key when the request
// failed on our side so that a retry runs again.

export const header = "idempotency-key"
export const replayedHeader = "idempotent-replayed"

const isKey = Schema.is(IdempotencyKey)

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder("utf-8", { fatal: true })

const errorBody = (status: number, error: string, message: string, details?: Record<string, unknown>) =>
  HttpServerResponse.jsonUnsafe(details === undefined ? { error, message } : { error, message, details }, { status })

// The caller's part of the scope. A valid bearer token is its user; no token,
// or one auth refuses, is a guest (the endpoint itself then answers 401 where
// it needs a user). A failure to reach auth is a failure of this request.
const callerOf = (
  auth: Auth["Service"],
  call: ReturnType<typeof makeCall>,
  request: HttpServerRequest.HttpServerRequest
) => {
  const authorization = request.headers.authorization
  if (authorization === undefined) return Effect.succeed("guest")
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1]
  if (token === undefined || token.length > 4096) return Effect.succeed("guest")
  return call(auth.authenticate({ token })).pipe(
    Effect.map((principal) => `user:${principal.userId}`),
    Effect.catchTag("Unauthorized", () => Effect.succeed("guest"))
  )
}

const hex = (buffer: ArrayBuffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("")

// SHA-256 (WebCrypto, on Node and Workers alike) of method, path with query,
// and the body's bytes: a repeat must be the very same request.
const fingerprintOf = (method: string, url: string, body: ArrayBuffer) =>
  Effect.promise(() => {
    const head = textEncoder.encode(`${method} ${url}\n`)
    const bytes = new Uint8Array(head.byteLength + body.byteLength)
    bytes.set(head, 0)
    bytes.set(new Uint8Array(body), head.byteLength)
    return crypto.subtle.digest("SHA-256", bytes)
  }).pipe(Effect.map(hex))

// What is kept of a response, or undefined when it must not be kept: only
// answers the same request would get again. 2xx and 4xx are kept (a refusal
// replays as a refusal), except 429, whose Retry-After says to try again; 5xx
// and bodies that are not text (streams, never sent by a POST endpoint) free
// the key instead.
const toStored = (response: HttpServerResponse.HttpServerResponse): StoredResponse | undefined => {
  const { status } = response
  if (status < 200 || (status >= 300 && status < 400) || status >= 500 || status === 429) return undefined
  const headers: Record<string, string> = { ...response.headers }
  const body = response.body
  let bytes: Uint8Array
  if (body._tag === "Empty") bytes = new Uint8Array()
  else if (body._tag === "Uint8Array") bytes = body.body
  else if (body._tag === "Raw" && typeof body.body === "string") bytes = textEncoder.encode(body.body)
  else if (body._tag === "Raw" && body.body instanceof Uint8Array) bytes = body.body
  else return undefined
  if (body._tag !== "Empty" && body.contentType !== undefined && headers["content-type"] === undefined) {
    headers["content-type"] = body.contentType
  }
  try {
    return { status, headers, body: textDecoder.decode(bytes) }
  } catch {
    return undefined
  }
}

const replay = (stored: StoredResponse) => {
  const { "content-type": contentType, ...headers } = stored.headers
  const withFlag = { ...headers, [replayedHeader]: "true" }
  return stored.body.length === 0 && contentType === undefined
    ? HttpServerResponse.empty({ status: stored.status, headers: withFlag })
    : HttpServerResponse.uint8Array(textEncoder.encode(stored.body), {
        status: stored.status,
        headers: withFlag,
        ...(contentType !== undefined ? { contentType } : {})
      })
}

const refusal = (error: unknown): HttpServerResponse.HttpServerResponse | undefined => {
  if (error instanceof IdempotencyKeyReused) return errorBody(422, error.error, error.message)
  if (error instanceof IdempotencyKeyInUse) {
    return HttpServerResponse.setHeader(
      errorBody(409, error.error, error.message, error.details),
      "retry-after",
      String(error.details.retryAfter)
    )
  }
  if (error instanceof UpstreamTimeout) return errorBody(504, error.error, error.message)
  return undefined
}

/**
 * Runs `handled` (the request, already turned into a response whatever
 * happened) under the request's Idempotency-Key, or `undefined` when the
 * request is not one that takes a key (not a POST, no header): those are
 * left exactly as they were. `render` answers any other failure (a body too
 * large, a service that did not answer) the way every other request's are.
 */
export const make = Effect.gen(function* () {
  const idempotency = yield* Idempotency
  const auth = yield* Auth
  const config = yield* GatewayConfig
  const call = makeCall(config.serviceTimeout)

  return <R>(
    request: HttpServerRequest.HttpServerRequest,
    handled: Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>,
    render: (cause: Cause.Cause<unknown>) => Effect.Effect<HttpServerResponse.HttpServerResponse>
  ): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R> | undefined => {
    if (request.method !== "POST") return undefined
    const key = request.headers[header]
    if (key === undefined) return undefined
    if (!isKey(key)) {
      return Effect.succeed(
        errorBody(400, "validation_error", "Invalid request headers", {
          in: "headers",
          issues: [{ path: header, message: "Expected 1 to 255 visible ASCII characters" }]
        })
      )
    }
    return Effect.gen(function* () {
      // The body is read once here and kept by the request, so the endpoint
      // decodes the same bytes afterwards.
      const body = yield* request.arrayBuffer
      const fingerprint = yield* fingerprintOf(request.method, request.url, body)
      const scope = `${yield* callerOf(auth, call, request)} ${request.method} ${request.url}`
      const claimed = yield* call(idempotency.claim({ scope, key, fingerprint }))
      if (claimed.state === "done") return replay(claimed.response)

      const abandon = call(idempotency.abandon({ scope, key })).pipe(
        Effect.catchCause((cause) => Effect.logWarning("Could not free an idempotency key", cause))
      )
      const response = yield* Effect.onInterrupt(handled, () => abandon)
      const stored = toStored(response)
      if (stored === undefined) {
        yield* abandon
        return response
      }
      // The request has had its effect; a record that cannot be completed
      // stays running until it is stale (a repeat meanwhile is 409), which is
      // logged but does not hide the response from this caller.
      yield* call(idempotency.complete({ scope, key, response: stored })).pipe(
        Effect.catchCause((cause) => Effect.logError("Could not store an idempotent response", cause))
      )
      return response
    }).pipe(
      Effect.catchCause((cause) => {
        const failure = Option.getOrUndefined(Cause.findErrorOption(cause))
        const refused = Predicate.isNotUndefined(failure) ? refusal(failure) : undefined
        return refused !== undefined ? Effect.succeed(refused) : render(cause)
      })
    )
  }
})
