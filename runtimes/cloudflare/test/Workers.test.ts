import { assert, it as effectIt } from "@effect/vitest"
import { Effect, Exit, Redacted, Schema } from "effect"
import { CartNotFound, EmailExists } from "@shop/domain/Errors"
import { CartId } from "@shop/domain/Ids"
import { AuthRpcs, CartRpcs } from "@shop/domain/ServiceContracts"
import { makeClient } from "@shop/domain/ServiceTransport"
import { sampleImage } from "@shop/testing/ImageSamples"
import { describeScenarios } from "@shop/testing/Scenarios"
import { unstable_readConfig } from "wrangler"
import { randomBytes } from "node:crypto"
import { afterAll, describe, expect, it } from "vitest"
import { newNonce, SignatureHeaders, sign } from "../src/Signing.ts"
import type { ServiceBinding } from "../src/Env.ts"
import * as Transports from "../src/Transports.ts"
import { type OtlpReceiver, startOtlpReceiver } from "./Otlp.ts"
import { root, type Shop, shortCartTtlSeconds, startShop, workerNames } from "./Shop.ts"

// One workerd for the whole file (the machine is small and it takes seconds
// to start): the black-box suite, the signing rules of URL calls, and tracing
// across Workers all run against the same Workers set, which exports its
// spans to a local OTLP receiver.

let started: Promise<{ readonly shop: Shop; readonly otlp: OtlpReceiver }> | undefined

const start = () =>
  (started ??= (async () => {
    const otlp = await startOtlpReceiver()
    try {
      const shop = await startShop({ vars: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint }, webhooks: true })
      return { shop, otlp }
    } catch (error) {
      await otlp.close()
      throw error
    }
  })())

afterAll(async () => {
  if (started === undefined) return
  const { shop, otlp } = await started
  await shop.close()
  await otlp.close()
})

describeScenarios("cloudflare workers (local workerd)", {
  start: async () => {
    const { shop } = await start()
    return {
      fetch: shop.fetch,
      adminSecret: shop.secrets.ADMIN_SECRET,
      jwtSecret: shop.secrets.JWT_SECRET,
      paypal: { origin: shop.paypal.url, fetch: (request) => fetch(request) }
    }
  },
  // The Workers stay up for the tests below; afterAll stops them.
  stop: async () => {}
})

const encoder = new TextEncoder()

interface SignedCall {
  readonly path?: string
  readonly body?: string
  readonly secret?: string
  readonly timestamp?: number
  readonly nonce?: string
  // Signs this body but sends `body`.
  readonly signedBody?: string
}

// One exchange of one effect/rpc request (JSON-encoded messages).
const signupBody = (email: string) =>
  JSON.stringify([
    {
      _tag: "Request",
      id: "1",
      tag: "signup",
      payload: { email, password: "correct horse battery", name: "Signed" },
      headers: []
    }
  ])

const uniqueEmail = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${newNonce().slice(0, 8)}@example.com`

// A URL call to a service Worker, signed by hand so that each part can be
// got wrong on purpose.
const signedRequest = async (shop: Shop, call: SignedCall) => {
  const path = call.path ?? "/internal/auth/rpc"
  const body = call.body ?? signupBody(uniqueEmail("signed"))
  const timestamp = call.timestamp ?? Date.now()
  const nonce = call.nonce ?? newNonce()
  const signature = await Effect.runPromise(
    sign(Redacted.make(call.secret ?? shop.secrets.INTERNAL_SECRET), {
      method: "POST",
      pathAndQuery: path,
      timestamp,
      nonce,
      body: encoder.encode(call.signedBody ?? body)
    })
  )
  return {
    url: `http://auth.internal${path}`,
    init: {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        [SignatureHeaders.timestamp]: String(timestamp),
        [SignatureHeaders.nonce]: nonce,
        [SignatureHeaders.signature]: signature
      }
    }
  }
}

const send = async (shop: Shop, worker: string, request: { url: string; init: RequestInit }) => {
  const response = await shop.workerFetch(worker)(new Request(request.url, request.init))
  return { status: response.status, body: (await response.json()) as { error?: string; message?: string } }
}

describe("service Workers answer URL calls only when signed", () => {
  it("refuses an unsigned call", async () => {
    const { shop } = await start()
    const response = await shop.workerFetch(workerNames.auth)(
      new Request("http://auth.internal/internal/auth/rpc", {
        method: "POST",
        body: signupBody(uniqueEmail("unsigned"))
      })
    )
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({ error: "unauthorized" })
  })

  it("refuses a call signed with another secret", async () => {
    const { shop } = await start()
    const reply = await send(shop, workerNames.auth, await signedRequest(shop, { secret: "not-the-internal-secret" }))
    expect(reply).toMatchObject({ status: 401, body: { error: "unauthorized", message: "The signature is not valid" } })
  })

  it("refuses a call whose body is not the one signed", async () => {
    const { shop } = await start()
    const reply = await send(
      shop,
      workerNames.auth,
      await signedRequest(shop, { signedBody: signupBody(uniqueEmail("original")) })
    )
    expect(reply).toMatchObject({ status: 401, body: { message: "The signature is not valid" } })
  })

  it("refuses a call whose timestamp, nonce or path is not the one signed", async () => {
    const { shop } = await start()
    const tamper = async (change: (request: { url: string; init: RequestInit }) => void) => {
      const request = await signedRequest(shop, {})
      change(request)
      return send(shop, workerNames.auth, request)
    }
    const headers = (request: { init: RequestInit }) => request.init.headers as Record<string, string>
    const timestamp = await tamper((request) => {
      headers(request)[SignatureHeaders.timestamp] = String(Number(headers(request)[SignatureHeaders.timestamp]) - 1000)
    })
    const nonce = await tamper((request) => {
      headers(request)[SignatureHeaders.nonce] = newNonce()
    })
    const path = await tamper((request) => {
      request.url = "http://auth.internal/internal/catalog/rpc"
    })
    for (const reply of [timestamp, nonce, path]) {
      expect(reply).toMatchObject({ status: 401, body: { message: "The signature is not valid" } })
    }
  })

  it("refuses an oversized streamed body with 413", async () => {
    const { shop } = await start()
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024))
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 64) return controller.close()
        sent++
        controller.enqueue(chunk)
      }
    })
    const request = await signedRequest(shop, {})
    const response = await shop.workerFetch(workerNames.auth)(
      new Request(request.url, { ...request.init, body, duplex: "half" } as RequestInit)
    )
    expect(response.status).toBe(413)
  })

  it("refuses a call signed more than 60 s ago, or more than 60 s ahead", async () => {
    const { shop } = await start()
    const old = await send(shop, workerNames.auth, await signedRequest(shop, { timestamp: Date.now() - 61_000 }))
    expect(old).toMatchObject({ status: 401, body: { message: "The signature has expired" } })
    const ahead = await send(shop, workerNames.auth, await signedRequest(shop, { timestamp: Date.now() + 61_000 }))
    expect(ahead).toMatchObject({ status: 401, body: { message: "The signature has expired" } })
  })

  it("answers a signed call once, and refuses its replay inside the window", async () => {
    const { shop } = await start()
    const request = await signedRequest(shop, {})
    const first = await send(shop, workerNames.auth, request)
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject([{ _tag: "Exit", requestId: "1", exit: { _tag: "Success" } }])
    const replay = await send(shop, workerNames.auth, request)
    expect(replay).toMatchObject({ status: 401, body: { message: "This call was already made" } })
  })

  it("answers a well-signed but malformed exchange without hanging", async () => {
    const { shop } = await start()
    const exchanges = [
      "not json",
      JSON.stringify({ _tag: "Request" }),
      JSON.stringify([{ _tag: "Bogus" }]),
      JSON.stringify([{ _tag: "Request", id: "1", tag: "noSuchMethod", payload: {}, headers: [] }]),
      JSON.stringify([{ _tag: "Request", id: "1", tag: "signup", payload: { email: 1 }, headers: [] }])
    ]
    for (const body of exchanges) {
      const reply = await send(shop, workerNames.auth, await signedRequest(shop, { body }))
      expect([200, 400], body).toContain(reply.status)
    }
  })

  it("refuses a call signed for one service when sent to another", async () => {
    const { shop } = await start()
    // Same secret, but the signed path names auth: catalog will not run it.
    const request = await signedRequest(shop, { path: "/internal/auth/rpc" })
    const reply = await send(shop, workerNames.catalog, request)
    expect(reply.status).toBe(404)
  })

  effectIt.live("serves the client layer over a signed URL, typed failures included", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { shop } = yield* Effect.promise(start)
        // The same client the gateway uses, on the URL transport instead of a
        // binding; `fetch` reaches the auth Worker's URL door without a socket.
        const auth = yield* makeClient(AuthRpcs, "Auth").pipe(
          Effect.provide(
            Transports.url({
              service: "auth",
              baseUrl: new URL("http://auth.internal"),
              secret: Redacted.make(shop.secrets.INTERNAL_SECRET),
              fetch: shop.workerFetch(workerNames.auth)
            })
          )
        )
        const input = { email: uniqueEmail("client"), password: "correct horse battery", name: "Client" }
        const created = yield* auth.signup(input)
        assert.strictEqual(created.email, input.email)
        const again = yield* Effect.exit(auth.signup(input))
        assert.isTrue(Exit.isFailure(again))
        const error = yield* Effect.flip(auth.signup(input))
        assert.instanceOf(error, EmailExists)
        assert.strictEqual(error.error, "email_exists")
      })
    )
  )
})

describe("service bindings", () => {
  effectIt.live("a client over the binding's RPC method gets typed failures as their own classes", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { shop } = yield* Effect.promise(start)
        // The Worker's RPC door, called from here as a binding would call it.
        const exported = yield* Effect.promise(() => shop.harness.getWorker(workerNames.auth).getExport())
        const remote = exported as unknown as ServiceBinding
        // Miniflare's proxy of the export may answer synchronously; a
        // binding's method returns a promise.
        const stub: ServiceBinding = { call: async (messages) => remote.call(messages) }
        const auth = yield* makeClient(AuthRpcs, "Auth").pipe(Effect.provide(Transports.binding("auth", stub)))
        const input = { email: uniqueEmail("binding"), password: "correct horse battery", name: "Binding" }
        const created = yield* auth.signup(input)
        assert.strictEqual(created.email, input.email)
        const error = yield* Effect.flip(auth.signup(input))
        assert.instanceOf(error, EmailExists)
        assert.strictEqual(error.error, "email_exists")
      })
    )
  )
})

describe("URL fallback", () => {
  it("a gateway without bindings reaches every service by signed URL calls, typed failures included", async () => {
    const { shop } = await start()
    const gateway = shop.workerFetch(workerNames.urlGateway)
    const before = shop.relayed().length
    const post = (path: string, body: unknown) =>
      gateway(
        new Request(`http://shop.test${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body)
        })
      )
    const account = { email: uniqueEmail("by-url"), password: "correct horse battery", name: "By URL" }
    expect((await post("/api/auth/signup", account)).status).toBe(201)
    const again = await post("/api/auth/signup", account)
    expect(again.status).toBe(409)
    expect(await again.json()).toMatchObject({ error: "email_exists" })
    const login = await post("/api/auth/login", { email: account.email, password: account.password })
    expect(login.status).toBe(200)
    expect((await gateway(new Request("http://shop.test/api/products?limit=1"))).status).toBe(200)

    // Fulfillment and coupons by URL too: an admin sets a tax rate and creates
    // a coupon, a refused rate comes
    // back as its typed 400, and the list reads it.
    const admin = { email: uniqueEmail("by-url-admin"), password: "correct horse battery", name: "Admin" }
    const adminSignup = await gateway(
      new Request("http://shop.test/api/auth/admin/signup", {
        method: "POST",
        headers: { "content-type": "application/json", "x-admin-secret": shop.secrets.ADMIN_SECRET },
        body: JSON.stringify(admin)
      })
    )
    expect(adminSignup.status).toBe(201)
    const adminLogin = await post("/api/auth/login", { email: admin.email, password: admin.password })
    const { accessToken } = (await adminLogin.json()) as { accessToken: string }
    const asAdmin = (method: string, path: string, body?: unknown) =>
      gateway(
        new Request(`http://shop.test${path}`, {
          method,
          headers: { "content-type": "application/json", authorization: `Bearer ${accessToken}` },
          ...(body === undefined ? {} : { body: JSON.stringify(body) })
        })
      )
    expect((await asAdmin("PUT", "/api/admin/tax-rates/SE", { rate: 2500 })).status).toBe(200)
    const coupon = await asAdmin("POST", "/api/admin/coupons", { code: "by-url", type: "percent", value: 5 })
    expect(coupon.status).toBe(201)
    expect(await coupon.json()).toMatchObject({ code: "BY-URL", used: 0 })
    const refused = await asAdmin("PUT", "/api/admin/tax-rates/XX", { rate: 1 })
    expect(refused.status).toBe(400)
    expect(await refused.json()).toMatchObject({ error: "validation_error" })
    const listed = await asAdmin("GET", "/api/admin/tax-rates")
    expect(await listed.json()).toMatchObject({
      rates: expect.arrayContaining([{ country: "SE", rate: 2500, shippingTaxable: false }])
    })

    // A product image by URL: 2 MiB of bytes cross as base64 in a signed
    // call, over the default 1 MiB a service takes (the catalog takes 8).
    const product = await asAdmin("POST", "/api/admin/products", {
      sku: `BY-URL-${Date.now()}`,
      title: "By URL",
      price: { amount: 100, currency: "USD" }
    })
    const { productId } = (await product.json()) as { productId: string }
    const picture = sampleImage("webp", 2 * 1024 * 1024, 3)
    const form = new FormData()
    form.append("file", new Blob([picture], { type: "image/webp" }), "big.webp")
    const uploaded = await gateway(
      new Request(`http://shop.test/api/admin/products/${productId}/images`, {
        method: "POST",
        headers: { authorization: `Bearer ${accessToken}` },
        body: form
      })
    )
    expect(uploaded.status).toBe(201)
    const { url } = (await uploaded.json()) as { url: string }
    const served = await gateway(new Request(`http://shop.test${url}`))
    expect(served.status).toBe(200)
    expect(served.headers.get("content-type")).toBe("image/webp")
    expect(Buffer.compare(new Uint8Array(await served.arrayBuffer()), picture)).toBe(0)

    // An Idempotency-Key by URL: the records are in the idempotency Worker.
    const keyed = () =>
      gateway(
        new Request("http://shop.test/api/auth/signup", {
          method: "POST",
          headers: { "content-type": "application/json", "idempotency-key": `by-url-${account.email}` },
          body: JSON.stringify({ ...account, email: `keyed-${account.email}` })
        })
      )
    const first = await keyed()
    expect(first.status).toBe(201)
    const replayed = await keyed()
    expect(replayed.status).toBe(201)
    expect(replayed.headers.get("idempotent-replayed")).toBe("true")
    expect(await replayed.text()).toBe(await first.text())

    const calls = shop.relayed().slice(before)
    expect(calls.map((c) => c.path)).toEqual(
      expect.arrayContaining([
        "/internal/auth/rpc",
        "/internal/catalog/rpc",
        "/internal/fulfillment/rpc",
        "/internal/coupons/rpc",
        "/internal/idempotency/rpc"
      ])
    )
    expect(calls.every((c) => c.signed)).toBe(true)
  })
})

describe("idempotency Worker", () => {
  it("declares its hourly Cron Trigger, and a scheduled run (the sweep of expired keys) succeeds", async () => {
    const config = unstable_readConfig({ config: `${root}/idempotency/wrangler.jsonc` })
    expect(config.triggers.crons).toEqual(["17 * * * *"])
    const { shop } = await start()
    const result = await shop.harness
      .getWorker(workerNames.idempotency)
      .scheduled({ cron: "17 * * * *", scheduledTime: new Date() })
    expect(result.outcome).toBe("ok")
  })
})

describe("only the gateway is reachable", () => {
  it("declares no route, workers.dev or preview URL for the service Workers", () => {
    for (const service of ["auth", "catalog", "inventory", "fulfillment", "coupons", "idempotency", "cart"]) {
      const config = unstable_readConfig({ config: `${root}/${service}/wrangler.jsonc` })
      expect(config.workers_dev, service).toBe(false)
      expect(config.preview_urls, service).toBe(false)
      expect(config.routes ?? [], service).toEqual([])
      expect(config.route, service).toBeUndefined()
    }
  })

  it("gives each service its own D1 database", () => {
    const ids = ["auth", "catalog", "inventory", "fulfillment", "coupons", "idempotency"].map((service) => {
      const config = unstable_readConfig({ config: `${root}/${service}/wrangler.jsonc` })
      expect(config.d1_databases.map((d: { readonly binding: string }) => d.binding)).toEqual(["DB"])
      return config.d1_databases[0]!.database_id
    })
    // Local D1 storage is keyed by the id: a shared id would be one database.
    expect(new Set(ids).size).toBe(6)
  })

  it("keeps each cart in a SQLite-backed Durable Object of the cart Worker's own class", () => {
    const config = unstable_readConfig({ config: `${root}/cart/wrangler.jsonc` })
    expect(config.durable_objects.bindings).toEqual([
      { name: "CART_OBJECTS", class_name: "CartObject" },
      // Not a class of its own: the inventory Worker's, for the products its objects keep (CatalogProducts.ts).
      { name: "CATALOG_VERSION", class_name: "CatalogVersion", script_name: "shop-inventory" }
    ])
    expect(config.migrations).toEqual([{ tag: "v1", new_sqlite_classes: ["CartObject"] }])
    expect(config.d1_databases).toEqual([])
  })

  it("keeps coupon definitions in their own KV namespace", () => {
    const config = unstable_readConfig({ config: `${root}/coupons/wrangler.jsonc` })
    expect(config.kv_namespaces.map((kv: { readonly binding: string }) => kv.binding)).toEqual(["COUPONS_KV"])
  })

  it("does not forward internal paths from the public URL", async () => {
    const { shop } = await start()
    const response = await fetch(new URL("/internal/auth/rpc", shop.url), {
      method: "POST",
      body: signupBody(uniqueEmail("public"))
    })
    expect(response.status).toBe(404)
  })
})

describe("D1 limits", () => {
  const call = async (
    shop: Shop,
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string> = {}
  ) => {
    const response = await shop.fetch(
      new Request(`http://shop.test${path}`, {
        method,
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body)
      })
    )
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  let token = ""

  it("has an admin to create products with", async () => {
    const { shop } = await start()
    const email = uniqueEmail("d1-admin")
    const password = "correct horse battery"
    const headers = { "x-admin-secret": shop.secrets.ADMIN_SECRET }
    expect(
      (await call(shop, "POST", "/api/auth/admin/signup", { email, password, name: "Admin" }, headers)).status
    ).toBe(201)
    const login = await call(shop, "POST", "/api/auth/login", { email, password })
    expect(login.status).toBe(200)
    token = String(login.body["accessToken"])
  })

  // D1 allows at most 100 bound parameters per statement; the SQL
  // repositories split long lists into several statements of one batch.
  it("creates a product with 100 variants, the most the API allows", async () => {
    const { shop } = await start()
    const sku = `WIDE-${newNonce().slice(0, 10).toUpperCase()}`
    const variants = Array.from({ length: 100 }, (_, i) => ({
      sku: `${sku}-${i}`,
      price: { amount: 100 + i, currency: "USD" },
      stock: 1
    }))
    const created = await call(
      shop,
      "POST",
      "/api/admin/products",
      { sku, title: "Wide", variants },
      {
        authorization: `Bearer ${token}`
      }
    )
    expect(created.status).toBe(201)
  })
})

describe("tracing across Workers", () => {
  it("one login is one trace from the gateway into the auth Worker, continuing traceparent", async () => {
    const { shop, otlp } = await start()
    const email = uniqueEmail("traced")
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      shop.fetch(
        new Request(`http://shop.test${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify(body)
        })
      )
    expect((await post("/api/auth/signup", { email, password: "correct horse battery", name: "T" })).status).toBe(201)

    const traceId = newNonce()
    const incoming = "00f067aa0ba902b7"
    const response = await post(
      "/api/auth/login",
      { email, password: "correct horse battery" },
      {
        traceparent: `00-${traceId}-${incoming}-01`
      }
    )
    expect(response.status).toBe(200)

    // Spans leave each Worker after its response (waitUntil): wait for both.
    const deadline = Date.now() + 15_000
    let spans = otlp.spans().filter((s) => s.traceId === traceId)
    while (
      Date.now() < deadline &&
      !(
        spans.some((s) => s.service === workerNames.auth && s.name === "Auth.login") &&
        spans.some((s) => s.service === workerNames.gateway && s.kind === 2)
      )
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      spans = otlp.spans().filter((s) => s.traceId === traceId)
    }
    const names = spans.map((s) => `${s.service}:${s.name}`)
    const server = spans.find((s) => s.service === workerNames.gateway && s.kind === 2)
    expect(server, names.join(", ")).toBeDefined()
    expect(server!.parentSpanId).toBe(incoming)
    expect(names).toContain(`${workerNames.gateway}:AuthClient.login`)
    expect(names).toContain(`${workerNames.auth}:AuthServer.login`)
    expect(names).toContain(`${workerNames.auth}:Auth.login`)

    // Auth.login hangs, through the binding, under the gateway's request span.
    const byId = new Map(spans.map((s) => [s.spanId, s]))
    const chain: Array<string> = []
    let parent = spans.find((s) => s.name === "Auth.login")!.parentSpanId
    while (parent !== undefined && byId.has(parent)) {
      chain.push(`${byId.get(parent)!.service}:${byId.get(parent)!.name}`)
      parent = byId.get(parent)!.parentSpanId
    }
    expect(chain).toEqual([
      `${workerNames.auth}:AuthServer.login`,
      `${workerNames.gateway}:AuthClient.login`,
      ...chain.slice(2)
    ])
    expect(chain).toContain(`${workerNames.gateway}:${server!.name}`)
    expect(parent).toBe(incoming)

    // The JSON log lines of both Workers carry the same trace id.
    const lines = shop.harness
      .getLogs()
      .flatMap((log) => {
        try {
          return [JSON.parse(log.message) as { service?: string; traceId?: string }]
        } catch {
          return []
        }
      })
      .filter((line) => line.traceId === traceId)
    expect(new Set(lines.map((line) => line.service))).toEqual(new Set([workerNames.gateway, workerNames.auth]))
  })
})

describe("the cart Worker", () => {
  const cartIdChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
  // An id of the shape the gateway draws (cart_ and 24 random characters).
  const newCartId = () =>
    Schema.decodeSync(CartId)(`cart_${Array.from(randomBytes(24), (byte) => cartIdChars[byte % 62]).join("")}`)

  // The tables in one cart object's storage, read inside the object by the
  // test harness (miniflare): nothing in the Workers exposes storage. The
  // runtime's own tables (_cf_*, sqlite_*) and the one miniflare adds to
  // every object it starts by name, this inspection included
  // (__miniflare_do_name), are not the cart's.
  const tablesOf = async (shop: Shop, worker: string, cartId: string) => {
    const storage = await shop.harness.getWorker(worker).getDurableObjectStorage("CartObject", { name: cartId })
    const rows = await storage.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
    return rows.map((row) => row.name).filter((name) => !/^(_cf_|sqlite_|__miniflare_)/.test(name))
  }

  const json = async (response: Response) => ({
    status: response.status,
    body: (await response.json()) as Record<string, unknown>
  })
  const request =
    (fetch: (request: Request) => Promise<Response>) =>
    async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      json(
        await fetch(
          new Request(`http://shop.test${path}`, {
            method,
            headers: { "content-type": "application/json", ...headers },
            ...(body === undefined ? {} : { body: JSON.stringify(body) })
          })
        )
      )

  // One product with plenty of stock, created by an admin through the gateway.
  let product: Promise<string> | undefined
  const stockedProduct = () =>
    (product ??= (async () => {
      const { shop } = await start()
      const call = request(shop.fetch)
      const email = uniqueEmail("cart-admin")
      const password = "correct horse battery"
      const signup = await call(
        "POST",
        "/api/auth/admin/signup",
        { email, password, name: "Admin" },
        { "x-admin-secret": shop.secrets.ADMIN_SECRET }
      )
      expect(signup.status).toBe(201)
      const login = await call("POST", "/api/auth/login", { email, password })
      const sku = `CART-${newNonce().slice(0, 10).toUpperCase()}`
      const created = await call(
        "POST",
        "/api/admin/products",
        {
          sku,
          title: "Cart test",
          variants: [{ sku: `${sku}-1`, price: { amount: 250, currency: "USD" }, stock: 1000 }]
        },
        { authorization: `Bearer ${String(login.body["accessToken"])}` }
      )
      expect(created.status).toBe(201)
      return String(created.body["productId"])
    })())

  effectIt.live("routes each call to its cart's object; typed failures cross as their own classes", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { shop } = yield* Effect.promise(start)
        // The Worker's RPC door, called from here as the gateway's binding calls it.
        const exported = yield* Effect.promise(() => shop.harness.getWorker(workerNames.cart).getExport())
        const remote = exported as unknown as ServiceBinding
        const stub: ServiceBinding = { call: async (messages) => remote.call(messages) }
        const carts = yield* makeClient(CartRpcs, "Cart").pipe(Effect.provide(Transports.binding("cart", stub)))

        const cartId = newCartId()
        const missing = yield* Effect.flip(carts.get({ cartId, caller: null }))
        assert.instanceOf(missing, CartNotFound)
        assert.strictEqual(missing.error, "cart_not_found")
        // A read of a cart nobody created leaves no storage behind.
        assert.deepStrictEqual(yield* Effect.promise(() => tablesOf(shop, workerNames.cart, cartId)), [])

        const created = yield* carts.create({ cartId, userId: null })
        assert.strictEqual(created.cartId, cartId)
        const read = yield* carts.get({ cartId, caller: null })
        assert.deepStrictEqual(read, created)
        assert.deepStrictEqual(yield* Effect.promise(() => tablesOf(shop, workerNames.cart, cartId)), ["cart"])
        // Another cart id is another object, with nothing in it.
        const other = yield* Effect.flip(carts.get({ cartId: newCartId(), caller: null }))
        assert.instanceOf(other, CartNotFound)
      })
    )
  )

  it("answers calls it cannot route with a Defect, never by throwing", async () => {
    const { shop } = await start()
    const remote = (await shop.harness.getWorker(workerNames.cart).getExport()) as unknown as {
      readonly call: (messages: unknown) => unknown
    }
    const request = (payload: unknown) => ({ _tag: "Request", id: "1", tag: "get", payload, headers: [] })
    const garbage: ReadonlyArray<unknown> = [
      "not messages",
      null,
      [],
      [{ no: "tag" }],
      [request({ caller: null })],
      [request({ cartId: "cart_short", caller: null })],
      [request({ cartId: "../../etc/passwd", caller: null })],
      [request({ cartId: 42, caller: null })],
      [request({ cartId: newCartId(), caller: null }), request({ cartId: newCartId(), caller: null })]
    ]
    for (const messages of garbage) {
      const answer = await remote.call(messages)
      expect(answer, JSON.stringify(messages)).toEqual([{ _tag: "Defect", defect: expect.any(String) }])
    }
  })

  it("has no URL door: whatever reaches its fetch, signed or not, is 404", async () => {
    const { shop } = await start()
    const body = JSON.stringify([
      { _tag: "Request", id: "1", tag: "create", payload: { cartId: newCartId(), userId: null }, headers: [] }
    ])
    const signed = await signedRequest(shop, { path: "/internal/cart/rpc", body })
    for (const request of [
      new Request(signed.url.replace("auth.internal", "cart.internal"), signed.init),
      new Request("http://cart.internal/", { method: "POST", body })
    ]) {
      const response = await shop.workerFetch(workerNames.cart)(request)
      expect(response.status).toBe(404)
      expect(await response.json()).toMatchObject({ error: "not_found" })
    }
  })

  it("one cart change is one trace: gateway, the cart's object, and the services it calls", async () => {
    const { shop, otlp } = await start()
    const productId = await stockedProduct()
    const call = request(shop.fetch)
    const init = await call("POST", "/api/cart/init")
    const cartId = String(init.body["cartId"])
    const traceId = newNonce()
    const added = await call(
      "POST",
      `/api/cart/${cartId}/add`,
      { productId, quantity: 1 },
      { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }
    )
    expect(added.status).toBe(200)

    // Spans leave each Worker (and the object) after its response: wait for them.
    const wanted = [
      `${workerNames.gateway}:CartClient.add`,
      `${workerNames.cart}:CartServer.add`,
      `${workerNames.cart}:Carts.add`,
      `${workerNames.cart}:CatalogClient.get`,
      `${workerNames.catalog}:CatalogServer.get`
    ]
    const names = () =>
      otlp
        .spans()
        .filter((s) => s.traceId === traceId)
        .map((s) => `${s.service}:${s.name}`)
    const deadline = Date.now() + 15_000
    while (!wanted.every((name) => names().includes(name)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(names()).toEqual(expect.arrayContaining(wanted))

    // The catalog call hangs under the object's server span, which hangs
    // under the gateway's client span.
    const spans = otlp.spans().filter((s) => s.traceId === traceId)
    const byId = new Map(spans.map((s) => [s.spanId, s]))
    const chain: Array<string> = []
    let parent = spans.find((s) => s.service === workerNames.catalog && s.name === "CatalogServer.get")?.parentSpanId
    while (parent !== undefined && byId.has(parent)) {
      chain.push(`${byId.get(parent)!.service}:${byId.get(parent)!.name}`)
      parent = byId.get(parent)!.parentSpanId
    }
    expect(chain).toEqual(
      expect.arrayContaining([
        `${workerNames.cart}:CatalogClient.get`,
        `${workerNames.cart}:Carts.add`,
        `${workerNames.cart}:CartServer.add`,
        `${workerNames.gateway}:CartClient.add`
      ])
    )
  })

  it("an idle cart's alarm deletes its object's storage once the cart has expired", async () => {
    const { shop } = await start()
    const productId = await stockedProduct()
    // The gateway in front of the cart Worker whose carts expire in seconds.
    const call = request(shop.workerFetch(workerNames.shortGateway))
    const init = await call("POST", "/api/cart/init")
    expect(init.status).toBe(201)
    const cartId = String(init.body["cartId"])
    const added = await call("POST", `/api/cart/${cartId}/add`, { productId, quantity: 1 })
    expect(added.status, JSON.stringify(added.body)).toBe(200)
    const savedAt = Date.now()
    expect(await tablesOf(shop, workerNames.shortCart, cartId)).toEqual(["cart"])

    // The alarm fires at the expiry, shortCartTtlSeconds after the last change.
    const deadline = savedAt + shortCartTtlSeconds * 1000 + 20_000
    let tables = await tablesOf(shop, workerNames.shortCart, cartId)
    while (tables.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250))
      tables = await tablesOf(shop, workerNames.shortCart, cartId)
    }
    expect(tables).toEqual([])
    expect(Date.now() - savedAt).toBeGreaterThanOrEqual(shortCartTtlSeconds * 1000 - 50)
    // It was the alarm: its log line says it deleted an object (log lines
    // reach the harness a moment after they are written).
    const alarmLogged = () =>
      shop.harness.getLogs().some((log) => {
        try {
          const line = JSON.parse(log.message) as { service?: string; message?: string; outcome?: string }
          return line.service === workerNames.cart && line.message === "cart alarm" && line.outcome === "deleted"
        } catch {
          return false
        }
      })
    while (!alarmLogged() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(alarmLogged()).toBe(true)

    const gone = await call("GET", `/api/cart/${cartId}`)
    expect(gone).toMatchObject({ status: 404, body: { error: "cart_not_found" } })
    // Reading it did not bring storage back.
    expect(await tablesOf(shop, workerNames.shortCart, cartId)).toEqual([])
  })
})
