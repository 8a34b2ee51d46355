import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Redacted } from "effect"
import * as Settings from "@shop/observability/Settings"
import { defaultTimeoutMs, PaypalConfig, sandboxApiBase } from "../src/PaypalConfig.ts"

const complete = {
  PAYPAL_CLIENT_ID: "AbCdEf-client-id",
  PAYPAL_CLIENT_SECRET: "EFGH-the-client-secret-0123456789",
  PAYPAL_WEBHOOK_ID: "8PT597110X687430LKGECATA"
}

const read = (env: Record<string, string>) =>
  Effect.exit(
    Effect.gen(function* () {
      return yield* PaypalConfig
    }).pipe(
      Effect.provide(PaypalConfig.layerConfig),
      Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))
    )
  )

const refusal = Effect.fnUntraced(function* (env: Record<string, string>) {
  const exit = yield* read(env)
  return Exit.isFailure(exit) ? Settings.describeFailure(exit.cause) : "accepted"
})

describe("PaypalConfig", () => {
  it.effect("reads the settings, with the sandbox and a 10 s timeout by default", () =>
    Effect.gen(function* () {
      const exit = yield* read(complete)
      assert.isTrue(Exit.isSuccess(exit))
      if (Exit.isSuccess(exit)) {
        const config = exit.value
        assert.strictEqual(config.clientId, "AbCdEf-client-id")
        assert.strictEqual(Redacted.value(config.clientSecret), complete.PAYPAL_CLIENT_SECRET)
        assert.notInclude(String(config.clientSecret), "EFGH")
        assert.strictEqual(config.apiBase, sandboxApiBase)
        assert.strictEqual(config.webhookId, complete.PAYPAL_WEBHOOK_ID)
        assert.strictEqual(config.timeoutMs, defaultTimeoutMs)
      }
      const live = yield* read({ ...complete, PAYPAL_API_BASE: "https://api-m.paypal.com/", PAYPAL_TIMEOUT_MS: "2500" })
      assert.deepStrictEqual(
        Exit.map(live, (config) => [config.apiBase, config.timeoutMs]),
        Exit.succeed(["https://api-m.paypal.com", 2500])
      )
      // A fake PayPal on the loopback interface may be plain http.
      const local = yield* read({ ...complete, PAYPAL_API_BASE: "http://127.0.0.1:8788" })
      assert.deepStrictEqual(
        Exit.map(local, (config) => config.apiBase),
        Exit.succeed("http://127.0.0.1:8788")
      )
    })
  )

  it.effect("refuses missing credentials and unsafe or odd API bases, naming the setting", () =>
    Effect.gen(function* () {
      const { PAYPAL_CLIENT_ID: _, ...noId } = complete
      assert.strictEqual(
        yield* refusal(noId),
        "Invalid configuration: PAYPAL_CLIENT_ID: is required (the REST app's client id)"
      )
      assert.strictEqual(
        yield* refusal({ ...complete, PAYPAL_CLIENT_SECRET: "short" }),
        "Invalid configuration: PAYPAL_CLIENT_SECRET: must be at least 16 characters long"
      )
      assert.strictEqual(
        yield* refusal({ ...complete, PAYPAL_WEBHOOK_ID: " " }),
        "Invalid configuration: PAYPAL_WEBHOOK_ID: is required (the id of the webhook subscribed in the PayPal app)"
      )
      for (const base of ["http://api-m.paypal.com", "https://api-m.paypal.com/v2", "api-m.paypal.com", "ftp://x"]) {
        assert.match(
          yield* refusal({ ...complete, PAYPAL_API_BASE: base }),
          /^Invalid configuration: PAYPAL_API_BASE: /
        )
      }
      assert.match(
        yield* refusal({ ...complete, PAYPAL_TIMEOUT_MS: "10" }),
        /^Invalid configuration: PAYPAL_TIMEOUT_MS: must be a whole number from 100 to 120000/
      )
    })
  )
})
