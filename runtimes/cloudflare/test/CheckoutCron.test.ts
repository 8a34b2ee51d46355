import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { unstable_readConfig } from "wrangler"
import { join } from "node:path"
import { newNonce } from "../src/Signing.ts"
import { root, type Shop, startShop, workerNames } from "./Shop.ts"

// Checkout on Workers where time and crons matter, through the gateway as a
// storefront sees it:
// - a hold expires by HOLD_TTL_SECONDS (5 s here) and the inventory Worker's
//   Cron Trigger gives its stock back; a capture after that charges nothing;
// - a buyer who approved at PayPal and never came back (no webhook here:
//   the harness sends none unless asked) gets the order from the cart
//   Worker's Cron Trigger, the checkout reconciliation
//   (CHECKOUT_RECONCILE_GRACE_SECONDS=0, so the pass looks at every payment).
// The harness never fires a cron by itself: the tests fire them.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Reply {
  readonly status: number
  readonly body: Record<string, unknown>
}

describe("checkout on Workers: hold expiry and the reconciliation cron", () => {
  let shop: Shop
  let call: (method: string, path: string, body?: unknown, token?: string) => Promise<Reply>
  let adminToken: string

  beforeAll(async () => {
    shop = await startShop({
      vars: { CHECKOUT_RECONCILE_GRACE_SECONDS: "0" },
      inventoryVars: { HOLD_TTL_SECONDS: "5" }
    })
    call = async (method, path, body, token) => {
      const headers: Record<string, string> = { "content-type": "application/json" }
      if (token !== undefined) headers["authorization"] = `Bearer ${token}`
      const response = await shop.fetch(
        new Request(`http://shop.test${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) })
        })
      )
      const text = await response.text()
      return { status: response.status, body: text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {} }
    }
    const email = `cron-admin-${newNonce().slice(0, 12)}@example.com`
    const password = "correct horse battery"
    const signup = await shop.fetch(
      new Request("http://shop.test/api/auth/admin/signup", {
        method: "POST",
        headers: { "content-type": "application/json", "x-admin-secret": shop.secrets.ADMIN_SECRET },
        body: JSON.stringify({ email, password, name: "Admin" })
      })
    )
    expect(signup.status).toBe(201)
    adminToken = String((await call("POST", "/api/auth/login", { email, password })).body["accessToken"])
  })

  afterAll(async () => {
    await shop?.close()
  })

  const buyer = async () => {
    const email = `cron-buyer-${newNonce().slice(0, 12)}@example.com`
    const password = "correct horse battery"
    expect((await call("POST", "/api/auth/signup", { email, password, name: "Buyer" })).status).toBe(201)
    return String((await call("POST", "/api/auth/login", { email, password })).body["accessToken"])
  }

  // A product with `stock` units and a buyer's cart of `quantity`, ready to check out.
  const readyCart = async (token: string, stock: number, quantity: number) => {
    const sku = `CRON-${newNonce().slice(0, 10).toUpperCase()}`
    const product = await call(
      "POST",
      "/api/admin/products",
      { sku, title: "Cron test", price: { amount: 1800, currency: "USD" }, stock },
      adminToken
    )
    expect(product.status, JSON.stringify(product.body)).toBe(201)
    const productId = String(product.body["productId"])
    const variantId = String((product.body["variants"] as ReadonlyArray<{ variantId: string }>)[0]?.variantId)
    const cartId = String((await call("POST", "/api/cart/init", undefined, token)).body["cartId"])
    for (const [path, body] of [
      ["/add", { productId, quantity }],
      [
        "/address",
        {
          address: { name: "Ada", line1: "1 Main St", city: "Austin", region: "TX", postalCode: "78701", country: "US" }
        }
      ],
      ["/shipping", { methodId: "standard" }]
    ] as const) {
      const reply = await call("POST", `/api/cart/${cartId}${path}`, body, token)
      expect(reply.status, JSON.stringify(reply.body)).toBe(200)
    }
    return { cartId, variantId }
  }

  const level = async (variantId: string) =>
    (await call("GET", `/api/admin/inventory/${variantId}`, undefined, adminToken)).body
  const approve = async (approveUrl: string) => {
    const response = await fetch(approveUrl, { redirect: "manual" })
    await response.arrayBuffer()
    expect(response.status).toBe(302)
  }
  const captures = async () => {
    const response = await fetch(`${shop.paypal.url}/__fake/stats`)
    return ((await response.json()) as { captures: number }).captures
  }

  it("declares the cart Worker's Cron Trigger for the reconciliation, every minute", () => {
    const config = unstable_readConfig({ config: join(root, "cart", "wrangler.jsonc") })
    expect(config.triggers.crons).toEqual(["* * * * *"])
  })

  it("a hold past HOLD_TTL_SECONDS goes back on the inventory cron; the capture after it charges nothing", async () => {
    const token = await buyer()
    const { cartId, variantId } = await readyCart(token, 5, 2)
    const started = await call("POST", "/api/checkout/start", { cartId }, token)
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const expiresAt = Date.parse(String(started.body["expiresAt"]))
    expect(await level(variantId)).toMatchObject({ reserved: 2 })

    await sleep(Math.max(0, expiresAt + 300 - Date.now()))
    const fired = await shop.harness
      .getWorker(workerNames.inventory)
      .scheduled({ cron: "* * * * *", scheduledTime: new Date() })
    expect(fired.outcome).toBe("ok")
    expect(await level(variantId)).toMatchObject({ stock: 5, reserved: 0, available: 5 })

    const before = await captures()
    await approve(String(started.body["approveUrl"]))
    const late = await call("POST", "/api/checkout/capture", { paypalOrderId: started.body["paypalOrderId"] }, token)
    expect(late.status, JSON.stringify(late.body)).toBe(409)
    expect(late.body["error"]).toBe("hold_expired")
    expect(await captures()).toBe(before)
    const payment = await call("GET", `/api/payments/${String(started.body["paymentId"])}`, undefined, token)
    expect(payment.body).toMatchObject({ captures: [], refunds: [] })
    expect(await level(variantId)).toMatchObject({ stock: 5, reserved: 0 })
  })

  it("an approved checkout whose buyer never came back is captured by the cart Worker's cron, once", async () => {
    const token = await buyer()
    const { cartId, variantId } = await readyCart(token, 5, 1)
    const started = await call("POST", "/api/checkout/start", { cartId }, token)
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const before = await captures()
    await approve(String(started.body["approveUrl"]))
    // The buyer is gone; within the hold's 5 s the cron runs the capture.
    const fired = await shop.harness
      .getWorker(workerNames.cart)
      .scheduled({ cron: "* * * * *", scheduledTime: new Date() })
    expect(fired.outcome).toBe("ok")
    const orders = await call("GET", "/api/orders", undefined, token)
    expect(orders.body["total"]).toBe(1)
    expect(await captures()).toBe(before + 1)
    expect(await level(variantId)).toMatchObject({ stock: 4, reserved: 0 })
    const cart = await call("GET", `/api/cart/${cartId}`, undefined, token)
    expect(cart.body).toMatchObject({ items: [], checkout: null })
    // Another pass finds nothing left to do; the buyer's late capture gets the same order.
    expect(
      (await shop.harness.getWorker(workerNames.cart).scheduled({ cron: "* * * * *", scheduledTime: new Date() }))
        .outcome
    ).toBe("ok")
    const late = await call("POST", "/api/checkout/capture", { paypalOrderId: started.body["paypalOrderId"] }, token)
    expect(late.status).toBe(200)
    expect(late.body["orderId"]).toBe((orders.body["orders"] as ReadonlyArray<{ orderId: string }>)[0]?.orderId)
    expect(await captures()).toBe(before + 1)
  })
})
