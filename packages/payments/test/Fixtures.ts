import { Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { Currency, type Money } from "@shop/domain/Money"
import * as PaypalFake from "@shop/paypal-fake/PaypalFake"
import { PaymentProvider } from "../src/PaymentProvider.ts"
import { PaypalConfig } from "../src/PaypalConfig.ts"
import * as PaypalFakeProvider from "../src/PaypalFakeProvider.ts"
import * as PaypalProvider from "../src/PaypalProvider.ts"

// The PayPal provider wired to a fake PayPal in the same process: the
// HttpClient's fetch calls the fake's handler, no socket involved.

export const apiBase = "https://paypal.test"
export const credentials = {
  clientId: "shop-client-id",
  clientSecret: "shop-client-secret-0123456789",
  webhookId: "WH0SHOP0TEST",
  webhookSecret: "fake-webhook-signing-secret-0123"
}

export const usd = (amount: number): Money => ({ amount, currency: Currency.make("USD") })
export const jpy = (amount: number): Money => ({ amount, currency: Currency.make("JPY") })

export interface Setup {
  readonly fake: PaypalFake.PaypalFake
  // What the provider's fetch sees; tests may put something in front of the fake.
  readonly fetch?: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>
  readonly clientSecret?: string
  readonly timeoutMs?: number
}

export const makeFake = (options: Partial<PaypalFake.Options> = {}) => PaypalFake.make({ ...credentials, ...options })

export const providerLayer = (setup: Setup) =>
  setup.fetch === undefined && setup.clientSecret === undefined
    ? PaypalFakeProvider.layer(setup.fake, { apiBase, timeoutMs: setup.timeoutMs ?? 5_000 })
    : providerLayerWith(setup)

// The same wiring by hand, for a fetch in front of the fake or credentials the fake refuses.
const providerLayerWith = (setup: Setup) =>
  PaypalProvider.layer.pipe(
    Layer.provide(
      PaypalConfig.layer({
        clientId: credentials.clientId,
        clientSecret: setup.clientSecret ?? credentials.clientSecret,
        apiBase,
        webhookId: credentials.webhookId,
        timeoutMs: setup.timeoutMs ?? 5_000
      })
    ),
    Layer.provide(FetchHttpClient.layer),
    Layer.provide(Layer.succeed(FetchHttpClient.Fetch, (setup.fetch ?? setup.fake.fetch) as typeof globalThis.fetch))
  )

/** Runs `effect` with a provider over `fake`. */
export const withProvider =
  (setup: Setup) =>
  <A, E>(effect: Effect.Effect<A, E, PaymentProvider>) =>
    Effect.provide(effect, providerLayer(setup))

/** A request to the fake's own API (control endpoints, the approve page), as JSON when it has a body. */
export const call = (fake: PaypalFake.PaypalFake, method: string, path: string, body?: unknown) =>
  Effect.promise(() =>
    fake.handler(
      new Request(`${apiBase}${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
      })
    )
  )

export const fault = (fake: PaypalFake.PaypalFake, fault: PaypalFake.Fault) =>
  Effect.asVoid(call(fake, "POST", "/__fake/faults", fault))

export const stats = (fake: PaypalFake.PaypalFake) =>
  Effect.flatMap(call(fake, "GET", "/__fake/stats"), (response) =>
    Effect.promise(
      () =>
        response.json() as Promise<{
          readonly requests: Record<PaypalFake.Step, number>
          readonly orders: number
          readonly captures: number
        }>
    )
  )

export const requestCounts = (fake: PaypalFake.PaypalFake) => Effect.map(stats(fake), (all) => all.requests)

/** The buyer follows the approve link; the fake answers with its redirect. */
export const approve = (fake: PaypalFake.PaypalFake, approveUrl: string) =>
  Effect.promise(() => fake.handler(new Request(approveUrl, { redirect: "manual" })))

let counter = 0
/** A fresh request id: each test intent gets its own. */
export const requestId = (label: string) => `${label}-${++counter}`

export const orderInput = (amount: Money = usd(1999)) => ({
  amount,
  reference: "pay_0001",
  returnUrl: "https://shop.test/checkout/return?step=paypal",
  cancelUrl: "https://shop.test/checkout/cancel",
  requestId: requestId("create")
})

/** An order the buyer approved, ready to capture. */
export const approvedOrder = (fake: PaypalFake.PaypalFake, amount: Money = usd(1999)) =>
  Effect.gen(function* () {
    const provider = yield* PaymentProvider
    const created = yield* provider.createOrder(orderInput(amount))
    yield* approve(fake, created.approveUrl)
    return created.providerOrderId
  })

/** The order as the fake's API shows it, read with a token of its own. */
export const rawOrder = (fake: PaypalFake.PaypalFake, providerOrderId: string) =>
  Effect.promise(async () => {
    const tokenAnswer = await fake.handler(
      new Request(`${apiBase}/v1/oauth2/token`, {
        method: "POST",
        headers: { authorization: `Basic ${btoa(`${credentials.clientId}:${credentials.clientSecret}`)}` },
        body: new URLSearchParams({ grant_type: "client_credentials" })
      })
    )
    const { access_token } = (await tokenAnswer.json()) as { access_token: string }
    const answer = await fake.handler(
      new Request(`${apiBase}/v2/checkout/orders/${providerOrderId}`, {
        headers: { authorization: `Bearer ${access_token}` }
      })
    )
    return (await answer.json()) as { purchase_units: Array<{ amount: { currency_code: string; value: string } }> }
  })
