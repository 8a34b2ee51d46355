import { Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import type { PaypalFake } from "@shop/paypal-fake/PaypalFake"
import { PaypalConfig } from "./PaypalConfig.ts"
import * as PaypalProvider from "./PaypalProvider.ts"

// The real PayPal provider talking to a fake PayPal in the same process: its
// HttpClient's fetch calls the fake's handler, no socket. For the memory
// runtime and tests; a runtime with a port serves the fake instead
// (runtimes/node/src/PaypalFake.ts) and points PAYPAL_API_BASE at it.

/** Where the in-process fake "lives": the origin of its approve links. */
export const defaultApiBase = "https://paypal.fake"

/** PaymentProvider over `fake`, with the fake's own credentials; needs nothing else. */
export const layer = (fake: PaypalFake, options: { readonly apiBase?: string; readonly timeoutMs?: number } = {}) =>
  PaypalProvider.layer.pipe(
    Layer.provide(
      PaypalConfig.layer({
        clientId: fake.options.clientId,
        clientSecret: fake.options.clientSecret,
        webhookId: fake.options.webhookId,
        apiBase: options.apiBase ?? defaultApiBase,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
      })
    ),
    Layer.provide(FetchHttpClient.layer),
    Layer.provide(Layer.succeed(FetchHttpClient.Fetch, fake.fetch as typeof globalThis.fetch))
  )
