// The node runtime's request pipeline without the network: the same layers as
// runtimes/node/src/main.ts (services on SQLite files in a fresh temp
// DATA_DIR, demo catalog seeded, the gateway's routes and middleware) behind
// HttpRouter.toWebHandler, called N times in a row from this process. Prints
// the CPU time a request costs for GET product, the list of 20, add-to-cart
// and get-cart. With the HTTP server, the socket writes and the load generator
// out of the picture, it measures what the framework, validation, tracing and
// service seams cost on each request, and it moves far less from run to run
// on a shared machine than req/s under load. For a profile of the pipeline
// alone: `node --cpu-prof runtimes/node/test/Pipeline.ts`.
//
//   node runtimes/node/test/Pipeline.ts [requests per scenario, default 5000] [product|list|add|cart ...]
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpServer } from "@effect/platform-node"
import { ConfigProvider, Layer } from "effect"
import { HttpRouter } from "effect/http"
import * as DocsScriptBundled from "@shop/gateway/DocsScriptBundled"
import * as Gateway from "@shop/gateway/Gateway"
import * as Seed from "../src/Seed.ts"
import * as Services from "../src/Services.ts"
import * as Settings from "../src/Settings.ts"

const requests = Number(process.argv[2] ?? 5000)
const only = process.argv.slice(3)
const chosen = (name: string) => only.length === 0 || only.includes(name)
const dataDir = mkdtempSync(join(tmpdir(), "shop-pipeline-"))
const env = {
  DATA_DIR: dataDir,
  JWT_SECRET: "pipeline-jwt-secret-0123456789abcdef0123456789",
  ADMIN_SECRET: "pipeline-admin-secret-0123",
  LOG_LEVEL: "warn",
  PASSWORD_ITERATIONS: "1000",
  PAYPAL_FAKE_PORT: "0"
}
const app = Gateway.layer.pipe(
  Layer.provide(DocsScriptBundled.layer),
  Layer.provide(Seed.layer.pipe(Layer.provideMerge(Services.layer))),
  Layer.provideMerge(Settings.layer),
  Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(env))),
  // What NodeHttpServer.layer gives the routes in main.ts, minus the server.
  Layer.provide(NodeHttpServer.layerHttpServices)
)
const { dispose, handler } = HttpRouter.toWebHandler(app, { disableLogger: true })

const origin = "http://127.0.0.1"
const call = async (method: string, path: string, body?: unknown) => {
  const response = await handler(
    new Request(`${origin}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? null : JSON.stringify(body)
    }),
    undefined
  )
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
  return text
}

const cpuMicros = () => {
  const { system, user } = process.cpuUsage()
  return system + user
}

const measure = async (name: string, one: (i: number) => Promise<unknown>) => {
  for (let i = 0; i < Math.min(1000, requests); i++) await one(i)
  const cpu = cpuMicros()
  const wall = performance.now()
  for (let i = 0; i < requests; i++) await one(i)
  const us = (cpuMicros() - cpu) / requests
  const wallUs = ((performance.now() - wall) * 1000) / requests
  process.stdout.write(
    `${name.padEnd(28)} ${us.toFixed(0).padStart(5)} us CPU  ${wallUs.toFixed(0).padStart(5)} us wall\n`
  )
}

try {
  const page = JSON.parse(await call("GET", "/api/products?limit=100")) as {
    items: Array<{ productId: string; variants: Array<{ variantId: string; available: number }> }>
  }
  const product = page.items[0]!
  let best = { productId: product.productId, variantId: product.variants[0]!.variantId, available: 0 }
  for (const p of page.items) {
    for (const v of p.variants)
      if (v.available > best.available)
        best = { ...best, productId: p.productId, variantId: v.variantId, available: v.available }
  }
  const cartId = (JSON.parse(await call("POST", "/api/cart/init")) as { cartId: string }).cartId
  const add = { productId: best.productId, variantId: best.variantId, quantity: 1 }
  await call("POST", `/api/cart/${cartId}/add`, add)
  const cap = Math.min(best.available, 999)
  if (chosen("health")) await measure("GET health", () => call("GET", "/health"))
  if (chosen("product")) await measure("GET product", () => call("GET", `/api/products/${product.productId}`))
  if (chosen("list")) await measure("GET products?limit=20", () => call("GET", "/api/products?limit=20"))
  if (chosen("add")) {
    await measure("POST cart add", (i) =>
      i % (cap - 1) === 0
        ? call("POST", `/api/cart/${cartId}/update`, { variantId: best.variantId, quantity: 1 })
        : call("POST", `/api/cart/${cartId}/add`, add)
    )
  }
  if (chosen("cart")) await measure("GET cart", () => call("GET", `/api/cart/${cartId}`))
} finally {
  await dispose()
  rmSync(dataDir, { recursive: true, force: true })
}
