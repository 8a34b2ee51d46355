import { type Cause, ConfigProvider, Effect, Exit, Layer, Logger } from "effect"
import { AuthConfig } from "@shop/auth/AuthConfig"
import { CartConfig } from "@shop/cart/CartConfig"
import { CouponsConfig } from "@shop/coupons/CouponsConfig"
import { GatewayConfig } from "@shop/gateway/GatewayConfig"
import * as InventoryConfig from "@shop/inventory/InventoryConfig"
import * as Observability from "@shop/observability/Observability"
import { PaypalConfig } from "@shop/payments/PaypalConfig"
import { ObservabilityConfig } from "@shop/observability/Observability"
import * as Settings from "@shop/observability/Settings"

// What each Worker reads, through each service's own declaration of its
// settings. The Worker's env record is the ConfigProvider (never copied into
// process.env or globalThis); this module imports nothing of Cloudflare, so
// the settings table test runs it from Node.

// Only the string values of an env are settings; bindings are passed to the
// layers that use them.
export const configValues = (env: object): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === "string"))

export const provider = (env: object) => ConfigProvider.layer(ConfigProvider.fromEnvRecord(configValues(env)))

/** The gateway Worker: the edge sets cf-connecting-ip, so that is the client address unless CLIENT_IP_HEADER says otherwise. */
export const gateway = Layer.mergeAll(
  GatewayConfig.layerConfigWith({ clientIpHeader: "cf-connecting-ip" }),
  ObservabilityConfig.layerConfig
)

/** The auth Worker: JWT_SECRET comes from `wrangler secret put` (.dev.vars locally) and has no default. */
export const auth = Layer.mergeAll(AuthConfig.layerConfig, ObservabilityConfig.layerConfig)

/** The inventory Worker: HOLD_TTL_SECONDS. */
export const inventory = Layer.mergeAll(InventoryConfig.layerConfig, ObservabilityConfig.layerConfig)

/** The cart Worker's objects: CART_TTL_SECONDS (the idle time after which a cart expires). */
export const cart = Layer.mergeAll(CartConfig.layerConfig, ObservabilityConfig.layerConfig)

/** The coupons Worker: the bad-code throttle (COUPON_*). */
export const coupons = Layer.mergeAll(CouponsConfig.layerConfig, ObservabilityConfig.layerConfig)

/**
 * The payments Worker: PayPal's REST settings (PAYPAL_*). All required but
 * PAYPAL_API_BASE (PayPal's sandbox when unset; http only on loopback, for
 * the fake PayPal of `npm run dev:workers`) and PAYPAL_TIMEOUT_MS.
 */
export const payments = Layer.mergeAll(PaypalConfig.layerConfig, ObservabilityConfig.layerConfig)

/** Any other service Worker. */
export const service = ObservabilityConfig.layerConfig

/** Signs and checks the calls that reach a service Worker by URL (every service Worker has it). */
export const internalSecret = Settings.requiredSecret("INTERNAL_SECRET", 32, "wrangler secret put INTERNAL_SECRET")
export const layerInternalSecret = Layer.effectDiscard(internalSecret)

/**
 * Builds a Worker's settings once from its env and says what is wrong, if
 * anything, in one line naming the setting. A Worker that gets a line answers
 * every request with 500 internal_error and logs the line, rather than dying
 * on each request with a stack trace.
 */
export const check = <A, E>(settings: Layer.Layer<A, E>, env: object): Promise<string | undefined> =>
  // Silent: the Worker logs as it builds its runtime; this only validates.
  Effect.runPromiseExit(
    Layer.build(settings).pipe(Effect.scoped, Effect.provide(provider(env)), Effect.provide(Logger.layer([])))
  ).then((exit) => (Exit.isSuccess(exit) ? undefined : Settings.describeFailure(exit.cause as Cause.Cause<unknown>)))

/** Logs why a Worker cannot start, as one JSON line, and returns the reason (for a binding call to fail with). */
export const refuseCall = (service: string, problem: string): string => {
  Effect.runSync(Effect.logFatal(problem).pipe(Effect.provide(Observability.layerLogger(service))))
  return problem
}

/** The answer of a Worker that cannot start: 500 internal_error, and the reason logged. */
export const refuseRequest = (service: string, problem: string): Response => {
  refuseCall(service, problem)
  return Response.json({ error: "internal_error", message: "Something went wrong on our side" }, { status: 500 })
}
