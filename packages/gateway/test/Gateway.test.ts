import { Duration, Effect, Layer, Logger, References } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { afterAll, describe, expect, it } from "vitest"
import { AuthConfig } from "@shop/auth/AuthConfig"
import * as AuthLive from "@shop/auth/AuthLive"
import { CartConfig } from "@shop/cart/CartConfig"
import * as CartLive from "@shop/cart/CartLive"
import { Catalog } from "@shop/catalog/Catalog"
import { ServiceUnreachable } from "@shop/domain/ServiceTransport"
import * as CouponsLive from "@shop/coupons/CouponsLive"
import * as FulfillmentLive from "@shop/fulfillment/FulfillmentLive"
import * as IdempotencyLive from "@shop/idempotency/IdempotencyLive"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import { IdGenerator } from "@shop/domain/IdGenerator"
import * as OrdersLive from "@shop/orders/OrdersLive"
import * as PaymentsLive from "@shop/payments/PaymentsLive"
import * as PaypalFakeProvider from "@shop/payments/PaypalFakeProvider"
import * as PaypalFake from "@shop/paypal-fake/PaypalFake"
import * as Docs from "../src/Docs.ts"
import * as Gateway from "../src/Gateway.ts"
import { GatewayConfig } from "../src/GatewayConfig.ts"

// A catalog that misbehaves on purpose: `get` never answers, `list` dies.
const BrokenCatalog = Layer.succeed(
  Catalog,
  Catalog.of({
    list: () => Effect.die(new Error("secret internal detail: connection string postgres://admin:hunter2@db")),
    get: ({ productId }) =>
      productId.includes("Unreachable")
        ? Effect.die(new ServiceUnreachable("The catalog service did not answer"))
        : Effect.never,
    create: () => Effect.never,
    update: () => Effect.never,
    remove: () => Effect.never,
    addImage: () => Effect.never,
    removeImage: () => Effect.never,
    reorderImages: () => Effect.never,
    getImage: () => Effect.never,
    getMany: () => Effect.never
  })
)

const logged: Array<string> = []
const CapturingLogger = Logger.layer([
  Logger.make(({ message, cause, fiber }) => {
    const annotations = fiber.getRef(References.CurrentLogAnnotations)
    logged.push(`${String(message)} ${JSON.stringify(annotations)} ${cause.reasons.length > 0 ? String(cause) : ""}`)
  })
])

// Checkout's services over an in-process fake PayPal (not exercised here).
const paypal = PaypalFake.make({
  clientId: "gateway-test-client",
  clientSecret: "gateway-test-secret-0123456789",
  webhookId: "gateway-test-webhook",
  webhookSecret: "gateway-test-webhook-secret-0123456789"
})
const payments = PaymentsLive.layerMemory.pipe(Layer.provide(PaypalFakeProvider.layer(paypal)))

const auth = AuthLive.layerMemory.pipe(Layer.provide(AuthConfig.layerTest({ tokenTtlSeconds: 60 })))

const shop = HttpRouter.toWebHandler(
  Gateway.layer.pipe(
    Layer.provide(
      CartLive.layerMemory.pipe(
        Layer.provide(CartConfig.layer({ ttlSeconds: 60 })),
        Layer.provideMerge(
          Layer.mergeAll(
            auth,
            BrokenCatalog,
            FulfillmentLive.layerMemory,
            CouponsLive.layerMemory,
            IdempotencyLive.layerMemory,
            IdGenerator.layer,
            OrdersLive.layerMemory.pipe(Layer.provideMerge(payments), Layer.provideMerge(InventoryLive.layerMemory))
          )
        )
      )
    ),
    Layer.provide(
      Layer.succeed(
        GatewayConfig,
        GatewayConfig.of({
          ...GatewayConfig.defaults,
          serviceTimeout: Duration.millis(50),
          corsOrigins: ["https://shop.example"]
        })
      )
    ),
    // No script to serve, as on a Worker deployed without its assets.
    Layer.provide(Docs.noScript),
    Layer.provide(HttpServer.layerServices),
    Layer.provideMerge(CapturingLogger)
  ),
  { disableLogger: true }
)

afterAll(() => shop.dispose())

const get = (path: string, headers: Record<string, string> = {}) =>
  shop.handler(new Request(`http://shop.test${path}`, { headers }))

describe("gateway", () => {
  it("a service that does not answer in time is 504 upstream_timeout", async () => {
    const started = Date.now()
    const response = await get("/api/products/prd_0000000000000000000000")
    expect(response.status).toBe(504)
    expect(await response.json()).toEqual({
      error: "upstream_timeout",
      message: "A service this request depends on did not answer in time"
    })
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it("a service that cannot be reached is 502 upstream_error", async () => {
    const response = await get("/api/products/prd_Unreachable000000000000")
    expect(response.status).toBe(502)
    expect(await response.json()).toEqual({
      error: "upstream_error",
      message: "A service this request depends on failed"
    })
  })

  it("a defect is 500 internal_error: logged with its cause, never described in the body", async () => {
    logged.length = 0
    const response = await get("/api/products")
    expect(response.status).toBe(500)
    const text = await response.text()
    expect(JSON.parse(text)).toEqual({ error: "internal_error", message: "Something went wrong on our side" })
    expect(text).not.toContain("hunter2")
    expect(response.headers.get("x-request-id")).toBeTruthy()
    expect(logged.some((line) => line.includes("hunter2"))).toBe(true)
  })

  it("Idempotency-Key: a request that fails on our side (5xx) frees its key, so a retry runs again", async () => {
    const init = await shop.handler(new Request("http://shop.test/api/cart/init", { method: "POST" }))
    expect(init.status).toBe(201)
    const { cartId } = (await init.json()) as { cartId: string }
    const add = () =>
      shop.handler(
        new Request(`http://shop.test/api/cart/${cartId}/add`, {
          method: "POST",
          headers: { "content-type": "application/json", "idempotency-key": "retry-me" },
          body: JSON.stringify({ productId: "prd_never", quantity: 1 })
        })
      )
    // The catalog never answers: 504, twice, neither a replay nor 409.
    for (const response of [await add(), await add()]) {
      expect(response.status).toBe(504)
      expect(response.headers.get("idempotent-replayed")).toBeNull()
    }
  })

  it("CORS: allowed origins are echoed, others are not", async () => {
    const allowed = await get("/health", { origin: "https://shop.example" })
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://shop.example")
    expect(allowed.headers.get("access-control-expose-headers")).toContain("x-request-id")
    expect(allowed.headers.get("access-control-expose-headers")).toContain("idempotent-replayed")
    const other = await get("/health", { origin: "https://evil.example" })
    expect(other.headers.get("access-control-allow-origin")).toBeNull()
    const preflight = await shop.handler(
      new Request("http://shop.test/api/cart/anything", {
        method: "OPTIONS",
        headers: { origin: "https://shop.example", "access-control-request-headers": "authorization, content-type" }
      })
    )
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://shop.example")
    expect(preflight.headers.get("access-control-allow-headers")).toBe("authorization, content-type")
  })

  it("every response carries a request id, and access log lines carry it", async () => {
    logged.length = 0
    const response = await get("/health", { "x-request-id": "abc-123" })
    expect(response.headers.get("x-request-id")).toBe("abc-123")
    const line = logged.find((l) => l.startsWith("Sent HTTP response"))
    expect(line).toContain('"requestId":"abc-123"')
    expect(line).toContain('"status":200')
    const spoofed = await get("/health", { "x-request-id": "bad id with spaces\n" })
    expect(spoofed.headers.get("x-request-id")).toMatch(/^[0-9a-f]+-[0-9a-z]+$/)
  })

  it("/docs is the Scalar page under its policy; without a script to serve, the script's path is 404", async () => {
    const page = await get("/docs", { origin: "https://shop.example" })
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toContain("text/html")
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'")
    expect(page.headers.get("x-request-id")).not.toBeNull()
    expect(page.headers.get("access-control-allow-origin")).toBe("https://shop.example")
    expect(await page.text()).toContain('<script src="docs/scalar.js"></script>')
    const script = await get(Docs.scriptPath)
    expect(script.status).toBe(404)
    expect(await script.json()).toEqual({ error: "not_found", message: "No such route" })
  })
})
