import { Context, Duration, Effect, Layer, Option } from "effect"
import * as Settings from "@shop/observability/Settings"
import { type CachePolicy, catalogCacheControl } from "./HttpCache.ts"

// A browser sends `Origin: https://shop.example` (no path, no trailing slash);
// an entry written any other way would never match, so it is refused at start.
const isOrigin = (entry: string) => {
  if (entry === "*") return true
  if (!URL.canParse(entry)) return false
  const url = new URL(entry)
  return (url.protocol === "http:" || url.protocol === "https:") && url.origin === entry
}

const parseOrigins = (value: string) => {
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
  return entries.every(isOrigin) ? entries : undefined
}

const parseUrl = (value: string) => {
  if (!URL.canParse(value)) return undefined
  const { protocol } = new URL(value)
  return protocol === "https:" || protocol === "http:" ? value : undefined
}

const parseHeaderName = (value: string) => (/^[A-Za-z0-9-]{1,64}$/.test(value) ? value.toLowerCase() : undefined)

export class GatewayConfig extends Context.Service<
  GatewayConfig,
  {
    // Each call from the gateway to a service gives up after this long (504).
    readonly serviceTimeout: Duration.Duration
    // Exact origins allowed by CORS; ["*"] allows any. Empty: no CORS headers.
    readonly corsOrigins: ReadonlyArray<string>
    readonly maxBodyBytes: number
    // Header carrying the client address set by a trusted edge (for example
    // `cf-connecting-ip` on Cloudflare). None: use the socket peer address.
    readonly clientIpHeader: Option.Option<string>
    // Where PayPal sends the buyer after approving (cancelling) when checkout
    // start names no returnUrl (cancelUrl).
    readonly checkoutReturnUrl: string
    readonly checkoutCancelUrl: string
    // Cache-Control of anonymous catalog reads (HttpCache.ts).
    readonly httpCache: CachePolicy
    // How long the Workers gateway's edge cache keeps a catalog read: only a
    // backstop, since every catalog or stock write makes the old entries
    // unreachable at once (runtimes/cloudflare/src/EdgeCache.ts).
    readonly edgeCacheTtlSeconds: number
  }
>()("@shop/gateway/GatewayConfig") {
  // CATALOG_CACHE_MAX_AGE_SECONDS and CATALOG_CACHE_SWR_SECONDS when unset.
  static readonly catalogCacheDefaults = { maxAgeSeconds: 5, staleWhileRevalidateSeconds: 30 }

  static readonly defaults = {
    serviceTimeout: Duration.seconds(10),
    corsOrigins: [] as ReadonlyArray<string>,
    maxBodyBytes: 64 * 1024,
    clientIpHeader: Option.none<string>(),
    checkoutReturnUrl: "http://127.0.0.1:3000/checkout/return",
    checkoutCancelUrl: "http://127.0.0.1:3000/checkout/cancel",
    httpCache: {
      publicCatalog: catalogCacheControl(
        GatewayConfig.catalogCacheDefaults.maxAgeSeconds,
        GatewayConfig.catalogCacheDefaults.staleWhileRevalidateSeconds
      )
    } as CachePolicy,
    edgeCacheTtlSeconds: 300
  }

  /**
   * From configuration: CORS_ORIGINS, SERVICE_TIMEOUT_MS, CLIENT_IP_HEADER,
   * CHECKOUT_RETURN_URL, CHECKOUT_CANCEL_URL, CATALOG_CACHE_MAX_AGE_SECONDS,
   * CATALOG_CACHE_SWR_SECONDS, EDGE_CACHE_TTL_SECONDS.
   * `clientIpHeader` is the runtime's own default for the last: on Cloudflare
   * the edge sets `cf-connecting-ip` and a client cannot forge it; on node the
   * socket peer is the client unless a reverse proxy says otherwise.
   */
  static readonly layerConfigWith = (runtime: { readonly clientIpHeader?: string }) =>
    Layer.effect(
      GatewayConfig,
      Effect.gen(function* () {
        const corsOrigins = yield* Settings.parsed(
          "CORS_ORIGINS",
          parseOrigins,
          "must list origins such as https://shop.example separated by commas, or *"
        )
        const timeoutMs = yield* Settings.int("SERVICE_TIMEOUT_MS", {
          min: 1,
          max: 10 * 60 * 1000,
          fallback: Duration.toMillis(GatewayConfig.defaults.serviceTimeout)
        })
        // Only for a deployment behind a proxy that sets this header itself
        // (overwriting what the client sent): the login throttle then keys on
        // the real client instead of the proxy's address.
        const clientIpHeader = yield* Settings.parsed(
          "CLIENT_IP_HEADER",
          parseHeaderName,
          "must be an HTTP header name such as x-real-ip"
        )
        const returnUrl = yield* Settings.parsed("CHECKOUT_RETURN_URL", parseUrl, "must be an absolute http(s) URL")
        const cancelUrl = yield* Settings.parsed("CHECKOUT_CANCEL_URL", parseUrl, "must be an absolute http(s) URL")
        // Short by default: a browser or CDN may show a catalog read this old
        // (stock included) without asking; the gateway's own edge cache on
        // Workers does not depend on it (versioned keys, EdgeCache.ts).
        const maxAge = yield* Settings.int("CATALOG_CACHE_MAX_AGE_SECONDS", {
          min: 0,
          max: 24 * 60 * 60,
          fallback: GatewayConfig.catalogCacheDefaults.maxAgeSeconds
        })
        const staleWhileRevalidate = yield* Settings.int("CATALOG_CACHE_SWR_SECONDS", {
          min: 0,
          max: 24 * 60 * 60,
          fallback: GatewayConfig.catalogCacheDefaults.staleWhileRevalidateSeconds
        })
        const edgeCacheTtlSeconds = yield* Settings.int("EDGE_CACHE_TTL_SECONDS", {
          min: 1,
          max: 7 * 24 * 60 * 60,
          fallback: GatewayConfig.defaults.edgeCacheTtlSeconds
        })
        return GatewayConfig.of({
          ...GatewayConfig.defaults,
          httpCache: { publicCatalog: catalogCacheControl(maxAge, staleWhileRevalidate) },
          edgeCacheTtlSeconds,
          checkoutReturnUrl: Option.getOrElse(returnUrl, () => GatewayConfig.defaults.checkoutReturnUrl),
          checkoutCancelUrl: Option.getOrElse(cancelUrl, () => GatewayConfig.defaults.checkoutCancelUrl),
          corsOrigins: Option.getOrElse(corsOrigins, () => GatewayConfig.defaults.corsOrigins),
          serviceTimeout: Duration.millis(timeoutMs),
          clientIpHeader: Option.orElse(clientIpHeader, () => Option.fromNullishOr(runtime.clientIpHeader))
        })
      })
    )

  static readonly layerConfig = GatewayConfig.layerConfigWith({})
}
