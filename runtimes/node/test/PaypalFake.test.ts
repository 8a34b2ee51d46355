import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { Currency } from "@shop/domain/Money"
import { PaymentProvider } from "@shop/payments/PaymentProvider"
import { PaypalConfig } from "@shop/payments/PaypalConfig"
import * as PaypalProvider from "@shop/payments/PaypalProvider"
import * as PaypalFakeHandler from "@shop/paypal-fake/PaypalFake"
import * as PaypalFake from "../src/PaypalFake.ts"

// The PayPal provider and the fake PayPal over a real loopback socket: what
// the in-process tests (packages/payments) cannot show is that the fake's
// links, redirects and held answers work through Node's HTTP server and fetch.

const credentials = {
  clientId: "loopback-client",
  clientSecret: "loopback-client-secret-0123",
  webhookId: "WH0LOOPBACK"
}

describe("the fake PayPal on a loopback socket", () => {
  it.live("create, approve in the browser's place, capture, a timeout given up on, and a read", () =>
    Effect.gen(function* () {
      const fake = PaypalFakeHandler.make({ ...credentials, webhookSecret: "loopback-webhook-secret-0123" })
      const { url } = yield* PaypalFake.serve(fake.handler)
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
      const provider = yield* Effect.gen(function* () {
        return yield* PaymentProvider
      }).pipe(
        Effect.provide(
          PaypalProvider.layer.pipe(
            Layer.provide(PaypalConfig.layer({ ...credentials, apiBase: url, timeoutMs: 300 })),
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
      const amount = { amount: 4250, currency: Currency.make("EUR") }
      const created = yield* provider.createOrder({
        amount,
        reference: "pay_loopback",
        returnUrl: "https://shop.test/return",
        cancelUrl: "https://shop.test/cancel",
        requestId: "create-loopback"
      })
      assert.isTrue(created.approveUrl.startsWith(`${url}/checkoutnow?token=`))
      const redirect = yield* Effect.promise(() => fetch(created.approveUrl, { redirect: "manual" }))
      assert.strictEqual(redirect.status, 302)
      assert.strictEqual(
        redirect.headers.get("location")?.startsWith(`https://shop.test/return?token=${created.providerOrderId}`),
        true
      )

      // The connection closes when the provider gives up; the fake stops holding the answer.
      yield* Effect.promise(() =>
        fetch(`${url}/__fake/faults`, { method: "POST", body: JSON.stringify({ step: "capture", mode: "timeout" }) })
      )
      const timedOut = yield* Effect.flip(
        provider.captureOrder({ providerOrderId: created.providerOrderId, requestId: "capture-loopback" })
      )
      assert.deepStrictEqual(timedOut._tag === "PaymentProviderUnavailable" && timedOut.details, {
        operation: "captureOrder",
        reason: "timeout"
      })

      const capture = yield* provider.captureOrder({
        providerOrderId: created.providerOrderId,
        requestId: "capture-loopback"
      })
      assert.deepStrictEqual([capture.status, capture.amount], ["COMPLETED", amount])
      const order = yield* provider.getOrder({ providerOrderId: created.providerOrderId })
      assert.deepStrictEqual(
        order.captures.map((c) => c.captureId),
        [capture.captureId]
      )
    }).pipe(Effect.scoped)
  )
})
