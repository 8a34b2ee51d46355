import { Config, Context, Effect, Layer, Option, Redacted } from "effect"
import * as Settings from "@shop/observability/Settings"

export const sandboxApiBase = "https://api-m.sandbox.paypal.com"
export const defaultTimeoutMs = 10_000

// PayPal's client secrets are about 80 characters; a short one is a paste error.
const minClientSecretLength = 16

// The API base must be https, except on the loopback interface where the fake
// PayPal listens in development: credentials never travel in clear text.
const parseApiBase = (value: string): string | undefined => {
  if (!URL.canParse(value)) return undefined
  const url = new URL(value)
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)
  const schemeOk = url.protocol === "https:" || (url.protocol === "http:" && loopback)
  const bare =
    url.pathname === "/" && url.search === "" && url.hash === "" && url.username === "" && url.password === ""
  return schemeOk && bare ? url.origin : undefined
}

const required = (name: string, hint: string) =>
  Settings.text(name).pipe(
    Config.mapEffect(
      Option.match({
        onNone: () => Effect.fail(Settings.refuse(name, `is required (${hint})`)),
        onSome: Effect.succeed
      })
    )
  )

/**
 * The PayPal REST settings (README, "Configuration"). A runtime that has no
 * PayPal credentials uses the fake PayPal instead and never reads these.
 */
export class PaypalConfig extends Context.Service<
  PaypalConfig,
  {
    readonly clientId: string
    readonly clientSecret: Redacted.Redacted<string>
    // An origin, without a trailing slash: "https://api-m.sandbox.paypal.com".
    readonly apiBase: string
    // The id PayPal gave the webhook subscription: verification asks PayPal about this webhook.
    readonly webhookId: string
    // Every call to PayPal, the token request included, gives up after this long.
    readonly timeoutMs: number
  }
>()("@shop/payments/PaypalConfig") {
  static readonly layerConfig = Layer.effect(
    PaypalConfig,
    Effect.gen(function* () {
      const clientId = yield* required("PAYPAL_CLIENT_ID", "the REST app's client id")
      const clientSecret = yield* Settings.requiredSecret(
        "PAYPAL_CLIENT_SECRET",
        minClientSecretLength,
        "the REST app's secret"
      )
      const apiBase = yield* Settings.parsed(
        "PAYPAL_API_BASE",
        parseApiBase,
        "must be an https origin such as https://api-m.paypal.com (http only on loopback)"
      )
      const webhookId = yield* required("PAYPAL_WEBHOOK_ID", "the id of the webhook subscribed in the PayPal app")
      const timeoutMs = yield* Settings.int("PAYPAL_TIMEOUT_MS", { min: 100, max: 120_000, fallback: defaultTimeoutMs })
      const base = Option.getOrElse(apiBase, () => sandboxApiBase)
      yield* Effect.logInfo(
        base === sandboxApiBase ? "PayPal: the sandbox (PAYPAL_API_BASE is not set)" : `PayPal: ${base}`
      )
      return PaypalConfig.of({ clientId, clientSecret, apiBase: base, webhookId, timeoutMs })
    })
  )

  /** Given values, for tests and for a runtime that points the provider at a fake PayPal. */
  static readonly layer = (config: {
    readonly clientId: string
    readonly clientSecret: string | Redacted.Redacted<string>
    readonly apiBase: string
    readonly webhookId: string
    readonly timeoutMs?: number
  }) =>
    Layer.succeed(
      PaypalConfig,
      PaypalConfig.of({
        clientId: config.clientId,
        clientSecret: Redacted.isRedacted(config.clientSecret)
          ? config.clientSecret
          : Redacted.make(config.clientSecret),
        apiBase: config.apiBase.replace(/\/+$/, ""),
        webhookId: config.webhookId,
        timeoutMs: config.timeoutMs ?? defaultTimeoutMs
      })
    )
}
