// `node runtimes/cloudflare/scripts/cpu-per-request.ts <base URL> <workerd pid> [n] [concurrency]`:
// the CPU time the local workerd process spends per request (user + system,
// from /proc/<pid>/stat, all threads), for GET product and add-to-cart on a
// Workers set already running at <base URL> (scripts/dev.ts). On a machine
// shared with other loads, req/s moves with the neighbours; CPU time per
// request much less, so this is the number to compare changes with.
import { readFileSync } from "node:fs"

const [baseUrl, pidText, nText, concurrencyText] = process.argv.slice(2)
if (baseUrl === undefined || pidText === undefined)
  throw new Error("usage: cpu-per-request.ts <base URL> <pid> [n] [c]")
const pids = pidText.split(",").map(Number)
const n = Number(nText ?? "400")
const concurrency = Number(concurrencyText ?? "8")
const ticksPerSecond = 100

const cpuMillis = () =>
  pids.reduce((sum, pid) => {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    // utime and stime are fields 14 and 15 of the whole line (1-based), 12 and 13 after "pid (comm) ".
    return sum + ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond
  }, 0)

const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null && key in value ? (value as Record<string, unknown>)[key] : undefined

const call = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body)
  })
  const json: unknown = await response.json()
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`)
  return json
}

const measure = async (name: string, request: (i: number) => Promise<unknown>) => {
  // Warm-up: isolates, JIT.
  await Promise.all(Array.from({ length: concurrency }, (_, i) => request(i)))
  const cpuBefore = cpuMillis()
  const start = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await request(next++)
    })
  )
  const wall = performance.now() - start
  const cpu = cpuMillis() - cpuBefore
  process.stdout.write(
    `${name.padEnd(22)} n=${n} c=${concurrency}  workerd CPU ${(cpu / n).toFixed(2)} ms/request  wall ${(wall / n).toFixed(2)} ms/request (${((n * 1000) / wall).toFixed(0)} req/s)\n`
  )
}

const page = await call("GET", "/api/products?limit=100")
const items = field(page, "items") as Array<unknown>
const productId = String(field(items[0], "productId"))
let best = { productId: "", variantId: "", available: -1 }
for (const product of items) {
  for (const variant of field(product, "variants") as Array<unknown>) {
    const available = Number(field(variant, "available"))
    if (available > best.available) {
      best = {
        productId: String(field(product, "productId")),
        variantId: String(field(variant, "variantId")),
        available
      }
    }
  }
}
const only = new Set((process.env["ONLY"] ?? "product,add").split(","))
if (only.has("health")) await measure("GET /health", () => fetch(`${baseUrl}/health`).then((r) => r.text()))
if (only.has("product")) await measure("GET product", () => call("GET", `/api/products/${productId}`))
if (only.has("add")) {
  const carts: Array<{ readonly cartId: string; quantity: number }> = []
  for (let i = 0; i < concurrency; i++)
    carts.push({ cartId: String(field(await call("POST", "/api/cart/init"), "cartId")), quantity: 0 })
  // Each cart's line stays under the variant's stock (and 999), however many
  // requests: once it holds 50 units (or the stock) it is set back to 1. The
  // count is per cart, taken before the request: a request's cart is
  // `i % concurrency`, but requests finish out of order.
  const limit = Math.min(50, best.available)
  await measure("add-to-cart", async (i) => {
    const cart = carts[i % concurrency]!
    const add = () =>
      call("POST", `/api/cart/${cart.cartId}/add`, {
        productId: best.productId,
        variantId: best.variantId,
        quantity: 1
      })
    if (cart.quantity + 1 < limit) {
      cart.quantity += 1
      return add()
    }
    cart.quantity = 1
    return call("POST", `/api/cart/${cart.cartId}/update`, { variantId: best.variantId, quantity: 1 }).catch(add)
  })
}
if (only.has("cart")) {
  const cartId = String(field(await call("POST", "/api/cart/init"), "cartId"))
  await measure("get-cart", () => call("GET", `/api/cart/${cartId}`))
}
