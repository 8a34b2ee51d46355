import { Config, Effect, Layer, Option } from "effect"
import { FetchHttpClient } from "effect/http"
import * as Settings from "@shop/observability/Settings"
import { defaultTimeoutMs, PaypalConfig } from "@shop/payments/PaypalConfig"
import * as PaypalProvider from "@shop/payments/PaypalProvider"
import * as PaypalFakeHandler from "@shop/paypal-fake/PaypalFake"
import * as PaypalFakeServer from "./PaypalFake.ts"

// Which PayPal the node process talks to. With PAYPAL_CLIENT_ID set: the
// real PayPal REST API (PAYPAL_API_BASE, default the sandbox) with the
// PAYPAL_* settings. Without it: the fake PayPal (@shop/paypal-fake) on a
// loopback port of this process, announced loudly, whose approve links a
// browser on this machine can follow and whose webhooks come back to this
// shop. No money moves in that mode.

const randomSecret = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(24))
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")
}

// Where the fake delivers its webhooks: this process's own gateway.
const shopOrigin = Config.all({
  port: Config.Port("PORT").pipe(Config.withDefault(8787)),
  host: Config.String("HOST").pipe(Config.withDefault("127.0.0.1"))
}).pipe(
  Config.map(({ host, port }) => {
    const loopback = host === "0.0.0.0" || host === "::" || host === "" ? "127.0.0.1" : host
    return `http://${loopback.includes(":") ? `[${loopback}]` : loopback}:${port}`
  })
)

const fake = Layer.unwrap(
  Effect.gen(function* () {
    const port = yield* Settings.int("PAYPAL_FAKE_PORT", { min: 0, max: 65_535, fallback: 0 })
    const timeoutMs = yield* Settings.int("PAYPAL_TIMEOUT_MS", { min: 100, max: 120_000, fallback: defaultTimeoutMs })
    const origin = yield* shopOrigin
    const credentials = {
      clientId: "fake-paypal-client",
      clientSecret: randomSecret(),
      webhookId: "fake-paypal-webhook",
      webhookSecret: randomSecret()
    }
    const handler = PaypalFakeHandler.make({
      ...credentials,
      webhookUrl: `${origin}/api/payments/paypal/webhook`
    })
    const { url } = yield* PaypalFakeServer.serve(handler.handler, { port })
    yield* Effect.logWarning(
      `PAYPAL SANDBOX MODE: no PAYPAL_CLIENT_ID is set, so payments go to the fake PayPal at ${url} (no real money moves). Set PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET and PAYPAL_WEBHOOK_ID to use PayPal.`
    ).pipe(Effect.annotateLogs({ paypal: "fake", url }))
    return PaypalProvider.layer.pipe(
      Layer.provide(
        PaypalConfig.layer({
          clientId: credentials.clientId,
          clientSecret: credentials.clientSecret,
          webhookId: credentials.webhookId,
          apiBase: url,
          timeoutMs
        })
      )
    )
  })
)

const real = PaypalProvider.layer.pipe(Layer.provide(PaypalConfig.layerConfig))

/** The PaymentProvider of the node process: PayPal, or the fake when no credentials are set. */
export const layer = Layer.unwrap(
  Effect.gen(function* () {
    const clientId = yield* Settings.text("PAYPAL_CLIENT_ID")
    return Option.isSome(clientId) ? real : fake
  })
).pipe(Layer.provide(FetchHttpClient.layer))
