import type { RpcMessage } from "effect/rpc"

// The bindings and variables each Worker reads. Written by hand rather than
// taken from `wrangler types`: secrets are not in the wrangler files, and
// every service binding is optional because a client falls back to the
// service's URL when its binding is absent.

// A service binding to one of our service Workers: the Workers RPC method of
// ServiceWorker.ts, encoded effect/rpc messages in, encoded responses out.
export interface ServiceBinding {
  readonly call: (
    messages: ReadonlyArray<RpcMessage.FromClientEncoded>
  ) => Promise<ReadonlyArray<RpcMessage.FromServerEncoded>>
}

// Strings the Effect configuration reads (through ConfigProvider); the full
// list of settings, with their rules, is the root README's "Configuration".
interface Observability {
  // OTLP/HTTP base URL; spans are exported only when it is set.
  readonly OTEL_EXPORTER_OTLP_ENDPOINT?: string
  readonly LOG_LEVEL?: string
}

export interface ServiceEnv extends Observability {
  readonly DB: D1Database
  // Signs and checks calls that arrive by URL instead of a binding.
  readonly INTERNAL_SECRET?: string
}

export interface AuthEnv extends ServiceEnv {
  readonly JWT_SECRET?: string
  readonly ADMIN_SECRET?: string
}

// The catalog version (CatalogVersion.ts), a Durable Object of the inventory
// Worker: the catalog and inventory Workers bump it after every write, the
// gateway reads it for its edge cache keys. Absent: no edge cache, no bumps.
interface CatalogVersionBinding {
  readonly CATALOG_VERSION?: DurableObjectNamespace
}

export interface InventoryEnv extends ServiceEnv, CatalogVersionBinding {}

export interface CatalogEnv extends ServiceEnv, CatalogVersionBinding {
  // Uploaded product images (ImageStoreR2.ts).
  readonly IMAGES: R2Bucket
  readonly INVENTORY?: ServiceBinding
  readonly INVENTORY_URL?: string
}

export interface CouponsEnv extends ServiceEnv {
  // The coupon definitions (redemption counts are in DB).
  readonly COUPONS_KV: KVNamespace
}

// The payments Worker: PayPal's REST settings (PAYPAL_*, root README,
// "Configuration"), read by PaypalConfig through the ConfigProvider.
export interface PaymentsEnv extends ServiceEnv {
  readonly PAYPAL_CLIENT_ID?: string
  readonly PAYPAL_CLIENT_SECRET?: string
  readonly PAYPAL_API_BASE?: string
  readonly PAYPAL_WEBHOOK_ID?: string
  readonly PAYPAL_TIMEOUT_MS?: string
}

// The orders Worker: cancelling an order refunds its payment and restocks
// its hold, an admin refund goes through payments.
export interface OrdersEnv extends ServiceEnv {
  readonly PAYMENTS?: ServiceBinding
  readonly INVENTORY?: ServiceBinding
  readonly PAYMENTS_URL?: string
  readonly INVENTORY_URL?: string
}

// The cart Worker (cart.ts): its Durable Object namespace, one object per
// cart id, and the services a cart's object calls. No INTERNAL_SECRET of its
// own to check: it has no URL door; it signs only when it reaches a service
// by URL (a missing binding).
// The catalog version (shop-inventory's object): the cart keeps products per version (CatalogProducts.ts).
export interface CartEnv extends Observability, CatalogVersionBinding {
  readonly CART_OBJECTS: DurableObjectNamespace
  readonly CATALOG?: ServiceBinding
  readonly INVENTORY?: ServiceBinding
  readonly FULFILLMENT?: ServiceBinding
  readonly COUPONS?: ServiceBinding
  // Checkout: the payment for the hold, the order once captured.
  readonly PAYMENTS?: ServiceBinding
  readonly ORDERS?: ServiceBinding
  readonly CATALOG_URL?: string
  readonly INVENTORY_URL?: string
  readonly FULFILLMENT_URL?: string
  readonly COUPONS_URL?: string
  readonly PAYMENTS_URL?: string
  readonly ORDERS_URL?: string
  readonly INTERNAL_SECRET?: string
  readonly CART_TTL_SECONDS?: string
  readonly CHECKOUT_RECONCILE_GRACE_SECONDS?: string
}

export interface GatewayEnv extends Observability, CatalogVersionBinding {
  // Binding only: the cart Worker has no URL door (README.md).
  readonly CART?: ServiceBinding
  // The cart Worker's Durable Objects (script_name shop-cart): cart calls go
  // straight to the cart's object (Transports.cartObjects).
  readonly CART_OBJECTS?: DurableObjectNamespace
  readonly AUTH?: ServiceBinding
  readonly CATALOG?: ServiceBinding
  readonly INVENTORY?: ServiceBinding
  readonly FULFILLMENT?: ServiceBinding
  readonly COUPONS?: ServiceBinding
  readonly IDEMPOTENCY?: ServiceBinding
  readonly PAYMENTS?: ServiceBinding
  readonly ORDERS?: ServiceBinding
  readonly AUTH_URL?: string
  readonly CATALOG_URL?: string
  readonly INVENTORY_URL?: string
  readonly FULFILLMENT_URL?: string
  readonly COUPONS_URL?: string
  readonly IDEMPOTENCY_URL?: string
  readonly PAYMENTS_URL?: string
  readonly ORDERS_URL?: string
  readonly INTERNAL_SECRET?: string
  readonly CLIENT_IP_HEADER?: string
  readonly CORS_ORIGINS?: string
  readonly CHECKOUT_RETURN_URL?: string
  readonly CHECKOUT_CANCEL_URL?: string
  readonly CATALOG_CACHE_MAX_AGE_SECONDS?: string
  readonly CATALOG_CACHE_SWR_SECONDS?: string
  readonly EDGE_CACHE_TTL_SECONDS?: string
  // Workers Static Assets (gateway/wrangler.jsonc): Scalar's script for
  // /docs, generated at build time (DocsAssets.ts). Absent: /docs/scalar.js is 404.
  readonly ASSETS?: Fetcher
}
