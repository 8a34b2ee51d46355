import { Clock, Effect, Exit, Layer, Option, Redacted, Schema, Semaphore } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import type { Money } from "@shop/domain/Money"
import * as Traced from "@shop/domain/Traced"
import {
  CaptureNotFound,
  type Operation,
  PaymentAlreadyCaptured,
  PaymentDeclined,
  PaymentNotApproved,
  PaymentProviderUnavailable,
  PaymentRejected,
  ProviderOrderNotFound,
  RefundExceedsCaptured,
  type UnavailableReason,
  WebhookVerificationFailed
} from "./PaymentErrors.ts"
import {
  type Capture,
  CaptureStatus,
  PaymentProvider,
  ProviderOrderStatus,
  type Refund,
  RefundStatus
} from "./PaymentProvider.ts"
import { PaypalConfig } from "./PaypalConfig.ts"
import * as PaypalMoney from "./PaypalMoney.ts"

// PaymentProvider over PayPal's REST API (OAuth2 client credentials, Orders
// v2, Payments v2 refunds, webhook signature verification), on effect's
// HttpClient: the runtime provides it (`FetchHttpClient.layer` on Node and in
// Workers). Nothing is retried here except one token refresh after a 401: the
// caller owns the retry budget (a checkout has a hold that expires), and
// every call that moves money carries the caller's request id, so the caller
// can repeat it safely.

// ---------------------------------------------------------------------------
// PayPal's JSON, as much of it as we read. Struct decoding ignores the fields
// not named here, so new fields in PayPal's answers do not break us.

const Amount = Schema.Struct({ currency_code: Schema.String, value: Schema.String })

const TokenBody = Schema.Struct({
  access_token: Schema.String,
  expires_in: Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))
})

const Link = Schema.Struct({ href: Schema.String, rel: Schema.String })

const CaptureBody = Schema.Struct({ id: Schema.String, status: CaptureStatus, amount: Schema.optional(Amount) })
const RefundBody = Schema.Struct({ id: Schema.String, status: RefundStatus, amount: Schema.optional(Amount) })

const PurchaseUnit = Schema.Struct({
  reference_id: Schema.optional(Schema.String),
  amount: Schema.optional(Amount),
  payments: Schema.optional(
    Schema.Struct({
      captures: Schema.optional(Schema.Array(CaptureBody)),
      refunds: Schema.optional(Schema.Array(RefundBody))
    })
  )
})

const OrderBody = Schema.Struct({
  id: Schema.String,
  status: ProviderOrderStatus,
  purchase_units: Schema.optional(Schema.Array(PurchaseUnit)),
  links: Schema.optional(Schema.Array(Link))
})

const VerificationBody = Schema.Struct({ verification_status: Schema.String })

const EventBody = Schema.Struct({
  id: Schema.String,
  event_type: Schema.String,
  resource_type: Schema.optional(Schema.String),
  create_time: Schema.optional(Schema.String),
  resource: Schema.Record(Schema.String, Schema.Unknown)
})

// Errors come as `{ name, message, debug_id, details: [{ issue }] }` from the
// REST APIs and as `{ error, error_description }` from the OAuth endpoint.
const ErrorBody = Schema.Struct({
  name: Schema.optional(Schema.String),
  error: Schema.optional(Schema.String),
  details: Schema.optional(Schema.Array(Schema.Struct({ issue: Schema.String })))
})

const decodeJson = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S) => {
  const decode = Schema.decodeUnknownOption(Schema.fromJsonString(schema))
  return (text: string): Option.Option<S["Type"]> => decode(text)
}
const decodeToken = decodeJson(TokenBody)
const decodeOrder = decodeJson(OrderBody)
const decodeRefund = decodeJson(RefundBody)
const decodeVerification = decodeJson(VerificationBody)
const decodeEvent = decodeJson(EventBody)
const decodeError = decodeJson(ErrorBody)

/** The first issue code of an error answer, or its name, or "UNKNOWN". */
const issueOf = (text: string): string =>
  Option.match(decodeError(text), {
    onNone: () => "UNKNOWN",
    onSome: (body) => body.details?.[0]?.issue ?? body.name ?? body.error ?? "UNKNOWN"
  })

// The funding source failed: PayPal asks to send the buyer back to choose another.
const declinedIssues = new Set([
  "INSTRUMENT_DECLINED",
  "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING",
  "TRANSACTION_REFUSED",
  "PAYER_CANNOT_PAY",
  "CARD_EXPIRED",
  "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED"
])
const notApprovedIssues = new Set(["ORDER_NOT_APPROVED", "PAYER_ACTION_REQUIRED"])
const refundExceedsIssues = new Set([
  "REFUND_AMOUNT_EXCEEDED",
  "CAPTURE_FULLY_REFUNDED",
  "CAPTURED_AMOUNT_FULLY_REFUNDED"
])

const webhookHeaders = [
  "paypal-auth-algo",
  "paypal-cert-url",
  "paypal-transmission-id",
  "paypal-transmission-sig",
  "paypal-transmission-time"
] as const

// A token is used until this long before PayPal says it expires, so that a
// call started just before expiry does not arrive with a dead token.
const refreshMarginMs = 60_000

interface Answer {
  readonly status: number
  readonly text: string
}

const unavailable = (operation: Operation, reason: UnavailableReason) =>
  new PaymentProviderUnavailable({ details: { operation, reason } })

/** An answer that is neither a success nor a refusal of this request: PayPal's trouble, or one we cannot read. */
const unavailableFor = (operation: Operation, answer: Answer) =>
  unavailable(
    operation,
    answer.status === 429 ? "rate_limited" : answer.status >= 500 ? "server_error" : "unexpected_response"
  )

/** The failure for an answer an operation has no better name for: PayPal's trouble, or its refusal. */
const generalFailure = (operation: Operation, answer: Answer) =>
  answer.status >= 400 && answer.status < 500 && answer.status !== 429
    ? new PaymentRejected({ details: { operation, status: answer.status, issue: issueOf(answer.text) } })
    : unavailableFor(operation, answer)

const isSuccess = (answer: Answer) => answer.status >= 200 && answer.status < 300

const toMoney = (operation: Operation, amount: { readonly currency_code: string; readonly value: string }) =>
  Option.match(PaypalMoney.fromPaypalAmount(amount), {
    onNone: () => Effect.fail(unavailable(operation, "unexpected_response")),
    onSome: (money) => Effect.succeed(money)
  })

const read = <A>(operation: Operation, decoded: Option.Option<A>) =>
  Option.match(decoded, {
    onNone: () => Effect.fail(unavailable(operation, "unexpected_response")),
    onSome: (value) => Effect.succeed(value)
  })

const toCapture = Effect.fnUntraced(function* (operation: Operation, body: typeof CaptureBody.Type) {
  const amount = yield* read(operation, Option.fromUndefinedOr(body.amount))
  return { captureId: body.id, amount: yield* toMoney(operation, amount), status: body.status } satisfies Capture
})

const toRefund = Effect.fnUntraced(function* (operation: Operation, body: typeof RefundBody.Type) {
  const amount = body.amount === undefined ? undefined : yield* toMoney(operation, body.amount)
  return (
    amount === undefined
      ? { refundId: body.id, status: body.status }
      : { refundId: body.id, status: body.status, amount }
  ) satisfies Refund
})

const payments = (order: typeof OrderBody.Type) => order.purchase_units?.[0]?.payments

/**
 * The provider; needs `PaypalConfig` and an `HttpClient`. Per layer instance
 * one access token is cached and shared by all calls.
 */
export const layer = Layer.effect(
  PaymentProvider,
  Effect.gen(function* () {
    const config = yield* PaypalConfig
    const http = yield* HttpClient.HttpClient
    const refreshing = yield* Semaphore.make(1)
    let cached: { readonly token: string; readonly refreshAt: number } | undefined

    // One request and its whole answer within the timeout. The trace context
    // stays home: PayPal has no use for our trace ids.
    const exchange = (operation: Operation, request: HttpClientRequest.HttpClientRequest) =>
      http.execute(request).pipe(
        Effect.flatMap((response) =>
          Effect.map(response.text, (text) => ({
            status: response.status,
            text,
            // PayPal support asks for this id when investigating a failure.
            debugId: response.headers["paypal-debug-id"]
          }))
        ),
        Effect.timeout(config.timeoutMs),
        Effect.catchTags({
          TimeoutError: () => Effect.fail(unavailable(operation, "timeout")),
          HttpClientError: () => Effect.fail(unavailable(operation, "network"))
        }),
        Effect.tap((answer) =>
          answer.status >= 500 || answer.status === 429
            ? Effect.logWarning("PayPal answered with an error", {
                operation,
                status: answer.status,
                debugId: answer.debugId
              })
            : Effect.void
        ),
        Effect.provideService(HttpClient.TracerPropagationEnabled, false)
      )

    const requestToken = Effect.gen(function* () {
      // The token's life starts when PayPal issues it, so count from before asking.
      const askedAt = yield* Clock.currentTimeMillis
      const answer = yield* exchange(
        "token",
        HttpClientRequest.post(`${config.apiBase}/v1/oauth2/token`).pipe(
          HttpClientRequest.basicAuth(config.clientId, config.clientSecret),
          HttpClientRequest.acceptJson,
          HttpClientRequest.bodyUrlParams({ grant_type: "client_credentials" })
        )
      )
      if (answer.status === 400 || answer.status === 401) {
        yield* Effect.logError("PayPal refused the client credentials (PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET)")
        return yield* unavailable("token", "authentication")
      }
      if (!isSuccess(answer)) return yield* unavailableFor("token", answer)
      const body = yield* read("token", decodeToken(answer.text))
      const lifetimeMs = body.expires_in * 1_000
      // Short-lived tokens (never seen from PayPal, but allowed) are kept for half their life.
      const refreshAt = askedAt + Math.max(lifetimeMs - refreshMarginMs, lifetimeMs / 2)
      cached = { token: body.access_token, refreshAt }
      return body.access_token
    })

    // Token requests finished so far, and how the last one failed (if it did).
    let finished = 0
    let lastFailure: PaymentProviderUnavailable | undefined

    // A new token, unless another fiber replaced `stale` while this one
    // waited: concurrent callers that find the token missing, expired or
    // refused make one request between them. When that request fails, the
    // callers that waited for it share its failure rather than each trying
    // in turn (twenty timeouts in a row would hold the last one for minutes).
    const refreshToken = (stale: string | undefined) =>
      Effect.suspend(() => {
        const seen = finished
        return refreshing.withPermits(1)(
          Effect.gen(function* () {
            const now = yield* Clock.currentTimeMillis
            if (cached !== undefined && cached.token !== stale && now < cached.refreshAt) return cached.token
            if (finished !== seen && lastFailure !== undefined) return yield* lastFailure
            return yield* requestToken.pipe(
              Effect.onExit((exit) =>
                Effect.sync(() => {
                  finished += 1
                  // An interrupted request tells the others nothing: they ask again.
                  lastFailure = Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit)) : undefined
                })
              )
            )
          })
        )
      })

    const currentToken = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      if (cached !== undefined && now < cached.refreshAt) return cached.token
      return yield* refreshToken(cached?.token)
    })

    // An authorized call. A 401 means PayPal no longer honours our token
    // (revoked, or expired early): refresh once and send again. A second 401
    // is not the token's fault.
    const authorized = Effect.fnUntraced(function* (
      operation: Operation,
      build: (request: HttpClientRequest.HttpClientRequest) => HttpClientRequest.HttpClientRequest,
      method: "GET" | "POST",
      path: string
    ) {
      const send = (token: string) =>
        exchange(
          operation,
          build(
            HttpClientRequest.make(method)(`${config.apiBase}${path}`).pipe(
              HttpClientRequest.bearerToken(Redacted.make(token)),
              HttpClientRequest.acceptJson
            )
          )
        )
      const token = yield* currentToken
      const first = yield* send(token)
      if (first.status !== 401) return first
      const second = yield* send(yield* refreshToken(token))
      if (second.status === 401) return yield* unavailable(operation, "authentication")
      return second
    })

    const idempotent = (requestId: string) => (request: HttpClientRequest.HttpClientRequest) =>
      request.pipe(
        HttpClientRequest.setHeader("PayPal-Request-Id", requestId),
        // The whole order back, not just its id and status: the capture's amount is in it.
        HttpClientRequest.setHeader("Prefer", "return=representation")
      )

    const orderPath = (id: string) => `/v2/checkout/orders/${encodeURIComponent(id)}`

    const createOrder = Traced.fn("PaypalProvider.createOrder")(function* (input: {
      readonly amount: Money
      readonly reference: string
      readonly returnUrl: string
      readonly cancelUrl: string
      readonly requestId: string
    }) {
      yield* Effect.annotateCurrentSpan({ reference: input.reference })
      const amount = yield* PaypalMoney.toPaypalAmount(input.amount)
      const answer = yield* authorized(
        "createOrder",
        (request) =>
          request.pipe(
            idempotent(input.requestId),
            HttpClientRequest.bodyJsonUnsafe({
              intent: "CAPTURE",
              purchase_units: [{ reference_id: input.reference, custom_id: input.reference, amount }],
              // The current way to say where the buyer goes (application_context is deprecated).
              // The shop collects its own shipping address, so PayPal asks for none; the buyer
              // pays on PayPal's page ("Pay Now") and the shop captures on return.
              payment_source: {
                paypal: {
                  experience_context: {
                    return_url: input.returnUrl,
                    cancel_url: input.cancelUrl,
                    user_action: "PAY_NOW",
                    shipping_preference: "NO_SHIPPING"
                  }
                }
              }
            })
          ),
        "POST",
        "/v2/checkout/orders"
      )
      if (!isSuccess(answer)) return yield* generalFailure("createOrder", answer)
      const order = yield* read("createOrder", decodeOrder(answer.text))
      // "payer-action" with payment_source, "approve" with the older application_context.
      const link = order.links?.find((link) => link.rel === "payer-action" || link.rel === "approve")
      const approve = yield* read("createOrder", Option.fromUndefinedOr(link))
      return { providerOrderId: order.id, approveUrl: approve.href, status: order.status }
    })

    const captureOrder = Traced.fn("PaypalProvider.captureOrder")(function* (input: {
      readonly providerOrderId: string
      readonly requestId: string
    }) {
      yield* Effect.annotateCurrentSpan({ providerOrderId: input.providerOrderId })
      const answer = yield* authorized(
        "captureOrder",
        (request) => request.pipe(idempotent(input.requestId), HttpClientRequest.bodyJsonUnsafe({})),
        "POST",
        `${orderPath(input.providerOrderId)}/capture`
      )
      if (answer.status === 404) return yield* new ProviderOrderNotFound({})
      if (answer.status === 422) {
        const issue = issueOf(answer.text)
        if (declinedIssues.has(issue)) return yield* new PaymentDeclined({ details: { issue } })
        if (notApprovedIssues.has(issue)) return yield* new PaymentNotApproved({})
        if (issue === "ORDER_ALREADY_CAPTURED") return yield* new PaymentAlreadyCaptured({})
      }
      if (!isSuccess(answer)) return yield* generalFailure("captureOrder", answer)
      const order = yield* read("captureOrder", decodeOrder(answer.text))
      const body = yield* read("captureOrder", Option.fromUndefinedOr(payments(order)?.captures?.[0]))
      const capture = yield* toCapture("captureOrder", body)
      // PayPal can answer 201 and still decline the capture itself.
      if (capture.status === "DECLINED" || capture.status === "FAILED") {
        return yield* new PaymentDeclined({ details: { issue: `CAPTURE_${capture.status}` } })
      }
      return { providerOrderId: order.id, ...capture }
    })

    const getOrder = Traced.fn("PaypalProvider.getOrder")(function* (input: { readonly providerOrderId: string }) {
      yield* Effect.annotateCurrentSpan({ providerOrderId: input.providerOrderId })
      const answer = yield* authorized("getOrder", (request) => request, "GET", orderPath(input.providerOrderId))
      if (answer.status === 404) return yield* new ProviderOrderNotFound({})
      if (!isSuccess(answer)) return yield* unavailableFor("getOrder", answer)
      const order = yield* read("getOrder", decodeOrder(answer.text))
      const unit = order.purchase_units?.[0]
      const amount = yield* toMoney("getOrder", yield* read("getOrder", Option.fromUndefinedOr(unit?.amount)))
      const captures = yield* Effect.forEach(payments(order)?.captures ?? [], (body) => toCapture("getOrder", body))
      const refunds = yield* Effect.forEach(payments(order)?.refunds ?? [], (body) => toRefund("getOrder", body))
      return {
        providerOrderId: order.id,
        status: order.status,
        amount,
        ...(unit?.reference_id === undefined ? {} : { reference: unit.reference_id }),
        captures,
        refunds
      }
    })

    const refundCapture = Traced.fn("PaypalProvider.refundCapture")(function* (input: {
      readonly captureId: string
      readonly amount?: Money | undefined
      readonly requestId: string
    }) {
      yield* Effect.annotateCurrentSpan({ captureId: input.captureId })
      const amount = input.amount === undefined ? undefined : yield* PaypalMoney.toPaypalAmount(input.amount)
      const answer = yield* authorized(
        "refundCapture",
        (request) =>
          request.pipe(
            idempotent(input.requestId),
            HttpClientRequest.bodyJsonUnsafe(amount === undefined ? {} : { amount })
          ),
        "POST",
        `/v2/payments/captures/${encodeURIComponent(input.captureId)}/refund`
      )
      if (answer.status === 404) return yield* new CaptureNotFound({})
      if (answer.status === 422 && refundExceedsIssues.has(issueOf(answer.text))) {
        return yield* new RefundExceedsCaptured({})
      }
      if (!isSuccess(answer)) return yield* generalFailure("refundCapture", answer)
      return yield* toRefund("refundCapture", yield* read("refundCapture", decodeRefund(answer.text)))
    })

    const verifyWebhook = Traced.fn("PaypalProvider.verifyWebhook")(function* (input: {
      readonly headers: Readonly<Record<string, string>>
      readonly body: string
    }) {
      const lower = new Map(Object.entries(input.headers).map(([name, value]) => [name.toLowerCase(), value]))
      const values = webhookHeaders.map((name) => lower.get(name)?.trim() ?? "")
      if (values.some((value) => value.length === 0)) {
        return yield* new WebhookVerificationFailed({ details: { reason: "missing_headers" } })
      }
      const [authAlgo, certUrl, transmissionId, transmissionSig, transmissionTime] = values
      const event = yield* Option.match(decodeEvent(input.body), {
        onNone: () => Effect.fail(new WebhookVerificationFailed({ details: { reason: "malformed_body" } })),
        onSome: Effect.succeed
      })
      // The event goes back to PayPal as the very text that arrived, not
      // re-serialized: the signature covers those bytes, and JSON.stringify
      // of the parsed event can differ (escapes, number forms, key order).
      // The body parsed as JSON above, so splicing it in keeps the request JSON.
      const fields = [
        `"auth_algo":${JSON.stringify(authAlgo)}`,
        `"cert_url":${JSON.stringify(certUrl)}`,
        `"transmission_id":${JSON.stringify(transmissionId)}`,
        `"transmission_sig":${JSON.stringify(transmissionSig)}`,
        `"transmission_time":${JSON.stringify(transmissionTime)}`,
        `"webhook_id":${JSON.stringify(config.webhookId)}`,
        `"webhook_event":${input.body}`
      ]
      const answer = yield* authorized(
        "verifyWebhook",
        (request) => HttpClientRequest.bodyText(request, `{${fields.join(",")}}`, "application/json"),
        "POST",
        "/v1/notifications/verify-webhook-signature"
      )
      // PayPal answers 400 to a verification request whose header values are malformed.
      if (answer.status === 400 || answer.status === 422) {
        return yield* new WebhookVerificationFailed({ details: { reason: "signature_refused" } })
      }
      if (!isSuccess(answer)) return yield* unavailableFor("verifyWebhook", answer)
      const verification = yield* read("verifyWebhook", decodeVerification(answer.text))
      if (verification.verification_status !== "SUCCESS") {
        yield* Effect.logWarning("A webhook with a refused signature", { transmissionId })
        return yield* new WebhookVerificationFailed({ details: { reason: "signature_refused" } })
      }
      return {
        id: event.id,
        eventType: event.event_type,
        ...(event.resource_type === undefined ? {} : { resourceType: event.resource_type }),
        ...(event.create_time === undefined ? {} : { createTime: event.create_time }),
        resource: event.resource
      }
    })

    return PaymentProvider.of({ createOrder, captureOrder, getOrder, refundCapture, verifyWebhook })
  })
)
