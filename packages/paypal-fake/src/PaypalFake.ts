import * as WebhookSignature from "./WebhookSignature.ts"

// A PayPal that lives in memory, for tests and for machines without PayPal
// credentials. It is a fetch handler, `(request: Request) => Promise<Response>`,
// and uses only what Node and Workers both have (fetch types, WebCrypto,
// timers), so the same fake serves an in-process HttpClient, a loopback
// server, or a Worker.
//
// It speaks the part of PayPal's REST API the shop uses, with PayPal's paths,
// bodies and error shapes:
//
//   POST /v1/oauth2/token                              client credentials (Basic auth)
//   POST /v2/checkout/orders                           create (intent CAPTURE, one purchase unit)
//   GET  /v2/checkout/orders/{id}                      read
//   POST /v2/checkout/orders/{id}/capture              capture (approved orders only)
//   POST /v2/payments/captures/{id}/refund             refund (never above what is left)
//   POST /v1/notifications/verify-webhook-signature    see WebhookSignature.ts
//   GET  /checkoutnow?token={id}                       the buyer approves: 302 to the return URL
//   GET  /checkoutnow?token={id}&action=cancel         the buyer cancels: 302 to the cancel URL
//
// POST, create, capture and refund honour PayPal-Request-Id: the same id
// answers the first answer again and does nothing more.
//
// A control API under /__fake/ lets a test break it on purpose (see `Fault`),
// look at what it saw, and send webhook events:
//
//   POST   /__fake/faults        {step, mode, times?}   the next `times` (1) calls of `step` fail as `mode`
//   DELETE /__fake/faults                               no more faults
//   POST   /__fake/reset                                forget everything (orders, tokens, faults, counts)
//   GET    /__fake/stats                                {requests: {token: n, create: n, ...}, orders, captures}
//   POST   /__fake/tokens/expire                        every access token stops working (PayPal revoked it)
//   PUT    /__fake/webhook-url   {url: string | null}   where events go (approve, capture, refund)
//   POST   /__fake/webhooks      {eventType, resource, url?}  sign and send one event now
//   GET    /__fake/webhooks                             {deliveries: [...]}: what was sent, and the answers
//
// The control API has no authentication: never expose it where the public can
// reach it (`control: false` turns it off).

export type Step = "token" | "create" | "capture" | "get" | "refund" | "verify"

/**
 * How a step fails:
 * - `5xx`: 503 SERVICE_UNAVAILABLE, nothing done;
 * - `timeout`: no answer at all until the caller gives up (nothing done);
 * - `declined`: capture only, 422 INSTRUMENT_DECLINED, the order stays APPROVED;
 * - `lost_answer`: the step is done (the money moves), then no answer, as if
 *   the connection dropped: only reading the order tells what happened.
 */
export type FaultMode = "5xx" | "timeout" | "declined" | "lost_answer"

export interface Fault {
  readonly step: Step
  readonly mode: FaultMode
  readonly times?: number
}

export interface WebhookDelivery {
  readonly url: string
  readonly eventId: string
  readonly eventType: string
  // The receiver's status, or undefined when the request itself failed.
  readonly status: number | undefined
}

export interface Options {
  readonly clientId: string
  readonly clientSecret: string
  readonly webhookId: string
  // Signs the webhook events (WebhookSignature.ts).
  readonly webhookSecret: string
  readonly tokenTtlSeconds?: number
  // The longest a `timeout` or `lost_answer` fault holds an answer back when the caller never gives up.
  readonly hangMs?: number
  readonly webhookUrl?: string
  // Sends webhook events; the platform's fetch unless given.
  readonly fetch?: (request: Request) => Promise<Response>
  // A Worker passes ctx.waitUntil so that deliveries outlive the request that caused them.
  readonly waitUntil?: (promise: Promise<unknown>) => void
  readonly control?: boolean
  readonly now?: () => number
}

export interface PaypalFake {
  // What it was made with: a client configures itself from the same credentials.
  readonly options: Options
  readonly handler: (request: Request) => Promise<Response>
  // A fetch over `handler` with no network, for an HttpClient in the same process.
  readonly fetch: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>
  // The headers and body of one signed delivery of `event`, as the fake would send it.
  readonly signWebhook: (event: object) => Promise<{ readonly headers: Record<string, string>; readonly body: string }>
  // Resolves when every webhook delivery started so far has its answer.
  readonly settled: () => Promise<void>
}

// --- Money, in PayPal's own terms: decimal strings with the currency's decimals.

const currencyDecimals: Record<string, number> = {
  AUD: 2,
  BRL: 2,
  CAD: 2,
  CHF: 2,
  CNY: 2,
  CZK: 2,
  DKK: 2,
  EUR: 2,
  GBP: 2,
  HKD: 2,
  HUF: 0,
  ILS: 2,
  JPY: 0,
  MXN: 2,
  MYR: 2,
  NOK: 2,
  NZD: 2,
  PHP: 2,
  PLN: 2,
  SEK: 2,
  SGD: 2,
  THB: 2,
  TWD: 0,
  USD: 2
}

interface Amount {
  readonly currency_code: string
  readonly value: string
}

// The amount in the currency's smallest unit PayPal accepts, or a PayPal issue code.
const unitsOf = (amount: unknown): bigint | string => {
  if (typeof amount !== "object" || amount === null) return "MISSING_REQUIRED_PARAMETER"
  const { currency_code, value } = amount as Record<string, unknown>
  if (typeof currency_code !== "string" || typeof value !== "string") return "MISSING_REQUIRED_PARAMETER"
  const decimals = currencyDecimals[currency_code]
  if (decimals === undefined) return "CURRENCY_NOT_SUPPORTED"
  const match = /^(\d{1,20})(?:\.(\d{1,20}))?$/.exec(value)
  if (match === null) return "INVALID_PARAMETER_VALUE"
  const fraction = match[2] ?? ""
  if (fraction.length > decimals) return "DECIMAL_PRECISION"
  return BigInt(match[1] ?? "0") * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0")
}

const formatUnits = (units: bigint, currency: string): Amount => {
  const decimals = currencyDecimals[currency] ?? 2
  if (decimals === 0) return { currency_code: currency, value: units.toString() }
  const digits = units.toString().padStart(decimals + 1, "0")
  return { currency_code: currency, value: `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}` }
}

// --- State

interface RefundRecord {
  readonly id: string
  readonly captureId: string
  readonly units: bigint
  readonly currency: string
  readonly createTime: string
}

interface CaptureRecord {
  readonly id: string
  readonly orderId: string
  readonly units: bigint
  readonly currency: string
  readonly createTime: string
  readonly refunds: Array<RefundRecord>
}

interface OrderRecord {
  readonly id: string
  status: "CREATED" | "PAYER_ACTION_REQUIRED" | "APPROVED" | "COMPLETED"
  readonly units: bigint
  readonly currency: string
  readonly referenceId: string
  readonly customId: string | undefined
  readonly returnUrl: string | undefined
  readonly cancelUrl: string | undefined
  // payment_source answers with a "payer-action" link, application_context with "approve".
  readonly approveRel: "payer-action" | "approve"
  readonly createTime: string
  updateTime: string
  payerId: string | undefined
  capture: CaptureRecord | undefined
}

interface Stored {
  readonly status: number
  readonly body: unknown
}

const steps: ReadonlyArray<Step> = ["token", "create", "capture", "get", "refund", "verify"]
const modes: ReadonlyArray<FaultMode> = ["5xx", "timeout", "declined", "lost_answer"]

// --- Answers

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "paypal-debug-id": debugId(), ...headers }
  })

const debugId = () => randomId(13).toLowerCase()

// PayPal's error shape: `{ name, message, debug_id, details: [{ issue, description }] }`.
const problem = (status: number, name: string, issue: string | undefined, message: string) =>
  json(status, {
    name,
    message,
    debug_id: debugId(),
    ...(issue === undefined ? {} : { details: [{ issue, description: message }] })
  })

const notFound = () =>
  problem(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")
const invalid = (issue: string, message: string) => problem(400, "INVALID_REQUEST", issue, message)
const unprocessable = (issue: string, message: string) => problem(422, "UNPROCESSABLE_ENTITY", issue, message)
const unavailable = () => problem(503, "SERVICE_UNAVAILABLE", undefined, "Service unavailable (a fault of the fake).")

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
function randomId(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length))
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("")
}

const readJson = async (request: Request): Promise<Record<string, unknown> | undefined> => {
  const text = await request.text()
  if (text.trim() === "") return {}
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

const field = (value: unknown, ...path: ReadonlyArray<string>): unknown => {
  let current = value
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined)

/** A new fake PayPal with its own state. */
export const make = (options: Options): PaypalFake => {
  const now = options.now ?? Date.now
  const iso = () => new Date(now()).toISOString().replace(/\.\d{3}Z$/, "Z")
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 32_400
  const hangMs = options.hangMs ?? 120_000
  const control = options.control ?? true
  const send = options.fetch ?? ((request: Request) => fetch(request))

  const orders = new Map<string, OrderRecord>()
  const captures = new Map<string, CaptureRecord>()
  const tokens = new Map<string, number>()
  const idempotent = new Map<string, Stored>()
  let faults: Array<{ step: Step; mode: FaultMode; remaining: number }> = []
  let requests: Record<Step, number> = { token: 0, create: 0, capture: 0, get: 0, refund: 0, verify: 0 }
  const deliveries: Array<WebhookDelivery> = []
  const pending = new Set<Promise<unknown>>()
  let webhookUrl = options.webhookUrl

  const takeFault = (step: Step): FaultMode | undefined => {
    requests = { ...requests, [step]: requests[step] + 1 }
    const fault = faults.find((f) => f.step === step && f.remaining > 0)
    if (fault === undefined) return undefined
    fault.remaining -= 1
    faults = faults.filter((f) => f.remaining > 0)
    return fault.mode
  }

  // Holds the answer back until the caller gives up (its signal aborts) or
  // `hangMs` passes, whichever is first.
  const hang = (request: Request) =>
    new Promise<Response>((resolve) => {
      const timer = setTimeout(() => resolve(unavailable()), hangMs)
      const stop = () => {
        clearTimeout(timer)
        resolve(new Response(null, { status: 499 }))
      }
      if (request.signal.aborted) stop()
      else request.signal.addEventListener("abort", stop, { once: true })
    })

  // --- Representations, as PayPal shows them.

  const captureJson = (capture: CaptureRecord) => {
    const refunded = capture.refunds.reduce((sum, r) => sum + r.units, 0n)
    return {
      id: capture.id,
      status: refunded === 0n ? "COMPLETED" : refunded < capture.units ? "PARTIALLY_REFUNDED" : "REFUNDED",
      amount: formatUnits(capture.units, capture.currency),
      final_capture: true,
      supplementary_data: { related_ids: { order_id: capture.orderId } },
      create_time: capture.createTime,
      update_time: capture.refunds.at(-1)?.createTime ?? capture.createTime
    }
  }

  const refundJson = (refund: RefundRecord) => ({
    id: refund.id,
    status: "COMPLETED",
    amount: formatUnits(refund.units, refund.currency),
    create_time: refund.createTime,
    update_time: refund.createTime
  })

  const orderJson = (order: OrderRecord, origin: string) => {
    const self = `${origin}/v2/checkout/orders/${order.id}`
    const approvable = order.status === "CREATED" || order.status === "PAYER_ACTION_REQUIRED"
    return {
      id: order.id,
      intent: "CAPTURE",
      status: order.status,
      ...(order.payerId === undefined
        ? {}
        : {
            payment_source: {
              paypal: {
                email_address: "buyer@example.com",
                account_id: order.payerId,
                name: { given_name: "Fake", surname: "Buyer" }
              }
            },
            payer: { payer_id: order.payerId, email_address: "buyer@example.com" }
          }),
      purchase_units: [
        {
          reference_id: order.referenceId,
          ...(order.customId === undefined ? {} : { custom_id: order.customId }),
          amount: formatUnits(order.units, order.currency),
          payee: { merchant_id: "FAKEMERCHANT0" },
          ...(order.capture === undefined
            ? {}
            : {
                payments: {
                  captures: [captureJson(order.capture)],
                  ...(order.capture.refunds.length === 0 ? {} : { refunds: order.capture.refunds.map(refundJson) })
                }
              })
        }
      ],
      create_time: order.createTime,
      update_time: order.updateTime,
      links: [
        { href: self, rel: "self", method: "GET" },
        ...(approvable
          ? [{ href: `${origin}/checkoutnow?token=${order.id}`, rel: order.approveRel, method: "GET" }]
          : []),
        ...(order.status === "APPROVED" ? [{ href: `${self}/capture`, rel: "capture", method: "POST" }] : [])
      ]
    }
  }

  const minimal = (request: Request, full: Record<string, unknown>) =>
    request.headers.get("prefer")?.includes("return=representation")
      ? full
      : { id: full.id, status: full.status, links: full.links }

  // --- Webhooks

  const signWebhook = async (event: object) => {
    const body = JSON.stringify(event)
    const transmissionId = crypto.randomUUID()
    const transmissionTime = iso()
    const signature = await WebhookSignature.sign({
      secret: options.webhookSecret,
      transmissionId,
      transmissionTime,
      webhookId: options.webhookId,
      body
    })
    return {
      headers: {
        "content-type": "application/json",
        "paypal-auth-algo": WebhookSignature.authAlgo,
        "paypal-cert-url": "https://fake-paypal.invalid/v1/notifications/certs/CERT-FAKE",
        "paypal-transmission-id": transmissionId,
        "paypal-transmission-sig": signature,
        "paypal-transmission-time": transmissionTime
      },
      body
    }
  }

  const eventOf = (eventType: string, resourceType: string, resource: unknown) => ({
    id: `WH-${randomId(17)}`,
    event_version: "1.0",
    create_time: iso(),
    resource_type: resourceType,
    resource_version: "2.0",
    event_type: eventType,
    summary: `${eventType} (fake PayPal)`,
    resource
  })

  const deliver = async (url: string, event: { readonly id: string; readonly event_type: string }) => {
    const signed = await signWebhook(event)
    let status: number | undefined
    try {
      const answer = await send(new Request(url, { method: "POST", headers: signed.headers, body: signed.body }))
      status = answer.status
      await answer.body?.cancel()
    } catch {
      status = undefined
    }
    const delivery = { url, eventId: event.id, eventType: event.event_type, status }
    deliveries.push(delivery)
    return delivery
  }

  // Events follow what happened without holding up its answer, as PayPal's do.
  const emit = (eventType: string, resourceType: string, resource: unknown) => {
    if (webhookUrl === undefined) return
    const delivery = deliver(webhookUrl, eventOf(eventType, resourceType, resource))
    pending.add(delivery)
    void delivery.finally(() => pending.delete(delivery))
    options.waitUntil?.(delivery)
  }

  // --- Authentication

  const issueToken = async (request: Request) => {
    const expected = `Basic ${btoa(`${options.clientId}:${options.clientSecret}`)}`
    if (request.headers.get("authorization") !== expected) {
      return json(401, { error: "invalid_client", error_description: "Client Authentication failed" })
    }
    const form = new URLSearchParams(await request.text())
    if (form.get("grant_type") !== "client_credentials") {
      return json(400, { error: "unsupported_grant_type", error_description: "Grant Type is NULL or not supported" })
    }
    const token = `A21AA${randomId(40)}`
    tokens.set(token, now() + tokenTtlSeconds * 1_000)
    return json(200, {
      scope: "https://uri.paypal.com/services/payments/payment",
      access_token: token,
      token_type: "Bearer",
      app_id: "APP-FAKE",
      expires_in: tokenTtlSeconds,
      nonce: `${iso()}${randomId(8)}`
    })
  }

  const authorized = (request: Request) => {
    const header = request.headers.get("authorization") ?? ""
    const token = header.startsWith("Bearer ") ? header.slice(7) : ""
    const expiresAt = tokens.get(token)
    return expiresAt !== undefined && now() < expiresAt
  }

  const authenticationFailure = () =>
    json(401, {
      name: "AUTHENTICATION_FAILURE",
      message: "Authentication failed due to invalid authentication credentials or a missing Authorization header."
    })

  // --- The API

  const createOrder = async (request: Request, origin: string) => {
    const body = await readJson(request)
    if (body === undefined) return invalid("MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
    if (body.intent !== "CAPTURE") {
      return invalid("INVALID_PARAMETER_VALUE", "The fake PayPal supports intent CAPTURE only.")
    }
    const units = body.purchase_units
    if (!Array.isArray(units) || units.length !== 1) {
      return invalid("INVALID_PARAMETER_VALUE", "The fake PayPal takes exactly one purchase unit.")
    }
    const unit: unknown = units[0]
    const amount = field(unit, "amount")
    const parsed = unitsOf(amount)
    if (typeof parsed === "string") {
      return parsed === "DECIMAL_PRECISION" || parsed === "CURRENCY_NOT_SUPPORTED"
        ? unprocessable(parsed, `The amount is not valid: ${parsed}.`)
        : invalid(parsed, "purchase_units[0].amount is missing or not valid.")
    }
    if (parsed <= 0n) return invalid("INVALID_PARAMETER_VALUE", "The amount must be more than zero.")
    const experience = field(body, "payment_source", "paypal", "experience_context")
    const context = field(body, "application_context")
    const source = experience ?? context
    const id = randomId(17)
    const time = iso()
    const order: OrderRecord = {
      id,
      status: experience === undefined ? "CREATED" : "PAYER_ACTION_REQUIRED",
      units: parsed,
      currency: String(field(amount, "currency_code")),
      referenceId: text(field(unit, "reference_id")) ?? "default",
      customId: text(field(unit, "custom_id")),
      returnUrl: text(field(source, "return_url")),
      cancelUrl: text(field(source, "cancel_url")),
      approveRel: experience === undefined ? "approve" : "payer-action",
      createTime: time,
      updateTime: time,
      payerId: undefined,
      capture: undefined
    }
    orders.set(id, order)
    return json(201, minimal(request, orderJson(order, origin)))
  }

  const captureOrder = (request: Request, origin: string, id: string, fault: FaultMode | undefined) => {
    const order = orders.get(id)
    if (order === undefined) return notFound()
    if (order.status === "COMPLETED") {
      return unprocessable(
        "ORDER_ALREADY_CAPTURED",
        "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed."
      )
    }
    if (order.status !== "APPROVED") {
      return unprocessable(
        "ORDER_NOT_APPROVED",
        "Payer has not yet approved the Order for payment. Please redirect the payer to the approve link."
      )
    }
    if (fault === "declined") {
      return unprocessable(
        "INSTRUMENT_DECLINED",
        "The instrument presented was either declined by the processor or bank, or it can't be used for this payment."
      )
    }
    const capture: CaptureRecord = {
      id: randomId(17),
      orderId: order.id,
      units: order.units,
      currency: order.currency,
      createTime: iso(),
      refunds: []
    }
    captures.set(capture.id, capture)
    order.capture = capture
    order.status = "COMPLETED"
    order.updateTime = capture.createTime
    emit("PAYMENT.CAPTURE.COMPLETED", "capture", captureJson(capture))
    return json(201, minimal(request, orderJson(order, origin)))
  }

  const refundCapture = async (request: Request, id: string) => {
    const capture = captures.get(id)
    if (capture === undefined) return notFound()
    const body = await readJson(request)
    if (body === undefined) return invalid("MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
    const left = capture.units - capture.refunds.reduce((sum, r) => sum + r.units, 0n)
    if (left === 0n) return unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.")
    let units = left
    if (body.amount !== undefined) {
      const parsed = unitsOf(body.amount)
      if (typeof parsed === "string") return invalid(parsed, "amount is not valid.")
      if (field(body.amount, "currency_code") !== capture.currency) {
        return unprocessable("CURRENCY_MISMATCH", "The refund's currency must be the capture's.")
      }
      if (parsed <= 0n) return invalid("INVALID_PARAMETER_VALUE", "The amount must be more than zero.")
      if (parsed > left) {
        return unprocessable(
          "REFUND_AMOUNT_EXCEEDED",
          "The refund amount must be less than or equal to the capture amount that has not yet been refunded."
        )
      }
      units = parsed
    }
    const refund: RefundRecord = {
      id: randomId(17),
      captureId: capture.id,
      units,
      currency: capture.currency,
      createTime: iso()
    }
    capture.refunds.push(refund)
    const order = orders.get(capture.orderId)
    if (order !== undefined) order.updateTime = refund.createTime
    emit("PAYMENT.CAPTURE.REFUNDED", "refund", refundJson(refund))
    return json(201, minimal(request, refundJson(refund)))
  }

  const verifyWebhook = async (request: Request) => {
    const body = await readJson(request)
    if (body === undefined) return invalid("MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
    const names = ["auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time", "webhook_id"]
    const missing = names.find((name) => typeof body[name] !== "string" || body[name] === "")
    if (missing !== undefined || typeof body.webhook_event !== "object" || body.webhook_event === null) {
      return problem(
        400,
        "VALIDATION_ERROR",
        "MISSING_REQUIRED_PARAMETER",
        `${missing ?? "webhook_event"} is required.`
      )
    }
    const valid =
      body.auth_algo === WebhookSignature.authAlgo &&
      body.webhook_id === options.webhookId &&
      (await WebhookSignature.verify({
        secret: options.webhookSecret,
        transmissionId: String(body.transmission_id),
        transmissionTime: String(body.transmission_time),
        webhookId: options.webhookId,
        body: JSON.stringify(body.webhook_event),
        signature: String(body.transmission_sig)
      }))
    return json(200, { verification_status: valid ? "SUCCESS" : "FAILURE" })
  }

  const approve = (url: URL) => {
    const order = orders.get(url.searchParams.get("token") ?? "")
    if (order === undefined) return new Response("No such order", { status: 404 })
    const cancel = url.searchParams.get("action") === "cancel"
    if (!cancel && (order.status === "CREATED" || order.status === "PAYER_ACTION_REQUIRED")) {
      order.status = "APPROVED"
      order.payerId = randomId(13)
      order.updateTime = iso()
      emit("CHECKOUT.ORDER.APPROVED", "checkout-order", orderJson(order, url.origin))
    }
    const target = cancel ? order.cancelUrl : order.returnUrl
    if (target === undefined) {
      return new Response(cancel ? "Payment cancelled" : "Payment approved", { status: 200 })
    }
    const location = new URL(target)
    location.searchParams.set("token", order.id)
    if (!cancel && order.payerId !== undefined) location.searchParams.set("PayerID", order.payerId)
    return new Response(null, { status: 302, headers: { location: location.toString() } })
  }

  // The same PayPal-Request-Id on the same path answers the stored answer.
  const once = async (request: Request, path: string, run: () => Response | Promise<Response>) => {
    const requestId = request.headers.get("paypal-request-id")
    const key = requestId === null ? undefined : `${path} ${requestId}`
    const stored = key === undefined ? undefined : idempotent.get(key)
    if (stored !== undefined) return json(stored.status, stored.body)
    const response = await run()
    // Only successes are kept: a refused request may be sent again once its cause is gone.
    if (key !== undefined && response.ok) {
      idempotent.set(key, { status: response.status, body: await response.clone().json() })
    }
    return response
  }

  // A step of the API, with its fault: `5xx` and `timeout` do nothing, `lost_answer` does the step and hides the answer.
  const faulty = async (request: Request, step: Step, run: (fault: FaultMode | undefined) => Promise<Response>) => {
    const fault = takeFault(step)
    if (fault === "5xx") return unavailable()
    if (fault === "timeout") return hang(request)
    const response = await run(fault)
    return fault === "lost_answer" ? hang(request) : response
  }

  // --- Control

  const controlApi = async (request: Request, path: string) => {
    const method = request.method
    if (path === "/__fake/faults" && method === "POST") {
      const body = await readJson(request)
      const step = body?.step as Step
      const mode = body?.mode as FaultMode
      const times = body?.times ?? 1
      if (!steps.includes(step) || !modes.includes(mode) || typeof times !== "number" || !Number.isInteger(times)) {
        return json(400, { error: `step must be one of ${steps}, mode one of ${modes}, times a whole number` })
      }
      if (mode === "declined" && step !== "capture") return json(400, { error: "only a capture can be declined" })
      if (mode === "lost_answer" && !["create", "capture", "refund"].includes(step)) {
        return json(400, { error: "only create, capture and refund can lose their answer" })
      }
      faults.push({ step, mode, remaining: times })
      return new Response(null, { status: 204 })
    }
    if (path === "/__fake/faults" && method === "DELETE") {
      faults = []
      return new Response(null, { status: 204 })
    }
    if (path === "/__fake/reset" && method === "POST") {
      orders.clear()
      captures.clear()
      tokens.clear()
      idempotent.clear()
      faults = []
      requests = { token: 0, create: 0, capture: 0, get: 0, refund: 0, verify: 0 }
      deliveries.length = 0
      webhookUrl = options.webhookUrl
      return new Response(null, { status: 204 })
    }
    if (path === "/__fake/stats" && method === "GET") {
      return json(200, { requests, orders: orders.size, captures: captures.size })
    }
    if (path === "/__fake/tokens/expire" && method === "POST") {
      tokens.clear()
      return new Response(null, { status: 204 })
    }
    if (path === "/__fake/webhook-url" && method === "PUT") {
      const url = (await readJson(request))?.url
      if (url !== null && (typeof url !== "string" || !URL.canParse(url))) {
        return json(400, { error: "url must be an absolute URL or null" })
      }
      webhookUrl = url ?? undefined
      return new Response(null, { status: 204 })
    }
    if (path === "/__fake/webhooks" && method === "GET") return json(200, { deliveries })
    if (path === "/__fake/webhooks" && method === "POST") {
      const body = await readJson(request)
      const url = text(body?.url) ?? webhookUrl
      const eventType = text(body?.eventType)
      if (url === undefined || !URL.canParse(url) || eventType === undefined) {
        return json(400, { error: "eventType is required, and url unless a webhook URL is set" })
      }
      const resource = body?.resource ?? {}
      const resourceType = text(body?.resourceType) ?? "capture"
      return json(200, await deliver(url, eventOf(eventType, resourceType, resource)))
    }
    return json(404, { error: "no such control endpoint" })
  }

  const route = async (request: Request): Promise<Response> => {
    const url = new URL(request.url)
    const path = url.pathname
    const method = request.method
    if (path.startsWith("/__fake/")) return control ? controlApi(request, path) : notFound()
    if (path === "/checkoutnow" && method === "GET") return approve(url)
    if (path === "/v1/oauth2/token" && method === "POST") {
      return faulty(request, "token", () => issueToken(request))
    }
    const orderMatch = /^\/v2\/checkout\/orders(?:\/([A-Za-z0-9-]+))?(\/capture)?$/.exec(path)
    const refundMatch = /^\/v2\/payments\/captures\/([A-Za-z0-9-]+)\/refund$/.exec(path)
    const verifyPath = path === "/v1/notifications/verify-webhook-signature"
    if (orderMatch === null && refundMatch === null && !verifyPath) return notFound()
    if (!authorized(request)) return authenticationFailure()
    if (verifyPath && method === "POST") return faulty(request, "verify", () => verifyWebhook(request))
    if (refundMatch !== null && method === "POST") {
      const id = refundMatch[1] ?? ""
      return faulty(request, "refund", () => once(request, path, () => refundCapture(request, id)))
    }
    if (orderMatch !== null) {
      const [, id, capture] = orderMatch
      if (id === undefined && method === "POST") {
        return faulty(request, "create", () => once(request, path, () => createOrder(request, url.origin)))
      }
      if (id !== undefined && capture === undefined && method === "GET") {
        return faulty(request, "get", async () => {
          const order = orders.get(id)
          return order === undefined ? notFound() : json(200, orderJson(order, url.origin))
        })
      }
      if (id !== undefined && capture !== undefined && method === "POST") {
        return faulty(request, "capture", (fault) =>
          once(request, path, () => captureOrder(request, url.origin, id, fault))
        )
      }
    }
    return problem(405, "METHOD_NOT_SUPPORTED", undefined, "The server does not implement the requested HTTP method.")
  }

  const handler = (request: Request) =>
    route(request).catch(() => problem(500, "INTERNAL_SERVER_ERROR", undefined, "The fake PayPal failed."))

  return {
    options,
    handler,
    fetch: (input, init) => handler(new Request(input, init)),
    signWebhook,
    settled: async () => {
      while (pending.size > 0) await Promise.all([...pending])
    }
  }
}
