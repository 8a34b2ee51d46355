import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort, type ShopProcess, startShop } from "./ShopProcess.ts"

// HOLD_TTL_SECONDS on the node runtime as people run it: a checkout's hold
// gives its stock back by itself (the inventory sweep, every min(TTL, 30 s)),
// and a capture after that charges nothing (409 hold_expired).

const adminSecret = "hold-expiry-admin-secret"
const dataDir = mkdtempSync(join(tmpdir(), "shop-hold-expiry-"))
let shop: ShopProcess
let paypalOrigin: string

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Reply {
  readonly status: number
  readonly body: Record<string, unknown>
}

const call = async (method: string, path: string, body?: unknown, token?: string): Promise<Reply> => {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers["content-type"] = "application/json"
  if (token !== undefined) headers["authorization"] = `Bearer ${token}`
  const response = await fetch(`${shop.origin}${path}`, {
    method,
    headers,
    body: body === undefined ? null : JSON.stringify(body)
  })
  const text = await response.text()
  return { status: response.status, body: text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {} }
}

beforeAll(async () => {
  const paypalPort = await freePort()
  paypalOrigin = `http://127.0.0.1:${paypalPort}`
  shop = await startShop({
    DATA_DIR: dataDir,
    JWT_SECRET: "hold-expiry-jwt-secret-0123456789abcdef",
    ADMIN_SECRET: adminSecret,
    HOLD_TTL_SECONDS: "2",
    PAYPAL_FAKE_PORT: String(paypalPort)
  })
})

afterAll(async () => {
  await shop?.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

describe("checkout on node with HOLD_TTL_SECONDS=2", () => {
  it("the hold's stock comes back by itself, and a capture after it charges nothing", async () => {
    const password = "correct horse battery"
    const signup = await fetch(`${shop.origin}/api/auth/admin/signup`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-admin-secret": adminSecret },
      body: JSON.stringify({ email: "expiry-admin@example.com", password, name: "Admin" })
    })
    expect(signup.status).toBe(201)
    const admin = String(
      (await call("POST", "/api/auth/login", { email: "expiry-admin@example.com", password })).body["accessToken"]
    )
    expect(
      (await call("POST", "/api/auth/signup", { email: "expiry-buyer@example.com", password, name: "Buyer" })).status
    ).toBe(201)
    const buyer = String(
      (await call("POST", "/api/auth/login", { email: "expiry-buyer@example.com", password })).body["accessToken"]
    )

    const product = await call(
      "POST",
      "/api/admin/products",
      { sku: "EXPIRY-1", title: "Expiry", price: { amount: 2000, currency: "USD" }, stock: 4 },
      admin
    )
    expect(product.status).toBe(201)
    const productId = String(product.body["productId"])
    const variantId = String((product.body["variants"] as ReadonlyArray<{ variantId: string }>)[0]?.variantId)
    const cartId = String((await call("POST", "/api/cart/init", undefined, buyer)).body["cartId"])
    for (const [path, body] of [
      ["/add", { productId, quantity: 3 }],
      [
        "/address",
        {
          address: { name: "Ada", line1: "1 Main St", city: "Austin", region: "TX", postalCode: "78701", country: "US" }
        }
      ],
      ["/shipping", { methodId: "express" }]
    ] as const) {
      expect((await call("POST", `/api/cart/${cartId}${path}`, body, buyer)).status).toBe(200)
    }
    const started = await call("POST", "/api/checkout/start", { cartId }, buyer)
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    expect(Date.parse(String(started.body["expiresAt"])) - Date.now()).toBeLessThanOrEqual(2_000)
    const level = async () => (await call("GET", `/api/admin/inventory/${variantId}`, undefined, admin)).body
    expect(await level()).toMatchObject({ stock: 4, reserved: 3 })

    // Nobody calls anything: the sweep gives the stock back within TTL + one sweep.
    const deadline = Date.now() + 8_000
    while ((await level())["reserved"] !== 0 && Date.now() < deadline) await sleep(200)
    expect(await level()).toMatchObject({ stock: 4, reserved: 0, available: 4 })

    const stats = async () =>
      ((await (await fetch(`${paypalOrigin}/__fake/stats`)).json()) as { captures: number }).captures
    const before = await stats()
    const approved = await fetch(String(started.body["approveUrl"]), { redirect: "manual" })
    expect(approved.status).toBe(302)
    const late = await call("POST", "/api/checkout/capture", { paypalOrderId: started.body["paypalOrderId"] }, buyer)
    expect(late.status, JSON.stringify(late.body)).toBe(409)
    expect(late.body["error"]).toBe("hold_expired")
    // The webhook of the approval meets the same answer: nothing is captured.
    await sleep(500)
    expect(await stats()).toBe(before)
    expect(await level()).toMatchObject({ stock: 4, reserved: 0 })
    expect((await call("GET", "/api/orders", undefined, buyer)).body["total"]).toBe(0)
  })
})
