import { assert, describe, it } from "@effect/vitest"
import * as PaypalFake from "../src/PaypalFake.ts"
import * as WebhookSignature from "../src/WebhookSignature.ts"

// The fake at the HTTP level, as any PayPal client would meet it. The
// provider's own tests (packages/payments) drive it through PaypalProvider.

const base = "https://paypal.test"
const options = {
  clientId: "client-id",
  clientSecret: "client-secret-0123456789",
  webhookId: "WH0FAKE0TEST",
  webhookSecret: "webhook-secret-0123456789abcdef"
}

type Json = Record<string, unknown>
interface Amount {
  readonly currency_code: string
  readonly value: string
}
// The fake's answers, read loosely: each test reads the fields its answer has.
interface Body {
  readonly id: string
  readonly status: string | number
  readonly name: string
  readonly error: string
  readonly access_token: string
  readonly verification_status: string
  readonly eventType: string
  readonly amount: Amount
  readonly details: ReadonlyArray<{ readonly issue: string }>
  readonly links: ReadonlyArray<{ readonly href: string; readonly rel: string; readonly method: string }>
  readonly payer: { readonly payer_id: string }
  readonly purchase_units: ReadonlyArray<{
    readonly amount: Amount
    readonly payments: {
      readonly captures: ReadonlyArray<{ readonly id: string; readonly status: string; readonly amount: Amount }>
      readonly refunds: ReadonlyArray<{ readonly amount: Amount }>
    }
  }>
  readonly requests: Record<string, number>
  readonly deliveries: ReadonlyArray<unknown>
}

const setup = (extra: Partial<PaypalFake.Options> = {}) => {
  const fake = PaypalFake.make({ ...options, ...extra })
  const request = async (
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string> } = {}
  ) => {
    const response = await fake.handler(
      new Request(path.startsWith("http") ? path : `${base}${path}`, {
        method,
        redirect: "manual",
        headers: { "content-type": "application/json", ...init.headers },
        ...(init.body === undefined
          ? {}
          : { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) })
      })
    )
    const text = await response.text()
    const isJson = response.headers.get("content-type")?.includes("json") ?? false
    return { status: response.status, headers: response.headers, body: (isJson ? JSON.parse(text) : { text }) as Body }
  }
  const token = async () => {
    const answer = await fake.handler(
      new Request(`${base}/v1/oauth2/token`, {
        method: "POST",
        headers: { authorization: `Basic ${btoa(`${options.clientId}:${options.clientSecret}`)}` },
        body: new URLSearchParams({ grant_type: "client_credentials" })
      })
    )
    return ((await answer.json()) as Body).access_token
  }
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    request(method, path, { body, headers: { authorization: `Bearer ${await token()}`, ...headers } })
  const order = (extra: Json = {}) => ({
    intent: "CAPTURE",
    purchase_units: [{ reference_id: "pay_1", amount: { currency_code: "USD", value: "10.00" } }],
    payment_source: {
      paypal: {
        experience_context: { return_url: "https://shop.test/back?x=1", cancel_url: "https://shop.test/cancel" }
      }
    },
    ...extra
  })
  const approved = async () => {
    const created = await api("POST", "/v2/checkout/orders", order())
    await request("GET", `/checkoutnow?token=${created.body.id}`)
    return created.body.id
  }
  return { fake, request, token, api, order, approved }
}

describe("the fake PayPal", () => {
  it("hands out tokens for the right client credentials only", async () => {
    const { fake, token } = setup()
    assert.match(await token(), /^A21AA/)
    const wrong = await fake.handler(
      new Request(`${base}/v1/oauth2/token`, {
        method: "POST",
        headers: { authorization: `Basic ${btoa("client-id:wrong")}` },
        body: new URLSearchParams({ grant_type: "client_credentials" })
      })
    )
    assert.strictEqual(wrong.status, 401)
    assert.strictEqual(((await wrong.json()) as Body).error, "invalid_client")
  })

  it("refuses API calls without a valid token, and after the tokens expire", async () => {
    const { request, api, token } = setup()
    const anonymous = await request("POST", "/v2/checkout/orders", { body: {} })
    assert.strictEqual(anonymous.status, 401)
    assert.strictEqual(anonymous.body.name, "AUTHENTICATION_FAILURE")
    const kept = await token()
    assert.strictEqual((await api("GET", "/v2/checkout/orders/NOPE")).status, 404)
    await request("POST", "/__fake/tokens/expire")
    const expired = await request("GET", "/v2/checkout/orders/NOPE", { headers: { authorization: `Bearer ${kept}` } })
    assert.strictEqual(expired.status, 401)
  })

  it("creates orders as PayPal does: payer-action with payment_source, approve with application_context", async () => {
    const { api, order } = setup()
    const current = await api("POST", "/v2/checkout/orders", order(), { prefer: "return=representation" })
    assert.strictEqual(current.status, 201)
    assert.strictEqual(current.body.status, "PAYER_ACTION_REQUIRED")
    assert.match(current.body.id, /^[A-Z0-9]{17}$/)
    assert.deepStrictEqual(current.body.purchase_units[0].amount, { currency_code: "USD", value: "10.00" })
    assert.deepStrictEqual(
      current.body.links.find((link) => link.rel === "payer-action"),
      { href: `${base}/checkoutnow?token=${current.body.id}`, rel: "payer-action", method: "GET" }
    )
    const older = await api("POST", "/v2/checkout/orders", {
      intent: "CAPTURE",
      purchase_units: [{ amount: { currency_code: "JPY", value: "1000" } }],
      application_context: { return_url: "https://shop.test/back", cancel_url: "https://shop.test/cancel" }
    })
    // return=minimal unless asked: id, status and links only.
    assert.deepStrictEqual(Object.keys(older.body).sort(), ["id", "links", "status"])
    assert.strictEqual(older.body.status, "CREATED")
    assert.isDefined(older.body.links.find((link) => link.rel === "approve"))
  })

  it("refuses amounts PayPal refuses", async () => {
    const { api } = setup()
    const amount = (currency_code: string, value: string) =>
      api("POST", "/v2/checkout/orders", { intent: "CAPTURE", purchase_units: [{ amount: { currency_code, value } }] })
    assert.strictEqual((await amount("JPY", "10.50")).body.details[0].issue, "DECIMAL_PRECISION")
    assert.strictEqual((await amount("USD", "1.999")).body.details[0].issue, "DECIMAL_PRECISION")
    assert.strictEqual((await amount("XTS", "1.00")).body.details[0].issue, "CURRENCY_NOT_SUPPORTED")
    assert.strictEqual((await amount("USD", "1e3")).status, 400)
    assert.strictEqual((await amount("USD", "0.00")).status, 400)
  })

  it("approves on the buyer's visit and redirects to the return URL; cancelling goes to the cancel URL", async () => {
    const { api, request, order } = setup()
    const created = (await api("POST", "/v2/checkout/orders", order())).body
    const cancelled = await request("GET", `/checkoutnow?token=${created.id}&action=cancel`)
    assert.strictEqual(cancelled.headers.get("location"), `https://shop.test/cancel?token=${created.id}`)
    assert.strictEqual((await api("GET", `/v2/checkout/orders/${created.id}`)).body.status, "PAYER_ACTION_REQUIRED")
    const approvedAnswer = await request("GET", `/checkoutnow?token=${created.id}`)
    assert.strictEqual(approvedAnswer.status, 302)
    const location = new URL(approvedAnswer.headers.get("location") ?? "")
    assert.strictEqual(location.searchParams.get("x"), "1")
    assert.strictEqual(location.searchParams.get("token"), created.id)
    const read = (await api("GET", `/v2/checkout/orders/${created.id}`)).body
    assert.strictEqual(read.status, "APPROVED")
    assert.strictEqual(location.searchParams.get("PayerID"), read.payer.payer_id)
    assert.isDefined(read.links.find((link) => link.rel === "capture"))
    assert.strictEqual((await request("GET", "/checkoutnow?token=NOPE")).status, 404)
  })

  it("captures approved orders once; the same request id replays the answer", async () => {
    const { api, approved } = setup()
    const id = await approved()
    const headers = { "paypal-request-id": "capture-1", prefer: "return=representation" }
    const first = await api("POST", `/v2/checkout/orders/${id}/capture`, {}, headers)
    assert.strictEqual(first.status, 201)
    assert.strictEqual(first.body.status, "COMPLETED")
    const capture = first.body.purchase_units[0].payments.captures[0]
    assert.deepStrictEqual([capture.status, capture.amount.value], ["COMPLETED", "10.00"])
    const replay = await api("POST", `/v2/checkout/orders/${id}/capture`, {}, headers)
    assert.deepStrictEqual(replay.body, first.body)
    const other = await api("POST", `/v2/checkout/orders/${id}/capture`, {}, { "paypal-request-id": "capture-2" })
    assert.deepStrictEqual([other.status, other.body.details[0].issue], [422, "ORDER_ALREADY_CAPTURED"])
  })

  it("refunds in parts, never above what is left", async () => {
    const { api, approved } = setup()
    const id = await approved()
    const captured = await api("POST", `/v2/checkout/orders/${id}/capture`, {}, { prefer: "return=representation" })
    const captureId = captured.body.purchase_units[0].payments.captures[0].id
    const refund = (amount?: string) =>
      api(
        "POST",
        `/v2/payments/captures/${captureId}/refund`,
        amount === undefined ? {} : { amount: { currency_code: "USD", value: amount } },
        { prefer: "return=representation" }
      )
    assert.deepStrictEqual((await refund("2.50")).body.amount, { currency_code: "USD", value: "2.50" })
    assert.strictEqual((await refund("7.51")).body.details[0].issue, "REFUND_AMOUNT_EXCEEDED")
    assert.deepStrictEqual((await refund()).body.amount, { currency_code: "USD", value: "7.50" })
    assert.strictEqual((await refund()).body.details[0].issue, "CAPTURE_FULLY_REFUNDED")
    const read = (await api("GET", `/v2/checkout/orders/${id}`)).body.purchase_units[0].payments
    assert.strictEqual(read.captures[0].status, "REFUNDED")
    assert.deepStrictEqual(
      read.refunds.map((r) => r.amount.value),
      ["2.50", "7.50"]
    )
    assert.strictEqual((await api("POST", "/v2/payments/captures/NOPE/refund", {})).status, 404)
  })

  it("faults: 5xx and declined as told, for the number of calls told", async () => {
    const { api, request, approved } = setup()
    const id = await approved()
    assert.strictEqual(
      (await request("POST", "/__fake/faults", { body: { step: "capture", mode: "declined", times: 2 } })).status,
      204
    )
    for (let i = 0; i < 2; i++) {
      const declined = await api("POST", `/v2/checkout/orders/${id}/capture`, {})
      assert.deepStrictEqual([declined.status, declined.body.details[0].issue], [422, "INSTRUMENT_DECLINED"])
    }
    await request("POST", "/__fake/faults", { body: { step: "get", mode: "5xx" } })
    assert.strictEqual((await api("GET", `/v2/checkout/orders/${id}`)).status, 503)
    assert.strictEqual((await api("GET", `/v2/checkout/orders/${id}`)).body.status, "APPROVED")
    assert.strictEqual((await api("POST", `/v2/checkout/orders/${id}/capture`, {})).status, 201)
    const refused = [
      { step: "get", mode: "declined" },
      { step: "get", mode: "lost_answer" },
      { step: "nope", mode: "5xx" },
      { step: "get", mode: "5xx", times: 1.5 }
    ]
    for (const body of refused) assert.strictEqual((await request("POST", "/__fake/faults", { body })).status, 400)
    const stats = (await request("GET", "/__fake/stats")).body
    assert.strictEqual(stats.requests.capture, 3)
  })

  it("faults: a timeout holds the answer until the caller gives up, or until hangMs", async () => {
    const { fake, request, token } = setup({ hangMs: 50 })
    const bearer = await token()
    await request("POST", "/__fake/faults", { body: { step: "get", mode: "timeout", times: 2 } })
    const controller = new AbortController()
    const pending = fake.handler(
      new Request(`${base}/v2/checkout/orders/NOPE`, {
        headers: { authorization: `Bearer ${bearer}` },
        signal: controller.signal
      })
    )
    let settled = false
    void pending.then(() => {
      settled = true
    })
    await new Promise((resolve) => setTimeout(resolve, 10))
    assert.isFalse(settled)
    controller.abort()
    await pending
    const started = Date.now()
    const late = await fake.handler(
      new Request(`${base}/v2/checkout/orders/NOPE`, { headers: { authorization: `Bearer ${bearer}` } })
    )
    assert.strictEqual(late.status, 503)
    assert.isAtLeast(Date.now() - started, 40)
  })

  it("faults: a lost answer does the step and withholds the answer", async () => {
    const { fake, request, api, token, approved } = setup({ hangMs: 20 })
    const id = await approved()
    await request("POST", "/__fake/faults", { body: { step: "capture", mode: "lost_answer" } })
    const lost = await fake.handler(
      new Request(`${base}/v2/checkout/orders/${id}/capture`, {
        method: "POST",
        headers: { authorization: `Bearer ${await token()}`, "content-type": "application/json" },
        body: "{}"
      })
    )
    assert.strictEqual(lost.status, 503)
    assert.strictEqual((await api("GET", `/v2/checkout/orders/${id}`)).body.status, "COMPLETED")
  })

  it("reset forgets everything; control: false hides the control API", async () => {
    const { request, api, approved } = setup()
    const id = await approved()
    assert.strictEqual((await request("POST", "/__fake/reset")).status, 204)
    assert.strictEqual((await api("GET", `/v2/checkout/orders/${id}`)).status, 404)
    const hidden = setup({ control: false })
    assert.strictEqual(
      (await hidden.request("POST", "/__fake/faults", { body: { step: "get", mode: "5xx" } })).status,
      404
    )
  })
})

describe("the fake PayPal's webhooks", () => {
  const event = { id: "WH-1", event_type: "PAYMENT.CAPTURE.COMPLETED", resource: { id: "CAP1" } }

  const verification = (signed: { headers: Record<string, string>; body: string }, extra: Json = {}) => ({
    auth_algo: signed.headers["paypal-auth-algo"],
    cert_url: signed.headers["paypal-cert-url"],
    transmission_id: signed.headers["paypal-transmission-id"],
    transmission_sig: signed.headers["paypal-transmission-sig"],
    transmission_time: signed.headers["paypal-transmission-time"],
    webhook_id: options.webhookId,
    webhook_event: JSON.parse(signed.body),
    ...extra
  })

  it("verifies its own signatures, and nothing altered", async () => {
    const { fake, api } = setup()
    const signed = await fake.signWebhook(event)
    assert.strictEqual(signed.headers["paypal-auth-algo"], "HMACSHA256")
    const verify = async (body: Json) =>
      (await api("POST", "/v1/notifications/verify-webhook-signature", body)).body.verification_status
    assert.strictEqual(await verify(verification(signed)), "SUCCESS")
    assert.strictEqual(await verify(verification(signed, { webhook_event: { ...event, id: "WH-2" } })), "FAILURE")
    assert.strictEqual(await verify(verification(signed, { webhook_id: "WH0OTHER" })), "FAILURE")
    assert.strictEqual(await verify(verification(signed, { transmission_time: "2026-01-01T00:00:00Z" })), "FAILURE")
    assert.strictEqual(await verify(verification(signed, { auth_algo: "SHA256withRSA" })), "FAILURE")
    assert.strictEqual(await verify(verification(signed, { transmission_sig: "not base64!" })), "FAILURE")
    const incomplete = await api("POST", "/v1/notifications/verify-webhook-signature", {
      webhook_id: options.webhookId
    })
    assert.strictEqual(incomplete.status, 400)
  })

  it("signatures depend on the secret", async () => {
    const input = { transmissionId: "t1", transmissionTime: "2026-12-02T00:00:00Z", webhookId: "W", body: "{}" }
    const signature = await WebhookSignature.sign({ ...input, secret: "one-secret" })
    assert.isTrue(await WebhookSignature.verify({ ...input, secret: "one-secret", signature }))
    assert.isFalse(await WebhookSignature.verify({ ...input, secret: "another-secret", signature }))
  })

  it("sends events on approve and capture to the webhook URL, and on demand through the control API", async () => {
    const received: Array<{ url: string; headers: Headers; body: string }> = []
    const { fake, request, api, approved } = setup({
      fetch: async (delivery) => {
        received.push({ url: delivery.url, headers: delivery.headers, body: await delivery.text() })
        return new Response(null, { status: 204 })
      }
    })
    await approved()
    await fake.settled()
    assert.strictEqual(received.length, 0)
    assert.strictEqual(
      (await request("PUT", "/__fake/webhook-url", { body: { url: "https://shop.test/hook" } })).status,
      204
    )
    const id = await approved()
    await api("POST", `/v2/checkout/orders/${id}/capture`, {})
    await fake.settled()
    assert.deepStrictEqual(
      received.map((r) => JSON.parse(r.body).event_type),
      ["CHECKOUT.ORDER.APPROVED", "PAYMENT.CAPTURE.COMPLETED"]
    )
    const sent = await request("POST", "/__fake/webhooks", {
      body: { eventType: "PAYMENT.CAPTURE.DENIED", resource: { id: "CAP9" }, url: "https://elsewhere.test/hook" }
    })
    assert.deepStrictEqual([sent.body.status, sent.body.eventType], [204, "PAYMENT.CAPTURE.DENIED"])
    const last = received.at(-1)
    assert.strictEqual(last?.url, "https://elsewhere.test/hook")
    const signed = { headers: Object.fromEntries(last?.headers ?? []), body: last?.body ?? "" }
    const check = await api("POST", "/v1/notifications/verify-webhook-signature", verification(signed))
    assert.strictEqual(check.body.verification_status, "SUCCESS")
    const log = (await request("GET", "/__fake/webhooks")).body.deliveries
    assert.strictEqual(log.length, 3)
  })
})
