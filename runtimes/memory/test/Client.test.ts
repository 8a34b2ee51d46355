import { EmailExists, ProductNotFound, Unauthorized } from "@shop/domain/Errors"
import { Currency } from "@shop/domain/Money"
import * as Memory from "../src/MemoryRuntime.ts"
import { Effect, Schema } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import * as ShopClient from "@shop/client/ShopClient"

const adminSecret = "client-test-admin-secret"
const shop = Memory.make({ settings: { ADMIN_SECRET: adminSecret, PASSWORD_ITERATIONS: "1000" } })
afterAll(() => shop.dispose())

// The client over the runtime's web handler: the real HTTP pipeline, no socket.
const options = { baseUrl: "http://shop.test", fetch: (request: Request) => shop.handler(request) }
const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`
const password = "correct horse battery"

describe("the Effect client", () => {
  it("signs up, logs in and reads the profile with the token", async () => {
    const email = `${unique("effect")}@example.com`
    const profile = await Effect.gen(function* () {
      const anonymous = yield* ShopClient.make(options)
      const created = yield* anonymous.auth.signup({ payload: { email, password, name: "Effect" } })
      expect(created.email).toBe(email)
      const { accessToken } = yield* anonymous.auth.login({ payload: { email, password } })
      const signedIn = yield* ShopClient.make({ ...options, token: accessToken })
      return yield* signedIn.auth.me()
    }).pipe(Effect.runPromise)
    expect(profile).toMatchObject({ email, role: "user", name: "Effect", addresses: [] })
  })

  it("fails with the domain error classes", async () => {
    const email = `${unique("dup")}@example.com`
    const error = await Effect.gen(function* () {
      const client = yield* ShopClient.make(options)
      yield* client.auth.signup({ payload: { email, password, name: "First" } })
      return yield* Effect.flip(client.auth.signup({ payload: { email, password, name: "Second" } }))
    }).pipe(Effect.runPromise)
    expect(error).toBeInstanceOf(EmailExists)
    expect(error).toMatchObject({ _tag: "EmailExists", error: "email_exists" })
  })

  it("is a service too", async () => {
    const health = await Effect.gen(function* () {
      const client = yield* ShopClient.Shop
      return yield* client.health()
    }).pipe(Effect.provide(ShopClient.Shop.layer(options)), Effect.runPromise)
    expect(health).toEqual({ status: "ok" })
  })
})

describe("the Promise client", () => {
  it("creates and reads a product as an admin whose token is read per call", async () => {
    let token: string | undefined
    const client = ShopClient.makePromise({ ...options, token: () => token })
    const email = `${unique("admin")}@example.com`
    await client.auth.adminSignup({
      headers: { "x-admin-secret": adminSecret },
      payload: { email, password, name: "Admin" }
    })
    // Without a token the admin endpoint refuses, with the typed error.
    const sku = unique("SKU").toUpperCase()
    const payload = { sku, title: "Client Widget", price: { amount: 1299, currency: Currency.make("USD") }, stock: 3 }
    await expect(client.adminProducts.create({ payload })).rejects.toBeInstanceOf(Unauthorized)
    token = (await client.auth.login({ payload: { email, password } })).accessToken
    const product = await client.adminProducts.create({ payload })
    expect(product).toMatchObject({ sku, price: { amount: 1299, currency: "USD" } })
    const read = await client.catalog.get({ params: { productId: product.productId } })
    expect(read.variants[0]?.available).toBe(3)
    const page = await client.catalog.list({ query: { q: sku } })
    expect(page.items.map((p) => p.productId)).toEqual([product.productId])
    await expect(client.catalog.get({ params: { productId: "prd_missing" } })).rejects.toBeInstanceOf(ProductNotFound)
  })

  it("rejects with the domain error, and refuses invalid input before sending it", async () => {
    let sent = 0
    const client = ShopClient.makePromise({
      ...options,
      fetch: (request) => {
        sent++
        return shop.handler(request)
      }
    })
    const email = `${unique("promise")}@example.com`
    await client.auth.signup({ payload: { email, password, name: "First" } })
    await expect(client.auth.signup({ payload: { email, password, name: "Again" } })).rejects.toBeInstanceOf(
      EmailExists
    )
    expect(sent).toBe(2)
    const short = client.auth.signup({
      payload: { email: `${unique("short")}@example.com`, password: "short", name: "X" }
    })
    await expect(short).rejects.toBeInstanceOf(Schema.SchemaError)
    expect(sent).toBe(2)
  })

  it("sends the token only where the contract asks for it", async () => {
    const seen: Array<string | null> = []
    const client = ShopClient.makePromise({
      baseUrl: "http://shop.test",
      token: "not-a-real-token",
      fetch: (request) => {
        seen.push(request.headers.get("authorization"))
        return shop.handler(request)
      }
    })
    await client.health()
    await client.catalog.list({ query: {} })
    await expect(client.auth.me()).rejects.toBeInstanceOf(Unauthorized)
    expect(seen).toEqual([null, null, "Bearer not-a-real-token"])
  })
})

// The README's quickstart with the Promise client, as a storefront runs it:
// browse, sign up, fill a cart, check out against the fake PayPal, read the order.
describe("the Promise client: a whole purchase", () => {
  it("browses, signs up, checks out against the fake PayPal and reads the order", async () => {
    let token: string | undefined
    const client = ShopClient.makePromise({ ...options, token: () => token })
    const adminEmail = `${unique("seller")}@example.com`
    await client.auth.adminSignup({
      headers: { "x-admin-secret": adminSecret },
      payload: { email: adminEmail, password, name: "Seller" }
    })
    token = (await client.auth.login({ payload: { email: adminEmail, password } })).accessToken
    await client.adminProducts.create({
      payload: {
        sku: unique("MUG").toUpperCase(),
        title: "Quickstart mug",
        price: { amount: 1500, currency: Currency.make("USD") },
        stock: 3
      }
    })
    token = undefined

    // Browse as anyone.
    const page = await client.catalog.list({ query: { q: "Quickstart mug", limit: 1 } })
    const product = page.items[0]!

    // Sign up, sign in, and fill a cart of one's own.
    const email = `${unique("buyer")}@example.com`
    await client.auth.signup({ payload: { email, password, name: "Buyer" } })
    token = (await client.auth.login({ payload: { email, password } })).accessToken
    const cart = await client.cart.init({})
    expect(cart.userId).not.toBeNull()
    const { cartId } = cart
    await client.cart.add({ params: { cartId }, payload: { productId: product.productId, quantity: 2 } })
    await client.cart.address({
      params: { cartId },
      payload: {
        address: {
          name: "Ada",
          line1: "500 Congress Ave",
          city: "Austin",
          region: "TX",
          postalCode: "78701",
          country: "US"
        }
      }
    })
    const { shippingOptions } = await client.cart.shippingOptions({ params: { cartId } })
    await client.cart.shipping({ params: { cartId }, payload: { methodId: shippingOptions[0]!.methodId } })

    // Check out: the buyer approves at (fake) PayPal, then the storefront captures.
    const checkout = await client.checkout.start({ payload: { cartId } })
    const approved = await shop.paypal.fetch(new Request(checkout.approveUrl, { redirect: "manual" }))
    expect(approved.status).toBe(302)
    const paid = await client.checkout.capture({ payload: { paypalOrderId: checkout.paypalOrderId } })
    expect(paid.status).toBe("paid")

    const order = await client.orders.get({ params: { orderId: paid.orderId } })
    expect(order.items.map((line) => line.quantity)).toEqual([2])
    expect(order.summary).toEqual(checkout.summary)
    expect((await client.orders.list({ query: {} })).total).toBe(1)
    expect((await client.cart.get({ params: { cartId } })).items).toEqual([])
  })
})
