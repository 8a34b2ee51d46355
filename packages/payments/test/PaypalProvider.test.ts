import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Currency } from "@shop/domain/Money"
import { PaymentProvider } from "../src/PaymentProvider.ts"
import {
  apiBase,
  approve,
  approvedOrder,
  call,
  fault,
  jpy,
  makeFake,
  orderInput,
  rawOrder,
  requestCounts,
  requestId,
  stats,
  usd,
  withProvider
} from "./Fixtures.ts"

describe("PaypalProvider against the fake PayPal", () => {
  it.effect("create, approve, capture, read, refund in part and in full, and never above what was captured", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const created = yield* provider.createOrder(orderInput(usd(1999)))
      assert.strictEqual(created.status, "PAYER_ACTION_REQUIRED")
      assert.strictEqual(created.approveUrl, `${apiBase}/checkoutnow?token=${created.providerOrderId}`)

      const early = yield* Effect.flip(
        provider.captureOrder({ providerOrderId: created.providerOrderId, requestId: requestId("capture") })
      )
      assert.strictEqual(early._tag, "PaymentNotApproved")

      const redirect = yield* approve(fake, created.approveUrl)
      assert.strictEqual(redirect.status, 302)
      const back = new URL(redirect.headers.get("location") ?? "")
      assert.strictEqual(`${back.origin}${back.pathname}`, "https://shop.test/checkout/return")
      assert.strictEqual(back.searchParams.get("step"), "paypal")
      assert.strictEqual(back.searchParams.get("token"), created.providerOrderId)
      assert.match(back.searchParams.get("PayerID") ?? "", /^[A-Z0-9]{13}$/)
      assert.strictEqual((yield* provider.getOrder({ providerOrderId: created.providerOrderId })).status, "APPROVED")

      const capture = yield* provider.captureOrder({
        providerOrderId: created.providerOrderId,
        requestId: requestId("capture")
      })
      assert.deepStrictEqual(
        { ...capture, captureId: "" },
        { providerOrderId: created.providerOrderId, captureId: "", amount: usd(1999), status: "COMPLETED" }
      )

      const completed = yield* provider.getOrder({ providerOrderId: created.providerOrderId })
      assert.strictEqual(completed.status, "COMPLETED")
      assert.strictEqual(completed.reference, "pay_0001")
      assert.deepStrictEqual(completed.amount, usd(1999))
      assert.deepStrictEqual(completed.captures, [
        { captureId: capture.captureId, amount: usd(1999), status: "COMPLETED" }
      ])

      const part = yield* provider.refundCapture({
        captureId: capture.captureId,
        amount: usd(500),
        requestId: requestId("refund")
      })
      assert.strictEqual(part.status, "COMPLETED")
      assert.deepStrictEqual(part.amount, usd(500))

      const tooMuch = yield* Effect.flip(
        provider.refundCapture({ captureId: capture.captureId, amount: usd(1500), requestId: requestId("refund") })
      )
      assert.strictEqual(tooMuch._tag, "RefundExceedsCaptured")

      const rest = yield* provider.refundCapture({ captureId: capture.captureId, requestId: requestId("refund") })
      assert.deepStrictEqual(rest.amount, usd(1499))

      const again = yield* Effect.flip(
        provider.refundCapture({ captureId: capture.captureId, amount: usd(1), requestId: requestId("refund") })
      )
      assert.strictEqual(again._tag, "RefundExceedsCaptured")

      const refunded = yield* provider.getOrder({ providerOrderId: created.providerOrderId })
      assert.strictEqual(refunded.captures[0]?.status, "REFUNDED")
      assert.deepStrictEqual(
        refunded.refunds.map((refund) => [refund.refundId, refund.amount?.amount]),
        [
          [part.refundId, 500],
          [rest.refundId, 1499]
        ]
      )
    }).pipe(withProvider({ fake }))
  })

  it.effect("a capture is done once per request id; another request id finds it captured already", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const providerOrderId = yield* approvedOrder(fake)
      const id = requestId("capture")
      const first = yield* provider.captureOrder({ providerOrderId, requestId: id })
      const repeated = yield* provider.captureOrder({ providerOrderId, requestId: id })
      assert.deepStrictEqual(repeated, first)
      const other = yield* Effect.flip(provider.captureOrder({ providerOrderId, requestId: requestId("capture") }))
      assert.strictEqual(other._tag, "PaymentAlreadyCaptured")
      assert.strictEqual((yield* provider.getOrder({ providerOrderId })).captures.length, 1)
    }).pipe(withProvider({ fake }))
  })

  it.effect("an order is created once per request id, and a refund done once per request id", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const input = orderInput()
      const first = yield* provider.createOrder(input)
      assert.deepStrictEqual(yield* provider.createOrder(input), first)
      yield* approve(fake, first.approveUrl)
      const capture = yield* provider.captureOrder({
        providerOrderId: first.providerOrderId,
        requestId: requestId("capture")
      })
      const refundInput = { captureId: capture.captureId, amount: usd(700), requestId: requestId("refund") }
      const refund = yield* provider.refundCapture(refundInput)
      assert.deepStrictEqual(yield* provider.refundCapture(refundInput), refund)
      assert.strictEqual((yield* provider.getOrder({ providerOrderId: first.providerOrderId })).refunds.length, 1)
    }).pipe(withProvider({ fake }))
  })

  it.effect('yen have no decimals: 1000 JPY is sent as "1000" and captured as 1000', () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const providerOrderId = yield* approvedOrder(fake, jpy(1000))
      assert.deepStrictEqual((yield* rawOrder(fake, providerOrderId)).purchase_units[0]?.amount, {
        currency_code: "JPY",
        value: "1000"
      })
      const capture = yield* provider.captureOrder({ providerOrderId, requestId: requestId("capture") })
      assert.deepStrictEqual(capture.amount, jpy(1000))
      const refund = yield* provider.refundCapture({
        captureId: capture.captureId,
        amount: jpy(1),
        requestId: requestId("refund")
      })
      assert.deepStrictEqual(refund.amount, jpy(1))
    }).pipe(withProvider({ fake }))
  })

  it.effect("an amount PayPal cannot take exactly is refused before anything is sent", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const refused = [
        usd(19.5),
        usd(0),
        usd(-100),
        { amount: 100, currency: Currency.make("XTS") },
        // PayPal takes forints whole only.
        { amount: 12_345, currency: Currency.make("HUF") }
      ]
      for (const amount of refused) {
        const error = yield* Effect.flip(provider.createOrder({ ...orderInput(), amount }))
        assert.strictEqual(error._tag, "InvalidPaymentAmount")
      }
      assert.strictEqual((yield* requestCounts(fake)).create, 0)
    }).pipe(withProvider({ fake }))
  })

  it.effect("unknown orders and captures are typed failures", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const get = yield* Effect.flip(provider.getOrder({ providerOrderId: "NOSUCHORDER000001" }))
      assert.strictEqual(get._tag, "ProviderOrderNotFound")
      const capture = yield* Effect.flip(
        provider.captureOrder({ providerOrderId: "NOSUCHORDER000001", requestId: requestId("capture") })
      )
      assert.strictEqual(capture._tag, "ProviderOrderNotFound")
      const refund = yield* Effect.flip(
        provider.refundCapture({ captureId: "NOSUCHCAPTURE0001", requestId: requestId("refund") })
      )
      assert.strictEqual(refund._tag, "CaptureNotFound")
    }).pipe(withProvider({ fake }))
  })
})

describe("PaypalProvider access token", () => {
  it.effect("is fetched once, reused until shortly before it expires, then fetched again (TestClock)", () => {
    const fake = makeFake({ tokenTtlSeconds: 3_600 })
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const created = yield* provider.createOrder(orderInput())
      const read = provider.getOrder({ providerOrderId: created.providerOrderId })
      yield* read
      yield* read
      assert.strictEqual((yield* requestCounts(fake)).token, 1)
      // Kept until a minute before PayPal's expiry.
      yield* TestClock.adjust("58 minutes")
      yield* read
      assert.strictEqual((yield* requestCounts(fake)).token, 1)
      // Past that minute's start: a new one, then reused.
      yield* TestClock.adjust("90 seconds")
      yield* read
      yield* read
      assert.strictEqual((yield* requestCounts(fake)).token, 2)
    }).pipe(withProvider({ fake }))
  })

  it.effect("20 concurrent calls without a token fetch one between them", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const errors = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => i),
        () => Effect.flip(provider.getOrder({ providerOrderId: "NOSUCHORDER000001" })),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(new Set(errors.map((error) => error._tag)), new Set(["ProviderOrderNotFound"]))
      const counts = yield* requestCounts(fake)
      assert.strictEqual(counts.token, 1)
      assert.strictEqual(counts.get, 20)
    }).pipe(withProvider({ fake }))
  })

  it.effect("calls waiting for a token share the failure of its request, and the next call asks again", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      yield* fault(fake, { step: "token", mode: "5xx" })
      const errors = yield* Effect.forEach(
        Array.from({ length: 5 }, (_, i) => i),
        () => Effect.flip(provider.getOrder({ providerOrderId: "NOSUCHORDER000001" })),
        { concurrency: "unbounded" }
      )
      for (const error of errors) {
        assert.deepStrictEqual(error._tag === "PaymentProviderUnavailable" && error.details, {
          operation: "token",
          reason: "server_error"
        })
      }
      assert.strictEqual((yield* requestCounts(fake)).token, 1)
      const later = yield* Effect.flip(provider.getOrder({ providerOrderId: "NOSUCHORDER000001" }))
      assert.strictEqual(later._tag, "ProviderOrderNotFound")
      assert.strictEqual((yield* requestCounts(fake)).token, 2)
    }).pipe(withProvider({ fake }))
  })

  it.effect("a token PayPal stopped honouring is refreshed once, for all the calls that met it", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const created = yield* provider.createOrder(orderInput())
      yield* call(fake, "POST", "/__fake/tokens/expire")
      const orders = yield* Effect.forEach(
        Array.from({ length: 10 }, (_, i) => i),
        () => provider.getOrder({ providerOrderId: created.providerOrderId }),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(orders.length, 10)
      assert.strictEqual((yield* requestCounts(fake)).token, 2)
    }).pipe(withProvider({ fake }))
  })

  it.effect("a second 401 after a refresh, and refused client credentials, are authentication failures", () => {
    const fake = makeFake()
    // In front of the fake: every API call is refused, the token endpoint works.
    const refusing = (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init)
      return new URL(request.url).pathname === "/v1/oauth2/token"
        ? fake.handler(request)
        : Promise.resolve(new Response(JSON.stringify({ name: "AUTHENTICATION_FAILURE" }), { status: 401 }))
    }
    return Effect.gen(function* () {
      const refused = yield* Effect.flip(
        Effect.gen(function* () {
          const provider = yield* PaymentProvider
          return yield* provider.getOrder({ providerOrderId: "ANYORDER000000001" })
        }).pipe(withProvider({ fake, fetch: refusing }))
      )
      assert.deepStrictEqual(refused._tag === "PaymentProviderUnavailable" && refused.details, {
        operation: "getOrder",
        reason: "authentication"
      })
      assert.strictEqual((yield* requestCounts(fake)).token, 2)

      const badSecret = yield* Effect.flip(
        Effect.gen(function* () {
          const provider = yield* PaymentProvider
          return yield* provider.createOrder(orderInput())
        }).pipe(withProvider({ fake, clientSecret: "not-the-right-secret-000" }))
      )
      assert.deepStrictEqual(badSecret._tag === "PaymentProviderUnavailable" && badSecret.details, {
        operation: "token",
        reason: "authentication"
      })
    })
  })
})

describe("PaypalProvider when PayPal fails", () => {
  // Live clock: a hanging fake answer is given up on after a short real timeout.
  const timeoutMs = 150

  it.live("5xx on each step is 'unavailable: server_error', naming the step", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      yield* fault(fake, { step: "token", mode: "5xx" })
      const token = yield* Effect.flip(provider.createOrder(orderInput()))
      assert.deepStrictEqual(token._tag === "PaymentProviderUnavailable" && token.details, {
        operation: "token",
        reason: "server_error"
      })
      yield* fault(fake, { step: "create", mode: "5xx" })
      const create = yield* Effect.flip(provider.createOrder(orderInput()))
      assert.deepStrictEqual(create._tag === "PaymentProviderUnavailable" && create.details, {
        operation: "createOrder",
        reason: "server_error"
      })
      const providerOrderId = yield* approvedOrder(fake)
      yield* fault(fake, { step: "capture", mode: "5xx" })
      const captureId = requestId("capture")
      const capture = yield* Effect.flip(provider.captureOrder({ providerOrderId, requestId: captureId }))
      assert.deepStrictEqual(capture._tag === "PaymentProviderUnavailable" && capture.details, {
        operation: "captureOrder",
        reason: "server_error"
      })
      // Nothing was captured, and the same request goes through once PayPal is back.
      assert.strictEqual((yield* provider.getOrder({ providerOrderId })).status, "APPROVED")
      const captured = yield* provider.captureOrder({ providerOrderId, requestId: captureId })
      yield* fault(fake, { step: "refund", mode: "5xx" })
      const refund = yield* Effect.flip(
        provider.refundCapture({ captureId: captured.captureId, requestId: requestId("refund") })
      )
      assert.deepStrictEqual(refund._tag === "PaymentProviderUnavailable" && refund.details, {
        operation: "refundCapture",
        reason: "server_error"
      })
    }).pipe(withProvider({ fake, timeoutMs }))
  })

  it.live("no answer in time is 'unavailable: timeout'", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const providerOrderId = yield* approvedOrder(fake)
      yield* fault(fake, { step: "get", mode: "timeout" })
      const get = yield* Effect.flip(provider.getOrder({ providerOrderId }))
      assert.deepStrictEqual(get._tag === "PaymentProviderUnavailable" && get.details, {
        operation: "getOrder",
        reason: "timeout"
      })
      yield* fault(fake, { step: "capture", mode: "timeout" })
      const capture = yield* Effect.flip(provider.captureOrder({ providerOrderId, requestId: requestId("capture") }))
      assert.deepStrictEqual(capture._tag === "PaymentProviderUnavailable" && capture.details, {
        operation: "captureOrder",
        reason: "timeout"
      })
      assert.strictEqual((yield* provider.getOrder({ providerOrderId })).status, "APPROVED")
    }).pipe(withProvider({ fake, timeoutMs }))
  })

  it.live("a declined capture is PaymentDeclined and leaves the order approved for another try", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const providerOrderId = yield* approvedOrder(fake)
      yield* fault(fake, { step: "capture", mode: "declined" })
      const declined = yield* Effect.flip(provider.captureOrder({ providerOrderId, requestId: requestId("capture") }))
      assert.deepStrictEqual(declined._tag === "PaymentDeclined" && declined.details, { issue: "INSTRUMENT_DECLINED" })
      assert.strictEqual((yield* provider.getOrder({ providerOrderId })).status, "APPROVED")
      const capture = yield* provider.captureOrder({ providerOrderId, requestId: requestId("capture") })
      assert.strictEqual(capture.status, "COMPLETED")
    }).pipe(withProvider({ fake, timeoutMs }))
  })

  it.live("a capture whose answer is lost is found on the order, and its request id answers it again", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const providerOrderId = yield* approvedOrder(fake)
      yield* fault(fake, { step: "capture", mode: "lost_answer" })
      const id = requestId("capture")
      const lost = yield* Effect.flip(provider.captureOrder({ providerOrderId, requestId: id }))
      assert.deepStrictEqual(lost._tag === "PaymentProviderUnavailable" && lost.details, {
        operation: "captureOrder",
        reason: "timeout"
      })
      const order = yield* provider.getOrder({ providerOrderId })
      assert.strictEqual(order.status, "COMPLETED")
      assert.strictEqual(order.captures.length, 1)
      assert.deepStrictEqual(order.captures[0]?.amount, usd(1999))
      const replay = yield* provider.captureOrder({ providerOrderId, requestId: id })
      assert.strictEqual(replay.captureId, order.captures[0]?.captureId)
    }).pipe(withProvider({ fake, timeoutMs }))
  })

  it.live("an order whose creation answer was lost is the one a retry with the same request id gets", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      yield* fault(fake, { step: "create", mode: "lost_answer" })
      const input = orderInput()
      const lost = yield* Effect.flip(provider.createOrder(input))
      assert.strictEqual(lost._tag, "PaymentProviderUnavailable")
      const retried = yield* provider.createOrder(input)
      assert.strictEqual(retried.status, "PAYER_ACTION_REQUIRED")
      assert.strictEqual((yield* stats(fake)).orders, 1)
    }).pipe(withProvider({ fake, timeoutMs }))
  })

  it.live("a refund whose answer is lost is found on the order", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const providerOrderId = yield* approvedOrder(fake)
      const capture = yield* provider.captureOrder({ providerOrderId, requestId: requestId("capture") })
      yield* fault(fake, { step: "refund", mode: "lost_answer" })
      const lost = yield* Effect.flip(
        provider.refundCapture({ captureId: capture.captureId, amount: usd(999), requestId: requestId("refund") })
      )
      assert.strictEqual(lost._tag, "PaymentProviderUnavailable")
      const order = yield* provider.getOrder({ providerOrderId })
      assert.deepStrictEqual(
        order.refunds.map((refund) => refund.amount),
        [usd(999)]
      )
      assert.strictEqual(order.captures[0]?.status, "PARTIALLY_REFUNDED")
    }).pipe(withProvider({ fake, timeoutMs }))
  })

  it.effect("the timeout follows the Clock (TestClock), and a hanging call is abandoned when it fires", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const created = yield* provider.createOrder(orderInput())
      yield* fault(fake, { step: "get", mode: "timeout" })
      const fiber = yield* Effect.forkChild(
        Effect.flip(provider.getOrder({ providerOrderId: created.providerOrderId }))
      )
      // Wait until the request is at the fake, then let the timeout pass.
      while ((yield* requestCounts(fake)).get === 0) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 1)))
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(fiber)
      assert.deepStrictEqual(error._tag === "PaymentProviderUnavailable" && error.details, {
        operation: "getOrder",
        reason: "timeout"
      })
    }).pipe(withProvider({ fake, timeoutMs: 5_000 }))
  })
})

describe("PaypalProvider webhooks", () => {
  const captureEvent = {
    id: "WH-58D329510W468432D-8HN650336L201105X",
    event_version: "1.0",
    create_time: "2026-12-02T01:00:00Z",
    resource_type: "capture",
    event_type: "PAYMENT.CAPTURE.COMPLETED",
    resource: { id: "7TK53561MB803214S", status: "COMPLETED", amount: { currency_code: "USD", value: "19.99" } }
  }

  it.effect("a signed event is verified and read; a tampered body or signature is refused", () => {
    const fake = makeFake()
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const signed = yield* Effect.promise(() => fake.signWebhook(captureEvent))
      const event = yield* provider.verifyWebhook(signed)
      assert.deepStrictEqual(event, {
        id: captureEvent.id,
        eventType: "PAYMENT.CAPTURE.COMPLETED",
        resourceType: "capture",
        createTime: captureEvent.create_time,
        resource: captureEvent.resource
      })

      // Header names arrive in any case.
      const shouting = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toUpperCase(), v]))
      assert.strictEqual((yield* provider.verifyWebhook({ headers: shouting, body: signed.body })).id, captureEvent.id)

      const tampered = yield* Effect.flip(
        provider.verifyWebhook({ headers: signed.headers, body: signed.body.replace("19.99", "0.01") })
      )
      assert.deepStrictEqual(tampered._tag === "WebhookVerificationFailed" && tampered.details, {
        reason: "signature_refused"
      })

      const other = yield* Effect.promise(() => fake.signWebhook({ ...captureEvent, id: "WH-OTHER" }))
      const swapped = yield* Effect.flip(
        provider.verifyWebhook({
          headers: { ...signed.headers, "paypal-transmission-sig": other.headers["paypal-transmission-sig"] ?? "" },
          body: signed.body
        })
      )
      assert.strictEqual(swapped._tag, "WebhookVerificationFailed")

      const { "paypal-transmission-sig": _, ...unsigned } = signed.headers
      const missing = yield* Effect.flip(provider.verifyWebhook({ headers: unsigned, body: signed.body }))
      assert.deepStrictEqual(missing._tag === "WebhookVerificationFailed" && missing.details, {
        reason: "missing_headers"
      })

      const malformed = yield* Effect.flip(provider.verifyWebhook({ headers: signed.headers, body: "{not json" }))
      assert.deepStrictEqual(malformed._tag === "WebhookVerificationFailed" && malformed.details, {
        reason: "malformed_body"
      })
      // Missing headers and a malformed body are refused without asking PayPal.
      assert.strictEqual((yield* requestCounts(fake)).verify, 4)
    }).pipe(withProvider({ fake }))
  })

  it.effect("the events the fake sends on approve, capture and refund verify", () => {
    const received: Array<Request> = []
    const fake = makeFake({
      webhookUrl: "https://shop.test/api/payments/paypal/webhook",
      fetch: async (request) => {
        received.push(request)
        return new Response(null, { status: 200 })
      }
    })
    return Effect.gen(function* () {
      const provider = yield* PaymentProvider
      const providerOrderId = yield* approvedOrder(fake)
      const capture = yield* provider.captureOrder({ providerOrderId, requestId: requestId("capture") })
      yield* provider.refundCapture({ captureId: capture.captureId, requestId: requestId("refund") })
      yield* Effect.promise(() => fake.settled())
      const events = yield* Effect.forEach(received, (request) =>
        Effect.flatMap(
          Effect.promise(() => request.text()),
          (body) => provider.verifyWebhook({ headers: Object.fromEntries(request.headers), body })
        )
      )
      // Each delivery is signed asynchronously, so under load they may arrive
      // in another order than the steps that caused them: compared as a set.
      assert.deepStrictEqual(events.map((event) => event.eventType).sort(), [
        "CHECKOUT.ORDER.APPROVED",
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.REFUNDED"
      ])
      assert.strictEqual(
        events.find((event) => event.eventType === "PAYMENT.CAPTURE.COMPLETED")?.resource.id,
        capture.captureId
      )
    }).pipe(withProvider({ fake }))
  })
})
