import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { createServer as createHttpServer, request as httpRequest } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { LoginResult, Me } from "@shop/domain/Auth"
import { ProductPage } from "@shop/domain/Catalog"
import { ImageUploaded } from "@shop/domain/Images"
import { sampleImage } from "@shop/testing/ImageSamples"
import { errorBody, json } from "@shop/testing/Client"
import { products } from "@shop/demo/DemoCatalog"
import { describeScenarios } from "@shop/testing/Scenarios"
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { forwardTo, freePort, type ShopProcess, startShop, waitForLine } from "./ShopProcess.ts"

// The node runtime as people run it: `node runtimes/node/src/main.ts` in its
// own process, SQLite files in a temporary DATA_DIR, a free loopback port.

const jwtSecret = "node-scenarios-jwt-secret-0123456789abcdef"
const adminSecret = "node-scenarios-admin-secret"

const tempDir = () => mkdtempSync(join(tmpdir(), "shop-node-"))

let scenarioShop: ShopProcess | undefined
let scenarioDir: string | undefined

describeScenarios("node", {
  start: async () => {
    scenarioDir = tempDir()
    // No PayPal credentials: the process serves the fake PayPal on this port.
    const paypalPort = await freePort()
    scenarioShop = await startShop({
      DATA_DIR: scenarioDir,
      JWT_SECRET: jwtSecret,
      ADMIN_SECRET: adminSecret,
      PAYPAL_FAKE_PORT: String(paypalPort),
      PAYPAL_TIMEOUT_MS: "1500"
    })
    return {
      fetch: forwardTo(scenarioShop.origin),
      jwtSecret,
      adminSecret,
      paypal: { origin: `http://127.0.0.1:${paypalPort}`, fetch: (request) => fetch(request) }
    }
  },
  stop: async () => {
    await scenarioShop?.stop()
    if (scenarioDir !== undefined) rmSync(scenarioDir, { recursive: true, force: true })
  }
})

interface Json {
  readonly status: number
  readonly body: unknown
}

const call = async (
  origin: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}
): Promise<Json> => {
  const headers: Record<string, string> = { ...options.headers }
  if (options.body !== undefined) headers["content-type"] = "application/json"
  if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`
  const response = await fetch(`${origin}${path}`, {
    method,
    headers,
    body: options.body === undefined ? null : JSON.stringify(options.body)
  })
  const text = await response.text()
  return { status: response.status, body: text.length > 0 ? JSON.parse(text) : undefined }
}

/**
 * A POST whose body arrives in two parts, the second only when `finish` is
 * called: the request is in flight, inside the server, for as long as we like.
 * Chunked, so no content-length announces the size.
 */
const chunkedPost = (origin: string, path: string) => {
  const request = httpRequest(new URL(path, origin), {
    method: "POST",
    headers: { "content-type": "application/json" },
    agent: false
  })
  const response = new Promise<Json>((resolve, reject) => {
    request.once("error", reject)
    request.once("response", (incoming) => {
      let text = ""
      incoming.setEncoding("utf8")
      incoming.on("data", (chunk: string) => {
        text += chunk
      })
      incoming.once("end", () =>
        resolve({ status: incoming.statusCode ?? 0, body: text.length > 0 ? JSON.parse(text) : undefined })
      )
      incoming.once("error", reject)
    })
  })
  request.flushHeaders()
  return {
    response,
    write: (text: string) => new Promise<void>((resolve) => request.write(text, () => resolve())),
    finish: (text: string) => request.end(text)
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const allProducts = (origin: string) => call(origin, "GET", "/api/products?limit=100")

describe("node runtime: one data directory across restarts", () => {
  const password = "correct horse battery staple"
  const email = `restart-${Date.now().toString(36)}@example.com`
  // JWT_SECRET is left unset on purpose: the runtime must make one and keep it.
  let env: Record<string, string>
  let dataDir: string
  let shop: ShopProcess
  let token: string
  let productCount: number
  let adminToken: string
  const image = { productId: "", imageId: "", url: "" }

  // Made here rather than in the describe body, which runs even when a filter skips every test.
  beforeAll(async () => {
    dataDir = tempDir()
    env = { DATA_DIR: dataDir, ADMIN_SECRET: adminSecret }
    shop = await startShop(env)
  })

  afterAll(async () => {
    await shop?.stop()
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true })
  })

  it("creates one SQLite file per service and a private JWT secret", () => {
    for (const file of [
      "auth.sqlite",
      "catalog.sqlite",
      "inventory.sqlite",
      "fulfillment.sqlite",
      "coupons.sqlite",
      "cart.sqlite"
    ]) {
      expect(statSync(join(dataDir, file)).isFile()).toBe(true)
    }
    const secret = statSync(join(dataDir, "jwt-secret"))
    expect(secret.mode & 0o777).toBe(0o600)
    const warnings = shop
      .lines()
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.level === "warn")
    expect(warnings.some((entry) => /JWT_SECRET is not set: generated/.test(entry.message))).toBe(true)
  })

  it("seeds a demo catalog: 20+ products in stock, several categories, some with several variants", async () => {
    const reply = await allProducts(shop.origin)
    expect(reply.status).toBe(200)
    const page = json(reply, ProductPage)
    const items = page.items
    expect(page.total).toBe(products.length)
    expect(items.length).toBe(page.total)
    expect(new Set(items.map((p) => p.category)).size).toBeGreaterThanOrEqual(4)
    for (const product of items) {
      expect(product.images.length).toBeGreaterThan(0)
      expect(product.images[0]).toMatch(/^https:\/\/picsum\.photos\/seed\/[^/]+\/600\/600$/)
      for (const variant of product.variants) {
        expect(variant.available).toBeGreaterThan(0)
        expect(variant.price.currency).toBe("USD")
        expect(Number.isInteger(variant.price.amount)).toBe(true)
      }
    }
    const multi = items.filter((p) => p.variants.length > 1)
    expect(multi.length).toBeGreaterThanOrEqual(5)
    expect(multi.some((p) => new Set(p.variants.map((v) => v.price.amount)).size > 1)).toBe(true)
    productCount = page.total
    await waitForLine(shop, (entry) => entry.message === "Seeded the demo catalog" && entry.products === productCount)
  })

  it("logs JSON lines on stdout with service, request id and trace id", async () => {
    const response = await fetch(`${shop.origin}/api/products?limit=1`, {
      headers: {
        "x-request-id": "node-log-test-1",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
      }
    })
    expect(response.status).toBe(200)
    expect(response.headers.get("x-request-id")).toBe("node-log-test-1")
    const access = await waitForLine(shop, (entry) => entry.requestId === "node-log-test-1")
    expect(access).toMatchObject({
      service: "shop-node",
      level: "info",
      method: "GET",
      path: "/api/products",
      status: 200
    })
    // Tracing is off in this process: the trace id is the caller's.
    expect(access.traceId).toBe("0af7651916cd43dd8448eb211c80319c")
    for (const line of shop.lines()) {
      const entry = JSON.parse(line)
      expect(entry.service).toBe("shop-node")
      expect(typeof entry.level).toBe("string")
      expect(typeof entry.message).toBe("string")
      expect(Number.isNaN(Date.parse(entry.timestamp))).toBe(false)
    }
    await waitForLine(shop, (entry) => entry.message === `Listening on ${shop.origin}`)
    await waitForLine(shop, (entry) => entry.message === "Admin signup is enabled (ADMIN_SECRET is set)")
  })

  it("limits request bodies that come without a content-length", async () => {
    const post = chunkedPost(shop.origin, "/api/auth/signup")
    const filler = "x".repeat(16 * 1024)
    void post.write(`{"email":"big@example.com","name":"${filler}`)
    for (let i = 0; i < 4; i++) void post.write(filler)
    post.finish(`","password":"correct horse battery"}`)
    const reply = await post.response
    expect(reply.status).toBe(413)
    expect(errorBody(reply).error).toBe("payload_too_large")
  })

  it("signs up and logs in on the SQL stores", async () => {
    expect(
      (await call(shop.origin, "POST", "/api/auth/signup", { body: { email, password, name: "Restart" } })).status
    ).toBe(201)
    const login = await call(shop.origin, "POST", "/api/auth/login", { body: { email, password } })
    expect(login.status).toBe(200)
    token = json(login, LoginResult).accessToken
    const me = await call(shop.origin, "GET", "/api/auth/me", { token })
    expect(me.status).toBe(200)
    expect(json(me, Me).email).toBe(email)
  })

  it("keeps an uploaded image as a file under DATA_DIR/images", async () => {
    const admin = { email: `img-${email}`, password, name: "Images" }
    expect(
      (
        await call(shop.origin, "POST", "/api/auth/admin/signup", {
          body: admin,
          headers: { "x-admin-secret": adminSecret }
        })
      ).status
    ).toBe(201)
    adminToken = json(
      await call(shop.origin, "POST", "/api/auth/login", { body: { email: admin.email, password } }),
      LoginResult
    ).accessToken
    const created = await call(shop.origin, "POST", "/api/admin/products", {
      token: adminToken,
      body: { sku: `IMG-${Date.now().toString(36)}`, title: "Pictured", price: { amount: 100, currency: "USD" } }
    })
    expect(created.status).toBe(201)
    image.productId = (created.body as { productId: string }).productId
    // The restart test below counts products.
    productCount += 1
    const form = new FormData()
    form.append("file", new Blob([sampleImage("png", 1000, 1)], { type: "image/png" }), "pic.png")
    const uploaded = await fetch(`${shop.origin}/api/admin/products/${image.productId}/images`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}` },
      body: form
    })
    expect(uploaded.status).toBe(201)
    const body = json({ body: await uploaded.json() }, ImageUploaded)
    image.imageId = body.imageId
    image.url = body.url
    const key = body.url.slice("/images/".length)
    expect(readdirSync(join(dataDir, "images"))).toEqual([key])
    expect(readFileSync(join(dataDir, "images", key)).equals(Buffer.from(sampleImage("png", 1000, 1)))).toBe(true)
  })

  it("stops on SIGTERM with exit code 0, promptly", async () => {
    const started = Date.now()
    const exit = await shop.stop()
    expect(exit).toEqual({ code: 0, signal: null })
    expect(Date.now() - started).toBeLessThan(5_000)
    await waitForLine(shop, (entry) => entry.message === "Shutting down: finishing requests in flight")
  })

  it("after a restart keeps users, sessions and products, reuses the generated secret and does not seed again", async () => {
    shop = await startShop(env)
    // The token was signed by the first run: it only verifies if the secret came back.
    const me = await call(shop.origin, "GET", "/api/auth/me", { token })
    expect(me.status).toBe(200)
    expect(json(me, Me).email).toBe(email)
    expect(json(await allProducts(shop.origin), ProductPage).total).toBe(productCount)
    const messages = shop.lines().map((line) => JSON.parse(line).message)
    expect(messages).not.toContain("Seeded the demo catalog")
    expect(messages.some((m) => /JWT_SECRET is not set: using the secret generated earlier/.test(m))).toBe(true)
  })

  it("serves the image after the restart, and deleting it deletes its file", async () => {
    const served = await fetch(`${shop.origin}${image.url}`)
    expect(served.status).toBe(200)
    expect(Buffer.from(await served.arrayBuffer()).equals(Buffer.from(sampleImage("png", 1000, 1)))).toBe(true)
    const removed = await call(
      shop.origin,
      "DELETE",
      `/api/admin/products/${image.productId}/images/${image.imageId}`,
      {
        token: adminToken
      }
    )
    expect(removed.status).toBe(204)
    expect(readdirSync(join(dataDir, "images"))).toEqual([])
  })

  it("lets a request in flight finish when SIGTERM arrives, then exits 0", async () => {
    const post = chunkedPost(shop.origin, "/api/auth/signup")
    await post.write(`{"email":"inflight-${Date.now().toString(36)}@example.com",`)
    // The handler is now waiting for the rest of the body.
    await sleep(200)
    process.kill(shop.pid, "SIGTERM")
    await waitForLine(shop, (entry) => entry.message === "Shutting down: finishing requests in flight")
    post.finish(`"password":"${password}","name":"In Flight"}`)
    const reply = await post.response
    expect(reply.status).toBe(201)
    expect(await shop.exited).toEqual({ code: 0, signal: null })
  })
})

// The part of an OTLP/HTTP JSON export the tracing test reads.
const OtlpTraces = Schema.Struct({
  resourceSpans: Schema.Array(
    Schema.Struct({
      resource: Schema.Struct({
        attributes: Schema.Array(
          Schema.Struct({ key: Schema.String, value: Schema.Struct({ stringValue: Schema.optional(Schema.String) }) })
        )
      }),
      scopeSpans: Schema.Array(
        Schema.Struct({
          spans: Schema.Array(Schema.Struct({ traceId: Schema.String, spanId: Schema.String, name: Schema.String }))
        })
      )
    })
  )
})

describe("node runtime: tracing", () => {
  it("exports spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set, flushed on shutdown", async () => {
    // A stand-in collector that keeps every body posted to it.
    const bodies: Array<{ readonly path: string; readonly body: unknown }> = []
    const collector = createHttpServer((request, response) => {
      let text = ""
      request.setEncoding("utf8")
      request.on("data", (chunk: string) => {
        text += chunk
      })
      request.on("end", () => {
        bodies.push({ path: request.url ?? "", body: JSON.parse(text) })
        response.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    const port = await freePort()
    await new Promise<void>((resolve) => collector.listen(port, "127.0.0.1", resolve))
    const dataDir = tempDir()
    try {
      const shop = await startShop({
        DATA_DIR: dataDir,
        JWT_SECRET: jwtSecret,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/`
      })
      const response = await fetch(`${shop.origin}/api/products?limit=1`, {
        headers: { "x-request-id": "node-otlp-1" }
      })
      expect(response.status).toBe(200)
      const access = await waitForLine(shop, (entry) => entry.requestId === "node-otlp-1")
      expect((await shop.stop()).code).toBe(0)

      expect(bodies.length).toBeGreaterThan(0)
      expect(bodies.every((b) => b.path === "/v1/traces")).toBe(true)
      const resourceSpans = bodies.flatMap((b) => json(b, OtlpTraces).resourceSpans)
      const serviceNames = resourceSpans.map(
        (r) => r.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue
      )
      expect(new Set(serviceNames)).toEqual(new Set(["shop"]))
      const spans = resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))
      const trace = spans.filter((span) => span.traceId === access.traceId)
      // The request's server span and the service calls under it share the logged trace id.
      expect(trace.some((span) => span.spanId === access.spanId)).toBe(true)
      expect(trace.some((span) => span.name === "Catalog.list")).toBe(true)
    } finally {
      await new Promise((resolve) => collector.close(resolve))
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
