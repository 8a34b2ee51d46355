import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { Effect, Exit, Scope } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import * as PaypalFake from "@shop/paypal-fake/PaypalFake"
import * as PaypalFakeServer from "../src/PaypalFake.ts"
import { type ShopProcess, startShop } from "./ShopProcess.ts"

// The checkout's promise (docs/CHECKOUT.md): money is never captured without
// an order or a refund, and a hold never outlives its expiry. Here the node
// process is killed with SIGKILL in the middle of concurrent checkouts,
// several times, then restarted; once its reconciliation has run and every
// hold's TTL has passed, the shop's files (read with the shop down) and
// PayPal's own record must agree with that promise.
//
// PayPal is the fake, run in THIS process, not the shop's: its state (orders,
// approvals, captures, refunds) must outlive each killed shop, as PayPal's
// does. The shop talks to it as to the real PayPal (PAYPAL_CLIENT_ID,
// PAYPAL_API_BASE on loopback), and its webhooks go to whichever shop process
// is up (a delivery to a killed one is lost, as a webhook can be).
//
// Buyers, 16 at once, each in a loop: prepare a cart, start, and then
//   - most approve at PayPal and capture (the browser came back);
//   - some approve and never capture (the browser never came back: only the
//     webhook or the reconciliation can finish it);
//   - some never approve (the hold expires by itself).

const holdTtlSeconds = 5
// The reconciliation's grace, shortened so that it finishes this test's
// checkouts within seconds (its default, minutes, is for real buyers at PayPal).
const graceSeconds = 2
const rounds = 4
const buyers = 16

const jwtSecret = "checkout-crash-jwt-secret-0123456789abcdef"
const adminSecret = "checkout-crash-admin-secret"
const password = "checkout crash password"
const dataDir = mkdtempSync(join(tmpdir(), "shop-checkout-crash-"))

const secret = () => randomBytes(24).toString("hex")
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// ---- the fake PayPal, in this process, recording every order it creates

const fake = PaypalFake.make({
  clientId: `crash-${secret().slice(0, 12)}`,
  clientSecret: secret(),
  webhookId: `WH-${secret().slice(0, 16)}`,
  webhookSecret: secret(),
  // Its holding back of answers is not used here; a short bound keeps a stray one from outliving the test.
  hangMs: 5_000
})
const createdAtPaypal = new Set<string>()
const recordingHandler = async (request: Request) => {
  const path = new URL(request.url).pathname
  const response = await fake.handler(request)
  // Every PayPal order the shop created, whether or not the shop lived to see the answer.
  if (request.method === "POST" && path === "/v2/checkout/orders" && response.status === 201) {
    const body = (await response.clone().json()) as { readonly id?: unknown }
    if (typeof body.id === "string") createdAtPaypal.add(body.id)
  }
  return response
}

const fakeControl = async (method: string, path: string, body?: unknown) => {
  const response = await fake.handler(
    new Request(`http://fake.invalid${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? null : JSON.stringify(body)
    })
  )
  const text = await response.text()
  if (response.status >= 300) throw new Error(`fake ${method} ${path}: ${response.status} ${text}`)
  return text.length > 0 ? (JSON.parse(text) as unknown) : undefined
}

// What PayPal says happened to one of its orders: captured, and how much of it came back.
interface PaypalOutcome {
  readonly status: string
  readonly captureId: string | undefined
  readonly captureStatus: string | undefined
  readonly captureTime: string | undefined
}
const paypalOutcomes = async (): Promise<Map<string, PaypalOutcome>> => {
  const origin = "http://fake.invalid"
  const tokenResponse = await fake.handler(
    new Request(`${origin}/v1/oauth2/token`, {
      method: "POST",
      headers: {
        authorization: `Basic ${btoa(`${fake.options.clientId}:${fake.options.clientSecret}`)}`,
        "content-type": "application/x-www-form-urlencoded"
      },
      body: "grant_type=client_credentials"
    })
  )
  const { access_token } = (await tokenResponse.json()) as { readonly access_token: string }
  const outcomes = new Map<string, PaypalOutcome>()
  for (const id of createdAtPaypal) {
    const response = await fake.handler(
      new Request(`${origin}/v2/checkout/orders/${id}`, { headers: { authorization: `Bearer ${access_token}` } })
    )
    const order = (await response.json()) as {
      readonly status: string
      readonly purchase_units: ReadonlyArray<{
        readonly payments?: {
          readonly captures?: ReadonlyArray<{
            readonly id: string
            readonly status: string
            readonly create_time: string
          }>
        }
      }>
    }
    const capture = order.purchase_units[0]?.payments?.captures?.[0]
    outcomes.set(id, {
      status: order.status,
      captureId: capture?.id,
      captureStatus: capture?.status,
      captureTime: capture?.create_time
    })
  }
  return outcomes
}

// ---- HTTP to the shop

interface Reply {
  readonly status: number
  readonly body: Record<string, unknown>
}

const call = async (origin: string, method: string, path: string, body?: unknown, token?: string): Promise<Reply> => {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers["content-type"] = "application/json"
  if (token !== undefined) headers["authorization"] = `Bearer ${token}`
  const response = await fetch(`${origin}${path}`, {
    method,
    headers,
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000)
  })
  const text = await response.text()
  return { status: response.status, body: text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {} }
}

const expectStatus = (reply: Reply, status: number, what: string) => {
  if (reply.status !== status) throw new Error(`${what}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`)
  return reply.body
}

const texas = {
  name: "Crash Buyer",
  line1: "500 Congress Ave",
  city: "Austin",
  region: "TX",
  postalCode: "78701",
  country: "US"
}

// What the buyers saw, for the report and for sanity checks.
const seen = {
  started: 0,
  approved: 0,
  captured: 0,
  abandonedAfterApproval: 0,
  abandonedBeforeApproval: 0,
  // Answers other than the expected ones, by step and status (a 409
  // hold_expired under load is legitimate; they are reported, not failed).
  other: new Map<string, number>()
}
const note = (step: string, status: number) => {
  const key = `${step} ${status}`
  seen.other.set(key, (seen.other.get(key) ?? 0) + 1)
}

// 16 buyers checking out until the process dies under them. A fetch that
// fails (the connection died with the process) ends a buyer's loop.
const checkoutUntilKilled = (shop: ShopProcess, tokens: ReadonlyArray<string>, productId: string) => {
  let stopped = false
  const buyer = async (token: string, index: number) => {
    for (let n = 0; !stopped; n++) {
      try {
        const cart = await call(shop.origin, "POST", "/api/cart/init", {}, token)
        if (cart.status !== 201) {
          note("init", cart.status)
          continue
        }
        const path = `/api/cart/${String(cart.body["cartId"])}`
        const prepared = [
          await call(shop.origin, "POST", `${path}/add`, { productId, quantity: 1 }, token),
          await call(shop.origin, "POST", `${path}/address`, { address: texas }, token),
          await call(shop.origin, "POST", `${path}/shipping`, { methodId: "standard" }, token)
        ]
        const refused = prepared.find((reply) => reply.status !== 200)
        if (refused !== undefined) {
          note("prepare", refused.status)
          continue
        }
        const started = await call(shop.origin, "POST", "/api/checkout/start", { cartId: cart.body["cartId"] }, token)
        if (started.status !== 201) {
          note("start", started.status)
          continue
        }
        seen.started++
        // One checkout in 8 is never approved, one in 4 approved and left.
        const kind = (index + n) % 8
        if (kind === 0) {
          seen.abandonedBeforeApproval++
          continue
        }
        const approval = await fake.handler(new Request(String(started.body["approveUrl"]), { redirect: "manual" }))
        await approval.arrayBuffer()
        if (approval.status !== 302) throw new Error(`approve at the fake: HTTP ${approval.status}`)
        seen.approved++
        if (kind === 1 || kind === 5) {
          seen.abandonedAfterApproval++
          continue
        }
        const captured = await call(
          shop.origin,
          "POST",
          "/api/checkout/capture",
          { paypalOrderId: started.body["paypalOrderId"] },
          token
        )
        if (captured.status === 200) seen.captured++
        else note("capture", captured.status)
      } catch (error) {
        // The connection dies with the process (or times out on a dying one);
        // anything else is a failure of the test itself.
        if (error instanceof TypeError || (error instanceof DOMException && error.name === "TimeoutError")) return
        throw error
      }
    }
  }
  const loops = tokens.map(buyer)
  return {
    stop: async () => {
      stopped = true
      await Promise.all(loops)
    }
  }
}

// ---- the shop's files, read with the shop down

interface Findings {
  readonly problems: ReadonlyArray<string>
  readonly counts: Record<string, number>
}

const inspect = async (now: number): Promise<Findings> => {
  const open = (name: string) => new DatabaseSync(join(dataDir, `${name}.sqlite`), { readOnly: true })
  const paymentsDb = open("payments")
  const ordersDb = open("orders")
  const inventoryDb = open("inventory")
  const problems: Array<string> = []
  try {
    const payments = paymentsDb
      .prepare(
        "SELECT payment_id, reservation_id, provider_order_id, status, captured_amount, refunded_amount FROM payments"
      )
      .all()
    const paymentByPaypalOrder = new Map(payments.map((row) => [String(row["provider_order_id"]), row]))
    const orders = ordersDb.prepare("SELECT order_id, reservation_id, capture_id, status FROM orders").all()
    const orderByReservation = new Map(orders.map((row) => [String(row["reservation_id"]), row]))

    const holdExpiry = new Map(
      inventoryDb
        .prepare("SELECT hold_id, expires_at FROM holds")
        .all()
        .map((row) => [String(row["hold_id"]), Number(row["expires_at"])])
    )
    let capturedAfterExpiry = 0

    // 1. Every capture PayPal made has an order for its hold, or was refunded in full.
    const outcomes = await paypalOutcomes()
    let capturedAtPaypal = 0
    let refundedAtPaypal = 0
    const captureIds = new Set<string>()
    for (const [paypalOrderId, outcome] of outcomes) {
      if (outcome.captureId === undefined) continue
      capturedAtPaypal++
      captureIds.add(outcome.captureId)
      const payment = paymentByPaypalOrder.get(paypalOrderId)
      const order = payment === undefined ? undefined : orderByReservation.get(String(payment["reservation_id"]))
      if (outcome.captureStatus === "REFUNDED") {
        refundedAtPaypal++
        // Money taken after its hold had expired, only to be given back: the
        // buyer sees a charge and a refund for a checkout that was over.
        const hold = payment === undefined ? undefined : holdExpiry.get(String(payment["reservation_id"]))
        if (hold !== undefined && Date.parse(outcome.captureTime ?? "") >= Math.floor(hold / 1000) * 1000 + 1000) {
          capturedAfterExpiry++
        }
        if (order !== undefined && !["cancelled", "refunded"].includes(String(order["status"]))) {
          problems.push(
            `PayPal order ${paypalOrderId} was refunded in full but its order is ${String(order["status"])}`
          )
        }
        continue
      }
      if (order === undefined) {
        problems.push(
          `PayPal order ${paypalOrderId} was captured (${outcome.captureStatus}) with neither an order nor a full refund` +
            ` (payment ${payment === undefined ? "missing" : `${String(payment["payment_id"])} ${String(payment["status"])}`})`
        )
      }
    }
    // 2. No order without money: every order names a capture PayPal made.
    for (const order of orders) {
      if (!captureIds.has(String(order["capture_id"]))) {
        problems.push(
          `order ${String(order["order_id"])} names capture ${String(order["capture_id"])}, unknown at PayPal`
        )
      }
    }
    // 3. Holds: none active past its expiry; reserved is the sum of the
    //    active holds' lines; stock never negative.
    const staleHolds = inventoryDb
      .prepare("SELECT hold_id, expires_at FROM holds WHERE status = 'active' AND expires_at <= ?")
      .all(now)
    for (const hold of staleHolds) {
      problems.push(`hold ${String(hold["hold_id"])} is active ${now - Number(hold["expires_at"])} ms past its expiry`)
    }
    const levels = inventoryDb
      .prepare(
        `SELECT s.variant_id, s.stock, s.reserved,
           COALESCE((SELECT SUM(l.quantity) FROM hold_lines l JOIN holds h ON h.hold_id = l.hold_id
                     WHERE h.status = 'active' AND l.variant_id = s.variant_id), 0) AS held
         FROM stock_levels s`
      )
      .all()
    for (const level of levels) {
      if (Number(level["reserved"]) !== Number(level["held"])) {
        problems.push(
          `variant ${String(level["variant_id"])}: reserved ${String(level["reserved"])}, active holds ${String(level["held"])}`
        )
      }
      if (Number(level["stock"]) < 0 || Number(level["reserved"]) < 0) {
        problems.push(
          `variant ${String(level["variant_id"])}: stock ${String(level["stock"])}, reserved ${String(level["reserved"])}`
        )
      }
    }
    // 4. Stock sold once: every committed hold became an order (a committed
    //    hold whose money went back is restocked, and then counted as such).
    const committed = inventoryDb.prepare("SELECT hold_id FROM holds WHERE status = 'committed'").all()
    for (const hold of committed) {
      const order = orderByReservation.get(String(hold["hold_id"]))
      if (order === undefined) problems.push(`hold ${String(hold["hold_id"])} is committed (sold) but has no order`)
    }
    // Where the checkouts that gave up gave up, and whether money moved
    // first (captured, then refunded): reported, not asserted.
    const gaveUp: Record<string, number> = {}
    for (const row of paymentsDb
      .prepare("SELECT failure, captured_amount FROM payments WHERE failure IS NOT NULL")
      .all()) {
      const step = String((JSON.parse(String(row["failure"])) as { readonly step?: unknown }).step)
      const key = `gaveUp:${step}:${Number(row["captured_amount"]) > 0 ? "capturedThenRefunded" : "nothingCharged"}`
      gaveUp[key] = (gaveUp[key] ?? 0) + 1
    }
    const unsettled = paymentsDb.prepare("SELECT COUNT(*) AS n FROM payments WHERE settled_at IS NULL").get()
    const activeHolds = inventoryDb.prepare("SELECT COUNT(*) AS n FROM holds WHERE status = 'active'").get()
    return {
      problems,
      counts: {
        paypalOrders: outcomes.size,
        capturedAtPaypal,
        refundedAtPaypal,
        capturedAfterHoldExpiry: capturedAfterExpiry,
        payments: payments.length,
        orders: orders.length,
        committedHolds: committed.length,
        activeHolds: Number(activeHolds?.["n"]),
        unsettledPayments: Number(unsettled?.["n"]),
        ...gaveUp
      }
    }
  } finally {
    paymentsDb.close()
    ordersDb.close()
    inventoryDb.close()
  }
}

// ---- the test

let paypal: { readonly url: string; readonly close: () => Promise<void> } | undefined
let shop: ShopProcess | undefined

afterAll(async () => {
  if (shop !== undefined) {
    process.kill(shop.pid, "SIGKILL")
    await shop.exited
  }
  await paypal?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const startPaypal = async () => {
  const scope = await Effect.runPromise(Scope.make())
  const { url } = await Effect.runPromise(
    Scope.provide(PaypalFakeServer.serve(recordingHandler, { host: "127.0.0.1", port: 0 }), scope)
  )
  return { url, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

describe("Crash safety of checkout on node", () => {
  it(`SIGKILL during ${buyers} concurrent checkouts, ${rounds} times: every capture has an order or a refund, no hold outlives its expiry`, async () => {
    const began = Date.now()
    paypal = await startPaypal()
    const env = {
      DATA_DIR: dataDir,
      JWT_SECRET: jwtSecret,
      ADMIN_SECRET: adminSecret,
      LOG_LEVEL: "info",
      PASSWORD_ITERATIONS: "1000",
      HOLD_TTL_SECONDS: String(holdTtlSeconds),
      CHECKOUT_RECONCILE_GRACE_SECONDS: String(graceSeconds),
      PAYPAL_CLIENT_ID: fake.options.clientId,
      PAYPAL_CLIENT_SECRET: fake.options.clientSecret,
      PAYPAL_WEBHOOK_ID: fake.options.webhookId,
      PAYPAL_API_BASE: paypal.url
    }
    // Each start has a port of its own: PayPal's webhooks follow the shop,
    // except in odd rounds, where none is sent: there an approved checkout
    // whose buyer never came back is left to the reconciliation alone.
    const start = async (webhooks: boolean) => {
      const started = await startShop(env)
      await fakeControl("PUT", "/__fake/webhook-url", {
        url: webhooks ? `${started.origin}/api/payments/paypal/webhook` : null
      })
      return started
    }

    shop = await start(true)
    const origin = shop.origin
    const signup = await fetch(`${origin}/api/auth/admin/signup`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-admin-secret": adminSecret },
      body: JSON.stringify({ email: "crash-admin@example.com", password, name: "Admin" })
    })
    expect(signup.status).toBe(201)
    const login = async (email: string) =>
      String(
        expectStatus(await call(origin, "POST", "/api/auth/login", { email, password }), 200, "login")["accessToken"]
      )
    const adminToken = await login("crash-admin@example.com")
    const product = expectStatus(
      await call(
        origin,
        "POST",
        "/api/admin/products",
        {
          sku: "CRASH-CHECKOUT",
          title: "Crash checkout widget",
          price: { amount: 1500, currency: "USD" },
          stock: 100_000
        },
        adminToken
      ),
      201,
      "create the product"
    )
    const productId = String(product["productId"])
    const tokens: Array<string> = []
    for (let i = 0; i < buyers; i++) {
      const email = `crash-buyer-${i}@example.com`
      expectStatus(
        await call(origin, "POST", "/api/auth/signup", { email, password, name: `Buyer ${i}` }),
        201,
        "signup"
      )
      tokens.push(await login(email))
    }

    for (let round = 0; round < rounds; round++) {
      if (round > 0) shop = await start(round % 2 === 0)
      const load = checkoutUntilKilled(shop, tokens, productId)
      // Somewhere between 1.5 and 4 s into the load (the first second is a
      // cold process's slowest): checkouts at every step.
      await sleep(1500 + Math.floor(Math.random() * 2500))
      process.kill(shop.pid, "SIGKILL")
      expect((await shop.exited).signal).toBe("SIGKILL")
      await load.stop()
    }
    expect(seen.started).toBeGreaterThan(0)
    expect(seen.captured).toBeGreaterThan(0)

    // The last start: its reconciliation passes (at start, then every
    // max(grace, 5 s)) finish what the kills left once it is older than the
    // grace, and every hold's TTL runs out and the inventory sweep (every
    // min(TTL, 30 s)) returns its stock. The pass at start reports what it
    // found; then enough time for a pass past the grace and for two sweeps
    // past every expiry, and the shop is stopped so its files are read at rest.
    shop = await start(true)
    const restartedAt = Date.now()
    await sleep(restartedAt + (Math.max(graceSeconds, 5) + 2 * holdTtlSeconds + 2) * 1000 - Date.now())
    // A pass logs only when it found something: after these kills it must have.
    expect(shop.lines().some((line) => line.includes('"Reconciled checkouts"'))).toBe(true)
    const exit = await shop.stop()
    expect(exit.code).toBe(0)
    await fake.settled()
    const checkedAt = Date.now()
    const findings = await inspect(checkedAt)
    console.log(
      JSON.stringify({
        seconds: Math.round((checkedAt - began) / 1000),
        buyers: { ...seen, other: Object.fromEntries(seen.other) },
        ...findings.counts,
        reconciled: shop
          .lines()
          .filter((line) => line.includes("Reconciled checkouts"))
          .map((line) => {
            const { abandoned, completed, pending, visited } = JSON.parse(line) as Record<string, unknown>
            return { visited, completed, abandoned, pending }
          })
      })
    )
    shop = undefined
    expect(findings.problems).toEqual([])
    // Something was sold, and something the kills left was repaired.
    expect(findings.counts["orders"]).toBeGreaterThan(0)
  }, 120_000)
})
