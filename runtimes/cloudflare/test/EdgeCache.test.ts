import { Effect, Schema } from "effect"
import { VariantId } from "@shop/domain/Ids"
import { HoldId } from "@shop/domain/Inventory"
import { InventoryRpcs } from "@shop/domain/ServiceContracts"
import { makeClient } from "@shop/domain/ServiceTransport"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ServiceBinding } from "../src/Env.ts"
import { newNonce } from "../src/Signing.ts"
import * as Transports from "../src/Transports.ts"
import type { CatalogVersionStub } from "../src/CatalogVersion.ts"
import { bumpWaitMillis, trustMillis } from "../src/VersionLease.ts"
import { type Shop, startShop, workerNames } from "./Shop.ts"

// The gateway Worker's edge cache of anonymous catalog reads
// (src/EdgeCache.ts) under workerd: wrangler's test harness runs the Workers
// Cache API (`caches.default`) locally with no option to set, as
// `npm run dev:workers` does. `x-cache` tells a HIT (answered from the cache)
// from a MISS (the services answered). Every write, to the catalog or to the
// stock, must be visible on the very next read: the keys carry the catalog
// version (src/CatalogVersion.ts), which each write bumps before it answers.

interface Exchange {
  readonly status: number
  readonly headers: Headers
  readonly text: string
}

describe("gateway Worker, edge cache of catalog reads", () => {
  let shop: Shop
  let admin: Record<string, string>
  let buyer: Record<string, string>

  const send = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {}
  ): Promise<Exchange> => {
    const response = await shop.fetch(
      new Request(`http://shop.test${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
    )
    return { status: response.status, headers: response.headers, text: await response.text() }
  }
  const get = (path: string, headers: Record<string, string> = {}) => send("GET", path, undefined, headers)
  const bodyOf = (exchange: Exchange) => JSON.parse(exchange.text) as Record<string, unknown>

  const signIn = async (kind: "admin" | "user") => {
    const email = `edge-${kind}-${newNonce().slice(0, 12)}@example.com`
    const password = "correct horse battery"
    const signup =
      kind === "admin"
        ? await send(
            "POST",
            "/api/auth/admin/signup",
            { email, password, name: "Admin" },
            { "x-admin-secret": shop.secrets.ADMIN_SECRET }
          )
        : await send("POST", "/api/auth/signup", { email, password, name: "Buyer" })
    expect(signup.status, signup.text).toBe(201)
    const login = await send("POST", "/api/auth/login", { email, password })
    expect(login.status).toBe(200)
    return { authorization: `Bearer ${String(bodyOf(login)["accessToken"])}` }
  }

  beforeAll(async () => {
    shop = await startShop()
    admin = await signIn("admin")
    buyer = await signIn("user")
  })

  afterAll(async () => {
    await shop?.close()
  })

  const newProduct = async (stock = 20, category = "edge-cache") => {
    const sku = `EDGE-${newNonce().slice(0, 10).toUpperCase()}`
    const created = await send(
      "POST",
      "/api/admin/products",
      {
        sku,
        title: "Edge cached",
        category,
        variants: [{ sku: `${sku}-1`, price: { amount: 900, currency: "USD" }, stock }]
      },
      admin
    )
    expect(created.status, created.text).toBe(201)
    const product = bodyOf(created)
    const variants = product["variants"] as ReadonlyArray<{ variantId: string }>
    return { productId: String(product["productId"]), variantId: variants[0]?.variantId ?? "" }
  }

  const availableIn = (exchange: Exchange) =>
    (bodyOf(exchange)["variants"] as ReadonlyArray<{ available: number }>)[0]?.available

  // The entry is stored in the background (waitUntil) after the MISS is
  // answered: read until the cache has it, a bounded number of times.
  const untilHit = async (path: string) => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const reply = await get(path)
      if (reply.headers.get("x-cache") === "HIT") return reply
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    throw new Error(`${path} was never answered from the edge cache`)
  }

  it("a read is a MISS, then a HIT with the same body, ETag and Cache-Control", async () => {
    const { productId } = await newProduct()
    const path = `/api/products/${productId}`
    const miss = await get(path)
    expect(miss.status).toBe(200)
    expect(miss.headers.get("x-cache")).toBe("MISS")
    const hit = await untilHit(path)
    expect(hit.status).toBe(200)
    expect(hit.text).toBe(miss.text)
    expect(hit.headers.get("etag")).toBe(miss.headers.get("etag"))
    expect(hit.headers.get("cache-control")).toBe(miss.headers.get("cache-control"))
    expect(hit.headers.get("cache-control")).toMatch(/^public, max-age=\d+/)
    expect(hit.headers.get("content-type")).toContain("application/json")
    // Each answer has its own request id, even from the cache.
    expect(hit.headers.get("x-request-id")).not.toBe(miss.headers.get("x-request-id"))
  })

  it("the list is cached too, and a HIT answers 304 to a matching If-None-Match", async () => {
    const category = `edge-${newNonce().slice(0, 8).toLowerCase()}`
    await newProduct(5, category)
    const path = `/api/products?category=${category}`
    const miss = await get(path)
    expect(miss.headers.get("x-cache")).toBe("MISS")
    const etag = miss.headers.get("etag") ?? ""
    await untilHit(path)
    const notModified = await get(path, { "if-none-match": etag })
    expect({ status: notModified.status, text: notModified.text, xCache: notModified.headers.get("x-cache") }).toEqual({
      status: 304,
      text: "",
      xCache: "HIT"
    })
    expect(notModified.headers.get("etag")).toBe(etag)
    expect(notModified.headers.get("cache-control")).toMatch(/^public, max-age=\d+/)
  })

  it("a MISS also answers 304 to a matching If-None-Match (and still stores the body)", async () => {
    const { productId } = await newProduct()
    const path = `/api/products/${productId}`
    const first = await get(path, { authorization: buyer.authorization ?? "" })
    const etag = first.headers.get("etag") ?? ""
    const conditional = await get(path, { "if-none-match": etag })
    expect({ status: conditional.status, xCache: conditional.headers.get("x-cache") }).toEqual({
      status: 304,
      xCache: "MISS"
    })
    const hit = await untilHit(path)
    expect(hit.text).toBe(first.text)
  })

  it("an admin product update is visible on the very next read", async () => {
    const { productId } = await newProduct()
    const path = `/api/products/${productId}`
    await get(path)
    const cached = await untilHit(path)
    const updated = await send("PUT", `/api/admin/products/${productId}`, { title: "Renamed at the edge" }, admin)
    expect(updated.status, updated.text).toBe(200)
    const next = await get(path, { "if-none-match": cached.headers.get("etag") ?? "" })
    expect(next.status).toBe(200)
    expect(next.headers.get("x-cache")).toBe("MISS")
    expect(bodyOf(next)["title"]).toBe("Renamed at the edge")
    expect(next.headers.get("etag")).not.toBe(cached.headers.get("etag"))
  })

  it("an admin stock adjustment is visible on the very next read", async () => {
    const { productId, variantId } = await newProduct(20)
    const path = `/api/products/${productId}`
    await get(path)
    expect(availableIn(await untilHit(path))).toBe(20)
    const adjusted = await send("PUT", `/api/admin/inventory/${variantId}`, { adjust: -4 }, admin)
    expect(adjusted.status, adjusted.text).toBe(200)
    const next = await get(path)
    expect(next.headers.get("x-cache")).toBe("MISS")
    expect(availableIn(next)).toBe(16)
  })

  it("a checkout hold is visible on the very next read", async () => {
    const { productId } = await newProduct(20)
    const path = `/api/products/${productId}`
    await get(path)
    expect(availableIn(await untilHit(path))).toBe(20)
    const cart = await send("POST", "/api/cart/init", undefined, buyer)
    const cartId = String(bodyOf(cart)["cartId"])
    const address = {
      name: "Ada",
      line1: "1 Congress Ave",
      city: "Austin",
      region: "TX",
      postalCode: "78701",
      country: "US"
    }
    for (const [step, body] of [
      ["/add", { productId, quantity: 3 }],
      ["/address", { address }],
      ["/shipping", { methodId: "standard" }]
    ] as const) {
      const reply = await send("POST", `/api/cart/${cartId}${step}`, body, buyer)
      expect(reply.status, reply.text).toBe(200)
    }
    const started = await send("POST", "/api/checkout/start", { cartId }, buyer)
    expect(started.status, started.text).toBe(201)
    const next = await get(path)
    expect(next.headers.get("x-cache")).toBe("MISS")
    expect(availableIn(next)).toBe(17)
  })

  it("a hold expired by the inventory Worker's cron is visible on the very next read", async () => {
    const { productId, variantId } = await newProduct(10)
    const path = `/api/products/${productId}`
    const exported = await shop.harness.getWorker(workerNames.inventory).getExport()
    const remote = exported as unknown as ServiceBinding
    const stub: ServiceBinding = { call: async (messages) => remote.call(messages) }
    const hold = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const inventory = yield* makeClient(InventoryRpcs, "Inventory").pipe(
            Effect.provide(Transports.binding("inventory", stub))
          )
          return yield* inventory.reserve({
            holdId: Schema.decodeSync(HoldId)(`res_${newNonce()}`),
            lines: [{ variantId: Schema.decodeSync(VariantId)(variantId), quantity: 4 }],
            ttlSeconds: 1
          })
        })
      )
    )
    await get(path)
    expect(availableIn(await untilHit(path))).toBe(6)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(hold.expiresAt) + 250 - Date.now())))
    const outcome = await shop.harness
      .getWorker(workerNames.inventory)
      .scheduled({ cron: "* * * * *", scheduledTime: new Date() })
    expect(outcome.outcome).toBe("ok")
    const next = await get(path)
    expect(next.headers.get("x-cache")).toBe("MISS")
    expect(availableIn(next)).toBe(10)
  })

  // The cart's objects keep products per catalog version too
  // (src/CatalogProducts.ts), and the catalog Worker its records
  // (src/CatalogRecordCache.ts): a cart change after a write must see it.
  const addToCart = async (cartId: string, productId: string, variantId: string, quantity = 1) =>
    send("POST", `/api/cart/${cartId}/add`, { productId, variantId, quantity })
  const lineOf = (exchange: Exchange) =>
    (bodyOf(exchange)["items"] as ReadonlyArray<{ unitPrice: { amount: number }; quantity: number }>)[0]

  it("a price change is in the very next cart change", async () => {
    const { productId, variantId } = await newProduct(50)
    const cartId = String(bodyOf(await send("POST", "/api/cart/init"))["cartId"])
    const first = await addToCart(cartId, productId, variantId)
    expect(first.status, first.text).toBe(200)
    expect(lineOf(first)?.unitPrice.amount).toBe(900)
    // Twice, so that the product is certainly kept by now.
    expect(lineOf(await addToCart(cartId, productId, variantId))?.unitPrice.amount).toBe(900)
    const updated = await send(
      "PUT",
      `/api/admin/products/${productId}`,
      { variants: [{ variantId, price: { amount: 1250, currency: "USD" } }] },
      admin
    )
    expect(updated.status, updated.text).toBe(200)
    const next = await addToCart(cartId, productId, variantId)
    expect(next.status, next.text).toBe(200)
    expect(lineOf(next)).toMatchObject({ quantity: 3, unitPrice: { amount: 1250 } })
  })

  it("stock stays live for the cart while its product is kept", async () => {
    const { productId, variantId } = await newProduct(10)
    const cartId = String(bodyOf(await send("POST", "/api/cart/init"))["cartId"])
    expect((await addToCart(cartId, productId, variantId, 2)).status).toBe(200)
    expect((await addToCart(cartId, productId, variantId, 2)).status).toBe(200)
    const adjusted = await send("PUT", `/api/admin/inventory/${variantId}`, { adjust: -7 }, admin)
    expect(adjusted.status, adjusted.text).toBe(200)
    // 3 left: the cart's 4 plus 1 more is refused, whatever was kept.
    const refused = await addToCart(cartId, productId, variantId, 1)
    expect(refused.status, refused.text).toBe(409)
    expect(bodyOf(refused)["error"]).toBe("insufficient_stock")
  })

  // The other half of the version's lease (src/VersionLease.ts, whose tests
  // cover the readers' half): readers keep a version for trustMillis without
  // asking, so a write must not answer before bumpWaitMillis have passed
  // since its bump, or a read right after it could still use the version
  // from before it. A lower bound set by a timer, not a measure of speed.
  it("a bump answers only once every lease on the version before it has run out", async () => {
    expect(trustMillis).toBeLessThan(bumpWaitMillis)
    // The object itself, through the inventory Worker's binding ("catalog"
    // is CatalogVersion.ts's instanceName; that module needs workerd to load).
    const env = (await shop.harness.getWorker(workerNames.inventory).getEnv()) as {
      readonly CATALOG_VERSION: { readonly getByName: (name: string) => unknown }
    }
    const versions = env.CATALOG_VERSION.getByName("catalog") as CatalogVersionStub
    const before = await versions.current()
    const started = performance.now()
    const bumped = await versions.bump()
    expect(performance.now() - started).toBeGreaterThanOrEqual(bumpWaitMillis)
    expect(bumped).not.toBe(before)
    expect(await versions.current()).toBe(bumped)
  })

  it("a hold taken or released elsewhere is in the very next cart change's stock check", async () => {
    const { productId, variantId } = await newProduct(10)
    const cartId = String(bodyOf(await send("POST", "/api/cart/init"))["cartId"])
    expect((await addToCart(cartId, productId, variantId, 2)).status).toBe(200)
    // Twice, so that the product and its availability are certainly kept by now.
    expect((await addToCart(cartId, productId, variantId, 2)).status).toBe(200)
    const exported = await shop.harness.getWorker(workerNames.inventory).getExport()
    const remote = exported as unknown as ServiceBinding
    const stub: ServiceBinding = { call: async (messages) => remote.call(messages) }
    const holdId = Schema.decodeSync(HoldId)(`res_${newNonce()}`)
    const inventoryCall = (operation: "reserve" | "release") =>
      Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const inventory = yield* makeClient(InventoryRpcs, "Inventory").pipe(
              Effect.provide(Transports.binding("inventory", stub))
            )
            return operation === "reserve"
              ? yield* inventory.reserve({
                  holdId,
                  lines: [{ variantId: Schema.decodeSync(VariantId)(variantId), quantity: 7 }],
                  ttlSeconds: 600
                })
              : yield* inventory.release({ holdId })
          })
        )
      )
    // Another buyer's checkout holds 7 of the 10: 3 left, and the cart's 4 plus 1 is refused.
    await inventoryCall("reserve")
    const refused = await addToCart(cartId, productId, variantId, 1)
    expect(refused.status, refused.text).toBe(409)
    expect(bodyOf(refused)["details"]).toMatchObject({ available: 3, requested: 5 })
    // Released: all 10 are there again for the very next change.
    await inventoryCall("release")
    const added = await addToCart(cartId, productId, variantId, 1)
    expect(added.status, added.text).toBe(200)
    expect(lineOf(added)?.quantity).toBe(5)
  })

  it("a signed-in read is never served from the cache nor stored in it", async () => {
    const { productId } = await newProduct()
    const path = `/api/products/${productId}`
    // Signed in first: if it were stored, the anonymous read below would hit.
    const signedIn = await get(path, buyer)
    expect(signedIn.status).toBe(200)
    expect(signedIn.headers.get("x-cache")).toBe("BYPASS")
    expect(signedIn.headers.get("cache-control")).toBe("private, no-store")
    expect((await get(path)).headers.get("x-cache")).toBe("MISS")
    await untilHit(path)
    // Cached now, and still not served to a signed-in request.
    const again = await get(path, buyer)
    expect(again.headers.get("x-cache")).toBe("BYPASS")
    expect(again.headers.get("cache-control")).toBe("private, no-store")
    const list = await get("/api/products?limit=1", buyer)
    expect(list.headers.get("x-cache")).toBe("BYPASS")
  })

  it("errors and other routes are neither cached nor marked", async () => {
    const missing = await get("/api/products/prd_not_there")
    expect(missing.status).toBe(404)
    expect(missing.headers.get("x-cache")).toBe("MISS")
    expect(missing.headers.get("cache-control")).toBe("no-store")
    expect((await get("/api/products/prd_not_there")).headers.get("x-cache")).toBe("MISS")
    const health = await get("/health")
    expect(health.headers.get("x-cache")).toBeNull()
  })
})
