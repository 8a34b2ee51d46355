import { randomBytes } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Exit, Scope } from "effect"
import type { RpcMessage } from "effect/rpc"
import * as PaypalFake from "@shop/paypal-fake/PaypalFake"
import * as PaypalFakeServer from "@shop/runtime-node/PaypalFake"
import { createTestHarness, type TestHarness } from "wrangler"
import { writeDocsAssets } from "../scripts/docs-assets.ts"
import type { ServiceBinding } from "../src/Env.ts"

// The Workers set (gateway, auth, catalog, inventory, fulfillment, coupons, idempotency, cart, orders, payments) under one local
// workerd, started by the tests: wrangler's test harness reads the same
// wrangler.jsonc files as `wrangler dev` and `wrangler deploy`.
//
// Beside it runs a second gateway with no service bindings but CART, so that
// it must use the URL fallback: its AUTH_URL, CATALOG_URL, INVENTORY_URL, FULFILLMENT_URL, COUPONS_URL and IDEMPOTENCY_URL
// point at a relay on 127.0.0.1 that hands each request to the service
// Worker's own fetch handler (the door a URL reaches). The service Workers
// have no URL of their own to point at, by design. The cart Worker has no URL
// door at all (binding only, README.md), so that gateway keeps its CART
// binding.
//
// A second cart Worker (the same code, its own Durable Object namespace) runs
// with a TTL of seconds, behind a gateway of its own, so that the alarm test
// can watch carts expire while the other tests keep the default TTL.
//
// The payments Worker reaches PayPal by URL: here the fake PayPal, served on
// 127.0.0.1 by the node runner (runtimes/node/src/PaypalFake.ts) as
// `npm run dev:workers` serves it, with credentials of this run. Every
// Workers set has one, so that the payments Worker's settings are whole
// whichever test file starts it.

export const root = fileURLToPath(new URL("..", import.meta.url))

export const workerNames = {
  gateway: "shop-gateway",
  urlGateway: "shop-gateway-by-url",
  auth: "shop-auth",
  catalog: "shop-catalog",
  inventory: "shop-inventory",
  fulfillment: "shop-fulfillment",
  coupons: "shop-coupons",
  idempotency: "shop-idempotency",
  cart: "shop-cart",
  orders: "shop-orders",
  payments: "shop-payments",
  // Test-only: a second cart Worker whose carts expire after
  // `shortCartTtlSeconds`, and a gateway bound to it (the alarm test).
  shortCart: "shop-cart-short-ttl",
  shortGateway: "shop-gateway-short-ttl",
  // Test-only: a Worker with ORDERS and PAYMENTS bindings that passes calls
  // on (BindingCaller.ts).
  bindingCaller: "shop-binding-caller"
}

export const shortCartTtlSeconds = 2

export interface Secrets {
  readonly JWT_SECRET: string
  readonly ADMIN_SECRET: string
  readonly INTERNAL_SECRET: string
}

// The fake PayPal beside the Workers: its URL (the payments Worker's
// PAYPAL_API_BASE) and the fake itself (options, settled webhooks).
export interface Paypal {
  readonly url: string
  readonly fake: PaypalFake.PaypalFake
}

export interface Shop {
  readonly harness: TestHarness
  readonly paypal: Paypal
  // A service Worker as a caller's binding reaches it (through BindingCaller.ts).
  readonly binding: (service: "orders" | "payments") => ServiceBinding
  // The gateway, on a real loopback socket.
  readonly fetch: (request: Request) => Promise<Response>
  // One Worker's own fetch handler (its URL door), without a socket.
  readonly workerFetch: (name: string) => (request: Request) => Promise<Response>
  // The URL calls the relay passed on: path and whether they were signed.
  readonly relayed: () => ReadonlyArray<{ readonly path: string; readonly signed: boolean }>
  readonly url: URL
  readonly secrets: Secrets
  readonly close: () => Promise<void>
}

// Miniflare has its own undici: requests and responses are copied across
// rather than handed over.
const viaWorker =
  (harness: TestHarness, name: string) =>
  async (request: Request): Promise<Response> => {
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer()
    const response = await harness.getWorker(name).fetch(request.url, {
      method: request.method,
      headers: Object.fromEntries(request.headers),
      ...(body === undefined ? {} : { body: new Uint8Array(body) })
    })
    return new Response(await response.arrayBuffer(), {
      status: response.status,
      headers: Object.fromEntries(response.headers)
    })
  }

const readBody = (request: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => resolve(Buffer.concat(chunks)))
    request.on("error", reject)
  })

const startRelay = async (target: () => TestHarness | undefined) => {
  const relayed: Array<{ path: string; signed: boolean }> = []
  const server: Server = createServer(async (request, response) => {
    const harness = target()
    const service = /^\/internal\/(auth|catalog|inventory|fulfillment|coupons|idempotency|payments|orders)\//.exec(
      request.url ?? ""
    )?.[1]
    if (harness === undefined || service === undefined) {
      response.writeHead(404).end()
      return
    }
    const headers = Object.fromEntries(
      Object.entries(request.headers).flatMap(([key, value]) => (typeof value === "string" ? [[key, value]] : []))
    )
    relayed.push({ path: request.url ?? "", signed: "x-shop-signature" in headers })
    const body = await readBody(request)
    const forwarded = new Request(`http://${service}.internal${request.url}`, {
      method: request.method ?? "POST",
      headers,
      body: new Uint8Array(body)
    })
    const answer = await viaWorker(harness, `shop-${service}`)(forwarded)
    response.writeHead(answer.status, Object.fromEntries(answer.headers)).end(Buffer.from(await answer.arrayBuffer()))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    relayed: () => relayed.slice(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

const secret = () => randomBytes(32).toString("hex")

// The fake on a loopback socket until `close`; credentials drawn for this run.
const startPaypal = async () => {
  const fake = PaypalFake.make({
    clientId: `shop-test-${secret().slice(0, 12)}`,
    clientSecret: secret(),
    webhookId: `WH-${secret().slice(0, 16)}`,
    webhookSecret: secret()
  })
  const scope = await Effect.runPromise(Scope.make())
  try {
    const { url } = await Effect.runPromise(
      Scope.provide(PaypalFakeServer.serve(fake.handler, { host: "127.0.0.1", port: 0 }), scope)
    )
    return { url, fake, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
  } catch (error) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw error
  }
}

export const startShop = async (
  options: {
    readonly vars?: Record<string, string>
    // Beside `vars`, for the inventory Worker only (the holds test's HOLD_TTL_SECONDS).
    readonly inventoryVars?: Record<string, string>
    // The fake PayPal's webhooks reach the gateway (the scenarios); off for
    // tests that drive payments directly, where a webhook completing a
    // checkout nobody started would interfere.
    readonly webhooks?: boolean
  } = {}
): Promise<Shop> => {
  // The gateway's static assets (Scalar's script for /docs), as `npm run
  // build:workers` and `dev:workers` write them.
  await writeDocsAssets()
  // STACK.md sharp edge 7: offline, no metrics, and a registry of our own so
  // that a `wrangler dev` running beside the tests cannot see these Workers.
  const configHome = await mkdtemp(join(tmpdir(), "shop-wrangler-"))
  process.env["XDG_CONFIG_HOME"] = configHome
  process.env["CLOUDFLARE_CF_FETCH_ENABLED"] = "false"
  process.env["WRANGLER_SEND_METRICS"] = "false"

  let started: TestHarness | undefined
  const relay = await startRelay(() => started)
  const paypal = await startPaypal().catch(async (error: unknown) => {
    await relay.close()
    throw error
  })
  const paypalVars = {
    PAYPAL_CLIENT_ID: paypal.fake.options.clientId,
    PAYPAL_API_BASE: paypal.url,
    PAYPAL_WEBHOOK_ID: paypal.fake.options.webhookId,
    // A lost answer (a fault the scenarios inject) is given up on after this.
    PAYPAL_TIMEOUT_MS: "1500"
  }
  const secrets: Secrets = { JWT_SECRET: secret(), ADMIN_SECRET: secret(), INTERNAL_SECRET: secret() }
  const vars = { ...options.vars }
  const internal = { INTERNAL_SECRET: secrets.INTERNAL_SECRET }
  const config = (worker: string) => join(root, worker, "wrangler.jsonc")
  const harness = createTestHarness({
    // Not this folder: the inline Worker below would pick up a developer's
    // runtimes/cloudflare/.dev.vars, whose values would beat its vars.
    root: configHome,
    workers: [
      // A long service timeout for the gateway: the scenarios queue 50 adds on
      // one cart's Durable Object, which take turns (a few seconds here, more
      // on a busy CI machine); the suite checks what they end at, not how fast.
      { configPath: config("gateway"), vars: { SERVICE_TIMEOUT_MS: "60000", ...vars }, secrets: internal },
      { configPath: config("auth"), vars, secrets: { ...secrets } },
      { configPath: config("catalog"), vars, secrets: internal },
      { configPath: config("inventory"), vars: { ...vars, ...options.inventoryVars }, secrets: internal },
      { configPath: config("fulfillment"), vars, secrets: internal },
      { configPath: config("coupons"), vars, secrets: internal },
      { configPath: config("idempotency"), vars, secrets: internal },
      { configPath: config("cart"), vars, secrets: internal },
      { configPath: config("orders"), vars, secrets: internal },
      {
        configPath: config("payments"),
        vars: { ...paypalVars, ...vars },
        secrets: { ...internal, PAYPAL_CLIENT_SECRET: paypal.fake.options.clientSecret }
      },
      {
        // Test-only: the cart Worker with carts that expire in seconds.
        config: {
          name: workerNames.shortCart,
          main: join(root, "src", "cart.ts"),
          compatibility_date: "2026-11-01",
          durable_objects: { bindings: [{ name: "CART_OBJECTS", class_name: "CartObject" }] },
          migrations: [{ tag: "v1", new_sqlite_classes: ["CartObject"] }],
          services: [
            { binding: "CATALOG", service: workerNames.catalog },
            { binding: "INVENTORY", service: workerNames.inventory },
            { binding: "FULFILLMENT", service: workerNames.fulfillment },
            { binding: "COUPONS", service: workerNames.coupons },
            { binding: "PAYMENTS", service: workerNames.payments },
            { binding: "ORDERS", service: workerNames.orders }
          ],
          vars: { ...vars, ...internal, CART_TTL_SECONDS: String(shortCartTtlSeconds) }
        }
      },
      {
        // Test-only: the gateway's code in front of that cart Worker.
        config: {
          name: workerNames.shortGateway,
          main: join(root, "src", "gateway.ts"),
          compatibility_date: "2026-11-01",
          services: [
            { binding: "AUTH", service: workerNames.auth },
            { binding: "CATALOG", service: workerNames.catalog },
            { binding: "INVENTORY", service: workerNames.inventory },
            { binding: "FULFILLMENT", service: workerNames.fulfillment },
            { binding: "COUPONS", service: workerNames.coupons },
            { binding: "IDEMPOTENCY", service: workerNames.idempotency },
            { binding: "PAYMENTS", service: workerNames.payments },
            { binding: "ORDERS", service: workerNames.orders },
            { binding: "CART", service: workerNames.shortCart }
          ],
          vars: { ...vars, ...internal }
        }
      },
      {
        // Test-only: reaches the orders and payments Workers through real
        // service bindings for the tests (BindingCaller.ts says why).
        config: {
          name: workerNames.bindingCaller,
          main: join(root, "test", "BindingCaller.ts"),
          compatibility_date: "2026-11-01",
          services: [
            { binding: "ORDERS", service: workerNames.orders },
            { binding: "PAYMENTS", service: workerNames.payments }
          ]
        }
      },
      {
        // Test-only: the gateway's code with no bindings. An inline config
        // has no secrets, so INTERNAL_SECRET goes in as a variable here.
        config: {
          name: workerNames.urlGateway,
          main: join(root, "src", "gateway.ts"),
          compatibility_date: "2026-11-01",
          services: [{ binding: "CART", service: workerNames.cart }],
          vars: {
            ...vars,
            ...internal,
            AUTH_URL: relay.url,
            CATALOG_URL: relay.url,
            INVENTORY_URL: relay.url,
            FULFILLMENT_URL: relay.url,
            COUPONS_URL: relay.url,
            IDEMPOTENCY_URL: relay.url,
            PAYMENTS_URL: relay.url,
            ORDERS_URL: relay.url
          }
        }
      }
    ]
  })
  const close = async () => {
    await harness.close()
    await relay.close()
    await paypal.close()
    await rm(configHome, { recursive: true, force: true })
  }
  try {
    const { url } = await harness.listen()
    for (const name of [
      workerNames.auth,
      workerNames.catalog,
      workerNames.inventory,
      workerNames.fulfillment,
      workerNames.coupons,
      workerNames.idempotency,
      workerNames.orders,
      workerNames.payments
    ]) {
      await harness.getWorker(name).applyD1Migrations("DB")
    }
    started = harness
    // PayPal's webhooks reach the gateway, as they would reach the shop's
    // public URL.
    if (options.webhooks === true) {
      await fetch(`${paypal.url}/__fake/webhook-url`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url: new URL("/api/payments/paypal/webhook", url).href })
      })
    }
    return {
      harness,
      paypal: { url: paypal.url, fake: paypal.fake },
      binding: (service) => ({
        call: async (messages) => {
          const response = await harness
            .getWorker(workerNames.bindingCaller)
            .fetch(`http://binding-caller.test/${service}`, { method: "POST", body: JSON.stringify(messages) })
          if (response.status !== 200) throw new Error(`${service}: ${response.status} ${await response.text()}`)
          return (await response.json()) as ReadonlyArray<RpcMessage.FromServerEncoded>
        }
      }),
      fetch: (request) => {
        const target = new URL(request.url)
        return fetch(new Request(new URL(target.pathname + target.search, url), request))
      },
      workerFetch: (name) => viaWorker(harness, name),
      relayed: relay.relayed,
      url,
      secrets,
      close
    }
  } catch (error) {
    await close()
    throw error
  }
}
