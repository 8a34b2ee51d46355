import { Duration, Effect, Exit, type Layer, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { AuthConfig } from "@shop/auth/AuthConfig"
import { CartConfig } from "@shop/cart/CartConfig"
import { CouponsConfig } from "@shop/coupons/CouponsConfig"
import { GatewayConfig } from "@shop/gateway/GatewayConfig"
import { InventoryConfig } from "@shop/inventory/InventoryConfig"
import { ObservabilityConfig } from "@shop/observability/Observability"
import { describeFailure } from "@shop/observability/Settings"

// One table of settings, run through each runtime's own configuration (the
// layers its entry point uses, over its own kind of ConfigProvider), so that
// a value means the same and is refused the same way on every runtime.

/** What a runtime made of its settings, in plain values. */
export interface Summary {
  readonly logLevel: string
  readonly corsOrigins: ReadonlyArray<string>
  readonly serviceTimeoutMs: number
  readonly clientIpHeader: string | null
  readonly adminSignup: boolean
  readonly jwtSecret: string
  readonly tokenTtlSeconds: number
  readonly passwordIterations: number
  readonly maxFailuresPerEmail: number
  readonly otlpEndpoint: string | null
  readonly couponThrottle: CouponsConfig["Service"]["throttle"]
  readonly cartTtlSeconds: number
  readonly holdTtlSeconds: number
  readonly reconcileGraceSeconds: number
  readonly checkoutReturnUrl: string
  readonly catalogCacheControl: string
  readonly edgeCacheTtlSeconds: number
}

export type Outcome = { readonly accepted: Partial<Summary> } | { readonly refused: string }

export interface SettingsCase {
  readonly settings: Readonly<Record<string, string>>
  readonly outcome: Outcome
}

const jwtSecret = "table-jwt-secret-0123456789abcdef0123"

/** Set in every case unless the case says otherwise; settings a runtime does not read are ignored by it. */
export const baseSettings: Readonly<Record<string, string>> = {
  JWT_SECRET: jwtSecret,
  INTERNAL_SECRET: "table-internal-secret-0123456789abcdef",
  LOG_LEVEL: "info"
}

const accepted = (summary: Partial<Summary>): Outcome => ({ accepted: summary })
const refused = (setting: string): Outcome => ({ refused: setting })

export const settingsTable: ReadonlyArray<SettingsCase> = [
  {
    settings: {},
    outcome: accepted({
      logLevel: "Info",
      corsOrigins: [],
      serviceTimeoutMs: 10_000,
      adminSignup: false,
      jwtSecret,
      tokenTtlSeconds: 86_400,
      passwordIterations: 100_000,
      maxFailuresPerEmail: 5,
      otlpEndpoint: null,
      couponThrottle: { windowSeconds: 900, maxBadCodesPerCart: 5, maxBadCodesPerClient: 20 },
      cartTtlSeconds: 604_800,
      holdTtlSeconds: 900,
      reconcileGraceSeconds: 120,
      checkoutReturnUrl: "http://127.0.0.1:3000/checkout/return",
      catalogCacheControl: "public, max-age=5, stale-while-revalidate=30",
      edgeCacheTtlSeconds: 300
    })
  },
  // Log levels in any case: the value the README documents is lower case.
  { settings: { LOG_LEVEL: "info" }, outcome: accepted({ logLevel: "Info" }) },
  { settings: { LOG_LEVEL: "INFO" }, outcome: accepted({ logLevel: "Info" }) },
  { settings: { LOG_LEVEL: "Warn" }, outcome: accepted({ logLevel: "Warn" }) },
  { settings: { LOG_LEVEL: " debug " }, outcome: accepted({ logLevel: "Debug" }) },
  { settings: { LOG_LEVEL: "none" }, outcome: accepted({ logLevel: "None" }) },
  { settings: { LOG_LEVEL: "warning" }, outcome: refused("LOG_LEVEL") },
  { settings: { LOG_LEVEL: "verbose" }, outcome: refused("LOG_LEVEL") },
  // CORS origins as a browser sends them, or *.
  { settings: { CORS_ORIGINS: "*" }, outcome: accepted({ corsOrigins: ["*"] }) },
  {
    settings: { CORS_ORIGINS: "https://shop.example, http://localhost:3000" },
    outcome: accepted({ corsOrigins: ["https://shop.example", "http://localhost:3000"] })
  },
  { settings: { CORS_ORIGINS: "https://shop.example/" }, outcome: refused("CORS_ORIGINS") },
  { settings: { CORS_ORIGINS: "shop.example" }, outcome: refused("CORS_ORIGINS") },
  { settings: { CORS_ORIGINS: "ftp://files.example" }, outcome: refused("CORS_ORIGINS") },
  // The gateway's wait for a service.
  { settings: { SERVICE_TIMEOUT_MS: "2500" }, outcome: accepted({ serviceTimeoutMs: 2500 }) },
  { settings: { SERVICE_TIMEOUT_MS: "0" }, outcome: refused("SERVICE_TIMEOUT_MS") },
  { settings: { SERVICE_TIMEOUT_MS: "-5" }, outcome: refused("SERVICE_TIMEOUT_MS") },
  { settings: { SERVICE_TIMEOUT_MS: "1.5" }, outcome: refused("SERVICE_TIMEOUT_MS") },
  { settings: { SERVICE_TIMEOUT_MS: "soon" }, outcome: refused("SERVICE_TIMEOUT_MS") },
  { settings: { SERVICE_TIMEOUT_MS: "600001" }, outcome: refused("SERVICE_TIMEOUT_MS") },
  { settings: { CLIENT_IP_HEADER: "X-Real-IP" }, outcome: accepted({ clientIpHeader: "x-real-ip" }) },
  { settings: { CLIENT_IP_HEADER: "x real ip" }, outcome: refused("CLIENT_IP_HEADER") },
  // Secrets: long enough or refused; empty means unset.
  { settings: { JWT_SECRET: "too-short" }, outcome: refused("JWT_SECRET") },
  { settings: { ADMIN_SECRET: "" }, outcome: accepted({ adminSignup: false }) },
  { settings: { ADMIN_SECRET: "short" }, outcome: refused("ADMIN_SECRET") },
  { settings: { ADMIN_SECRET: "a-long-enough-admin-secret" }, outcome: accepted({ adminSignup: true }) },
  // Auth knobs.
  { settings: { TOKEN_TTL_SECONDS: "3600" }, outcome: accepted({ tokenTtlSeconds: 3600 }) },
  { settings: { TOKEN_TTL_SECONDS: "10" }, outcome: refused("TOKEN_TTL_SECONDS") },
  { settings: { PASSWORD_ITERATIONS: "50000" }, outcome: accepted({ passwordIterations: 50_000 }) },
  { settings: { PASSWORD_ITERATIONS: "200000" }, outcome: refused("PASSWORD_ITERATIONS") },
  { settings: { LOGIN_MAX_FAILURES_PER_EMAIL: "10" }, outcome: accepted({ maxFailuresPerEmail: 10 }) },
  { settings: { LOGIN_MAX_FAILURES_PER_EMAIL: "0" }, outcome: refused("LOGIN_MAX_FAILURES_PER_EMAIL") },
  { settings: { LOGIN_THROTTLE_WINDOW_SECONDS: "many" }, outcome: refused("LOGIN_THROTTLE_WINDOW_SECONDS") },
  // Coupon code throttle.
  {
    settings: {
      COUPON_THROTTLE_WINDOW_SECONDS: "60",
      COUPON_MAX_BAD_CODES_PER_CART: " 3 ",
      COUPON_MAX_BAD_CODES_PER_CLIENT: "100000"
    },
    outcome: accepted({ couponThrottle: { windowSeconds: 60, maxBadCodesPerCart: 3, maxBadCodesPerClient: 100_000 } })
  },
  {
    settings: { COUPON_MAX_BAD_CODES_PER_CART: "" },
    outcome: accepted({ couponThrottle: { windowSeconds: 900, maxBadCodesPerCart: 5, maxBadCodesPerClient: 20 } })
  },
  { settings: { COUPON_THROTTLE_WINDOW_SECONDS: "0" }, outcome: refused("COUPON_THROTTLE_WINDOW_SECONDS") },
  { settings: { COUPON_THROTTLE_WINDOW_SECONDS: "86401" }, outcome: refused("COUPON_THROTTLE_WINDOW_SECONDS") },
  { settings: { COUPON_MAX_BAD_CODES_PER_CART: "0" }, outcome: refused("COUPON_MAX_BAD_CODES_PER_CART") },
  { settings: { COUPON_MAX_BAD_CODES_PER_CART: "five" }, outcome: refused("COUPON_MAX_BAD_CODES_PER_CART") },
  { settings: { COUPON_MAX_BAD_CODES_PER_CLIENT: "100001" }, outcome: refused("COUPON_MAX_BAD_CODES_PER_CLIENT") },
  // Tracing export.
  {
    settings: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318/" },
    outcome: accepted({ otlpEndpoint: "http://127.0.0.1:4318" })
  },
  { settings: { OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }, outcome: refused("OTEL_EXPORTER_OTLP_ENDPOINT") },
  { settings: { OTEL_EXPORTER_OTLP_HEADERS: "api-key" }, outcome: refused("OTEL_EXPORTER_OTLP_HEADERS") },
  // The cart's idle time: 1 second to 1 year, 7 days when unset.
  { settings: { CART_TTL_SECONDS: "3600" }, outcome: accepted({ cartTtlSeconds: 3600 }) },
  { settings: { CART_TTL_SECONDS: "" }, outcome: accepted({ cartTtlSeconds: 604_800 }) },
  { settings: { CART_TTL_SECONDS: "31536000" }, outcome: accepted({ cartTtlSeconds: 31_536_000 }) },
  { settings: { CART_TTL_SECONDS: "0" }, outcome: refused("CART_TTL_SECONDS") },
  { settings: { CART_TTL_SECONDS: "soon" }, outcome: refused("CART_TTL_SECONDS") },
  { settings: { CART_TTL_SECONDS: "31536001" }, outcome: refused("CART_TTL_SECONDS") },
  // InventoryConfig has a default, so a runtime that forgot to read the
  // setting would still build: the refusals catch it.
  { settings: { HOLD_TTL_SECONDS: "60" }, outcome: accepted({ holdTtlSeconds: 60 }) },
  { settings: { HOLD_TTL_SECONDS: "0" }, outcome: refused("HOLD_TTL_SECONDS") },
  { settings: { HOLD_TTL_SECONDS: "later" }, outcome: refused("HOLD_TTL_SECONDS") },
  // The checkout reconciliation's grace: 0 (every unsettled payment) to a day.
  { settings: { CHECKOUT_RECONCILE_GRACE_SECONDS: "0" }, outcome: accepted({ reconcileGraceSeconds: 0 }) },
  { settings: { CHECKOUT_RECONCILE_GRACE_SECONDS: "-1" }, outcome: refused("CHECKOUT_RECONCILE_GRACE_SECONDS") },
  { settings: { CHECKOUT_RECONCILE_GRACE_SECONDS: "86401" }, outcome: refused("CHECKOUT_RECONCILE_GRACE_SECONDS") },
  // Where PayPal sends the buyer back when start names no returnUrl.
  {
    settings: { CHECKOUT_RETURN_URL: "https://shop.example/checkout/done" },
    outcome: accepted({ checkoutReturnUrl: "https://shop.example/checkout/done" })
  },
  { settings: { CHECKOUT_RETURN_URL: "/checkout/done" }, outcome: refused("CHECKOUT_RETURN_URL") },
  { settings: { CHECKOUT_CANCEL_URL: "javascript:alert(1)" }, outcome: refused("CHECKOUT_CANCEL_URL") },
  // How long browsers and CDNs may keep an anonymous catalog read; 0 leaves
  // stale-while-revalidate out.
  {
    settings: { CATALOG_CACHE_MAX_AGE_SECONDS: "60", CATALOG_CACHE_SWR_SECONDS: "0" },
    outcome: accepted({ catalogCacheControl: "public, max-age=60" })
  },
  { settings: { CATALOG_CACHE_MAX_AGE_SECONDS: "-1" }, outcome: refused("CATALOG_CACHE_MAX_AGE_SECONDS") },
  { settings: { CATALOG_CACHE_SWR_SECONDS: "86401" }, outcome: refused("CATALOG_CACHE_SWR_SECONDS") },
  // Read on every runtime, used by the Workers gateway's edge cache only.
  { settings: { EDGE_CACHE_TTL_SECONDS: "3600" }, outcome: accepted({ edgeCacheTtlSeconds: 3600 }) },
  { settings: { EDGE_CACHE_TTL_SECONDS: "0" }, outcome: refused("EDGE_CACHE_TTL_SECONDS") }
]

const summarize = Effect.gen(function* () {
  const gateway = yield* GatewayConfig
  const auth = yield* AuthConfig
  const observability = yield* ObservabilityConfig
  const coupons = yield* CouponsConfig
  const cart = yield* CartConfig
  const inventory = yield* InventoryConfig
  const summary: Summary = {
    logLevel: observability.logLevel,
    corsOrigins: gateway.corsOrigins,
    serviceTimeoutMs: Duration.toMillis(gateway.serviceTimeout),
    clientIpHeader: Option.getOrNull(gateway.clientIpHeader),
    adminSignup: Option.isSome(auth.adminSecret),
    jwtSecret: Redacted.value(auth.jwtSecret),
    tokenTtlSeconds: auth.tokenTtlSeconds,
    passwordIterations: auth.passwordIterations,
    maxFailuresPerEmail: auth.throttle.maxFailuresPerEmail,
    otlpEndpoint: Option.getOrNull(observability.otlpEndpoint),
    couponThrottle: coupons.throttle,
    cartTtlSeconds: cart.ttlSeconds,
    holdTtlSeconds: inventory.holdTtlSeconds,
    reconcileGraceSeconds: cart.reconcileGraceSeconds,
    checkoutReturnUrl: gateway.checkoutReturnUrl,
    catalogCacheControl: gateway.httpCache.publicCatalog,
    edgeCacheTtlSeconds: gateway.edgeCacheTtlSeconds
  }
  return summary
})

/** The settings a runtime reads, as its entry point reads them, from `settings` given the way that runtime is given them. */
export type ReadSettings = (
  settings: Readonly<Record<string, string>>
) => Layer.Layer<AuthConfig | GatewayConfig | ObservabilityConfig | CouponsConfig | CartConfig, unknown>

export const describeSettings = (runtime: string, read: ReadSettings) =>
  describe(`settings: ${runtime}`, () => {
    for (const { outcome, settings } of settingsTable) {
      const label = Object.keys(settings).length === 0 ? "(defaults)" : JSON.stringify(settings)
      it(`${label} is ${"refused" in outcome ? `refused, naming ${outcome.refused}` : "accepted"}`, async () => {
        const exit = await Effect.runPromiseExit(summarize.pipe(Effect.provide(read({ ...baseSettings, ...settings }))))
        if ("refused" in outcome) {
          expect(Exit.isFailure(exit), "expected a refusal").toBe(true)
          if (Exit.isFailure(exit)) {
            expect(describeFailure(exit.cause)).toMatch(new RegExp(`^Invalid configuration: ${outcome.refused}: `))
          }
        } else {
          if (Exit.isFailure(exit)) expect.fail(describeFailure(exit.cause))
          if (Exit.isSuccess(exit)) expect(exit.value).toMatchObject(outcome.accepted)
        }
      })
    }
  })
