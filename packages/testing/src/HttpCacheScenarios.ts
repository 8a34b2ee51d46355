import { expect, it } from "vitest"
import { Cart } from "@shop/domain/Cart"
import { Product, ProductPage } from "@shop/domain/Catalog"
import { baseUrl, type Call, json, type Reply } from "./Client.ts"
import type { Account, Fixtures } from "./Fixtures.ts"
import { usd } from "./Fixtures.ts"
import type { Target } from "./Scenarios.ts"

// HTTP caching through the gateway (API.md, "Caching"), the same on every
// runtime: a strong ETag on the catalog reads, 304 to a matching
// If-None-Match, a new ETag after any change to what the read shows (the
// product, or its stock through an admin adjustment or a checkout hold), and
// the Cache-Control of each class of route. On Workers the anonymous reads
// go through the edge cache, so these also prove that a write is visible on
// the very next read there.

export interface HttpCacheContext {
  readonly target: () => Target
  readonly api: (method: string, path: string, call?: Call) => Promise<Reply>
  readonly shop: () => Fixtures
  readonly admin: () => Account
  readonly user: () => Account
}

const strongEtag = /^"[^"\s]+"$/
const publicShort = /^public, max-age=\d+(, stale-while-revalidate=\d+)?$/
const privateNoStore = "private, no-store"

const texas = {
  name: "Grace Hopper",
  line1: "1 Congress Ave",
  city: "Austin",
  region: "TX",
  postalCode: "78701",
  country: "US"
}

export const httpCacheScenarios = (context: HttpCacheContext) => {
  const { api } = context

  // The raw exchange: a 304's body must be empty, not merely unparsed.
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await context.target().fetch(new Request(`${baseUrl}${path}`, { headers }))
    return { status: response.status, headers: response.headers, text: await response.text() }
  }

  const newProduct = (fields: { readonly category?: string; readonly stock?: number } = {}) =>
    context.shop().createProduct(context.admin().token, { price: usd(1500), stock: 20, ...fields })

  const etagOf = (reply: { readonly headers: Headers }) => {
    const etag = reply.headers.get("etag")
    expect(etag).toMatch(strongEtag)
    return etag ?? ""
  }

  it("a product read has a strong ETag, the same for the same body, and a short public Cache-Control", async () => {
    const product = await newProduct()
    const first = await get(`/api/products/${product.productId}`)
    const second = await get(`/api/products/${product.productId}`)
    expect(first.status).toBe(200)
    expect(etagOf(first)).toBe(etagOf(second))
    expect(first.text).toBe(second.text)
    expect(first.headers.get("cache-control")).toMatch(publicShort)
  })

  it("If-None-Match with the current ETag answers 304 with the ETag, Cache-Control and no body", async () => {
    const product = await newProduct()
    const path = `/api/products/${product.productId}`
    const etag = etagOf(await get(path))
    for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, "*"]) {
      const reply = await get(path, { "if-none-match": header })
      expect({ header, status: reply.status, text: reply.text }).toEqual({ header, status: 304, text: "" })
      expect(reply.headers.get("etag")).toBe(etag)
      expect(reply.headers.get("cache-control")).toMatch(publicShort)
    }
    const other = await get(path, { "if-none-match": '"not-this-one"' })
    expect(other.status).toBe(200)
    expect(json({ body: JSON.parse(other.text) }, Product).productId).toBe(product.productId)
  })

  it("the product list has an ETag and answers 304 to it", async () => {
    const category = `cache-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
    await newProduct({ category })
    const path = `/api/products?category=${category}`
    const first = await get(path)
    expect(first.status).toBe(200)
    expect(json({ body: JSON.parse(first.text) }, ProductPage).items).toHaveLength(1)
    expect(first.headers.get("cache-control")).toMatch(publicShort)
    const again = await get(path, { "if-none-match": etagOf(first) })
    expect({ status: again.status, text: again.text }).toEqual({ status: 304, text: "" })
  })

  it("after a product update the next read is a 200 with a new ETag, the list too", async () => {
    const category = `cache-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
    const product = await newProduct({ category })
    const path = `/api/products/${product.productId}`
    const list = `/api/products?category=${category}`
    const before = etagOf(await get(path))
    const listBefore = etagOf(await get(list))
    const updated = await api("PUT", `/api/admin/products/${product.productId}`, {
      token: context.admin().token,
      body: { title: "Renamed for the cache" }
    })
    expect(updated.status).toBe(200)
    const after = await get(path, { "if-none-match": before })
    expect(after.status).toBe(200)
    expect(json({ body: JSON.parse(after.text) }, Product).title).toBe("Renamed for the cache")
    expect(etagOf(after)).not.toBe(before)
    const listAfter = await get(list, { "if-none-match": listBefore })
    expect(listAfter.status).toBe(200)
    expect(json({ body: JSON.parse(listAfter.text) }, ProductPage).items[0]?.title).toBe("Renamed for the cache")
  })

  it("after an admin stock adjustment the next read shows the new availability with a new ETag", async () => {
    const product = await newProduct({ stock: 20 })
    const variantId = product.variants[0]?.variantId ?? ""
    const path = `/api/products/${product.productId}`
    const before = etagOf(await get(path))
    const adjusted = await api("PUT", `/api/admin/inventory/${variantId}`, {
      token: context.admin().token,
      body: { adjust: -3 }
    })
    expect(adjusted.status).toBe(200)
    const after = await get(path, { "if-none-match": before })
    expect(after.status).toBe(200)
    expect(json({ body: JSON.parse(after.text) }, Product).variants[0]?.available).toBe(17)
    expect(etagOf(after)).not.toBe(before)
  })

  it("after a checkout hold the next read shows the held stock gone, with a new ETag", async () => {
    const buyer = context.user()
    const product = await newProduct({ stock: 20 })
    const path = `/api/products/${product.productId}`
    const before = etagOf(await get(path))
    const created = await api("POST", "/api/cart/init", { token: buyer.token })
    const cartId = json(created, Cart).cartId
    const steps: Array<[string, unknown]> = [
      ["/add", { productId: product.productId, quantity: 2 }],
      ["/address", { address: texas }],
      ["/shipping", { methodId: "standard" }]
    ]
    for (const [step, body] of steps) {
      const reply = await api("POST", `/api/cart/${cartId}${step}`, { token: buyer.token, body })
      expect(reply.status, JSON.stringify(reply.body)).toBe(200)
    }
    const started = await api("POST", "/api/checkout/start", { token: buyer.token, body: { cartId } })
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const after = await get(path, { "if-none-match": before })
    expect(after.status).toBe(200)
    expect(json({ body: JSON.parse(after.text) }, Product).variants[0]?.available).toBe(18)
    expect(etagOf(after)).not.toBe(before)
  })

  it("a signed-in catalog read is private, no-store (with its ETag), an anonymous one public", async () => {
    const product = await newProduct()
    const path = `/api/products/${product.productId}`
    const anonymous = await get(path)
    const signedIn = await get(path, { authorization: `Bearer ${context.user().token}` })
    expect(signedIn.status).toBe(200)
    expect(signedIn.headers.get("cache-control")).toBe(privateNoStore)
    expect(signedIn.text).toBe(anonymous.text)
    expect(etagOf(signedIn)).toBe(etagOf(anonymous))
    const list = await get("/api/products?limit=1", { authorization: `Bearer ${context.user().token}` })
    expect(list.headers.get("cache-control")).toBe(privateNoStore)
  })

  it("errors of the catalog reads are never publicly cached", async () => {
    const missing = await get("/api/products/prd_does_not_exist")
    expect(missing.status).toBe(404)
    expect(missing.headers.get("cache-control")).toBe("no-store")
    expect(missing.headers.get("etag")).toBeNull()
    const invalid = await get("/api/products?limit=0")
    expect(invalid.status).toBe(400)
    expect(invalid.headers.get("cache-control")).toBe("no-store")
  })

  it("carts, checkout, orders, payments, auth and admin answers are private, no-store", async () => {
    const buyer = context.user()
    const admin = context.admin()
    const cart = await api("POST", "/api/cart/init")
    const cartId = json(cart, Cart).cartId
    const replies: Record<string, Reply> = {
      "POST /api/cart/init": cart,
      "GET /api/cart/:id": await api("GET", `/api/cart/${cartId}`),
      "POST /api/checkout/start": await api("POST", "/api/checkout/start", { token: buyer.token, body: { cartId } }),
      "GET /api/orders": await api("GET", "/api/orders", { token: buyer.token }),
      "GET /api/payments/:id": await api("GET", "/api/payments/pay_missing", { token: buyer.token }),
      "GET /api/auth/me": await api("GET", "/api/auth/me", { token: buyer.token }),
      "GET /api/auth/me (no token)": await api("GET", "/api/auth/me"),
      "GET /api/admin/coupons": await api("GET", "/api/admin/coupons", { token: admin.token }),
      "GET /api/addresses": await api("GET", "/api/addresses", { token: buyer.token })
    }
    const cacheControl = Object.fromEntries(
      Object.entries(replies).map(([name, reply]) => [name, reply.headers.get("cache-control")])
    )
    expect(cacheControl).toEqual(Object.fromEntries(Object.keys(replies).map((name) => [name, privateNoStore])))
    for (const reply of Object.values(replies)) expect(reply.headers.get("etag")).toBeNull()
  })
}
