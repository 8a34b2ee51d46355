// `node runtimes/cloudflare/scripts/bench-workers.ts [base URL]`: the
// Workers rows of `npm run bench` alone (GET product, add-to-cart, get-cart),
// with the same load tool (bench/load.ts) and the same scenarios, for quick
// before/after comparisons of the Workers set without the other targets.
// Without a base URL it starts the set itself (scripts/dev.ts with a fresh
// WORKERS_DEV_HOME, as the bench does) and stops it afterwards; with one it
// loads a set already running there (for profiling it meanwhile).
// Env: BENCH_DURATION (default 5), BENCH_CONNECTIONS (default 32),
// BENCH_ONLY (comma-separated: product, add, cart).
import { spawn, spawnSync } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const rootDir = fileURLToPath(new URL("../../..", import.meta.url))
const node = process.execPath
const duration = Number(process.env["BENCH_DURATION"] ?? "5")
const connections = Number(process.env["BENCH_CONNECTIONS"] ?? "32")
const only = new Set((process.env["BENCH_ONLY"] ?? "product,add,cart").split(","))

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject()))
    })
  })

const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null && key in value ? (value as Record<string, unknown>)[key] : undefined

const json = async (method: string, url: string, body?: unknown): Promise<unknown> => {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000)
  })
  if (!response.ok) throw new Error(`${method} ${url}: HTTP ${response.status} ${await response.text()}`)
  return response.json()
}

let stopSet: (() => Promise<void>) | undefined
let home: string | undefined
let baseUrl = process.argv[2]
if (baseUrl === undefined) {
  home = await mkdtemp(join(tmpdir(), "shop-bench-workers-"))
  const port = await freePort()
  baseUrl = `http://127.0.0.1:${port}`
  const child = spawn(node, [join(rootDir, "runtimes", "cloudflare", "scripts", "dev.ts")], {
    cwd: rootDir,
    env: { ...process.env, PORT: String(port), WORKERS_DEV_HOME: home, LOG_LEVEL: "Warn", WRANGLER_LOG: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true
  })
  let out = ""
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()))
  const pid = child.pid ?? 0
  stopSet = async () => {
    try {
      process.kill(-pid, "SIGTERM")
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 3000))
    try {
      process.kill(-pid, "SIGKILL")
    } catch {}
  }
  const deadline = Date.now() + 240_000
  while (!out.includes("shop ready on")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      process.stderr.write(out.slice(-4000))
      await stopSet()
      process.exit(1)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  process.stderr.write(`workers set up on ${baseUrl} (pid ${pid})\n`)
}

const load = (urls: ReadonlyArray<string>, steps?: unknown) => {
  const result = spawnSync(
    node,
    [join(rootDir, "bench", "load.ts"), JSON.stringify({ urls, steps, connections, duration, warmup: 2 })],
    { cwd: rootDir, encoding: "utf8" }
  )
  if (result.status !== 0) throw new Error(`load failed: ${result.stderr}`)
  const lines = result.stdout.trim().split("\n")
  return JSON.parse(lines[lines.length - 1] ?? "{}") as {
    requestsPerSecMean: number
    non2xx: number
    errors: number
    latencyMs: { p50: number; p99: number }
  }
}

const row = (name: string, r: ReturnType<typeof load>) =>
  process.stdout.write(
    `${name.padEnd(34)} ${r.requestsPerSecMean.toFixed(1).padStart(8)} req/s  p50 ${r.latencyMs.p50.toFixed(1).padStart(7)} ms  p99 ${r.latencyMs.p99.toFixed(1).padStart(7)} ms  non2xx ${r.non2xx} errors ${r.errors}\n`
  )

try {
  const page = await json("GET", `${baseUrl}/api/products?limit=100`)
  const items = field(page, "items")
  const first = Array.isArray(items) ? field(items[0], "productId") : undefined
  if (typeof first !== "string") throw new Error("no product")
  if (only.has("product")) row("workers GET /api/products/:id", load([`${baseUrl}/api/products/${first}`]))
  if (only.has("add") || only.has("cart")) {
    let best: { productId: string; variantId: string; available: number } | undefined
    for (const product of Array.isArray(items) ? items : []) {
      const variants = field(product, "variants")
      for (const variant of Array.isArray(variants) ? variants : []) {
        const productId = field(product, "productId")
        const variantId = field(variant, "variantId")
        const available = field(variant, "available")
        if (typeof productId !== "string" || typeof variantId !== "string" || typeof available !== "number") continue
        if (best === undefined || available > best.available) best = { productId, variantId, available }
      }
    }
    if (best === undefined) throw new Error("no variant")
    const cap = Math.min(best.available, 999)
    const paths: Array<string> = []
    for (let i = 0; i < connections; i++) {
      const cartId = field(await json("POST", `${baseUrl}/api/cart/init`), "cartId")
      const path = `${baseUrl}/api/cart/${encodeURIComponent(String(cartId))}`
      await json("POST", `${path}/add`, { productId: best.productId, variantId: best.variantId, quantity: 1 })
      paths.push(path)
    }
    if (only.has("add")) {
      row(
        "workers POST /api/cart/:id/add",
        load(paths, [
          { method: "POST", suffix: "/update", body: JSON.stringify({ variantId: best.variantId, quantity: 1 }) },
          {
            method: "POST",
            suffix: "/add",
            body: JSON.stringify({ productId: best.productId, variantId: best.variantId, quantity: 1 }),
            repeat: cap - 1
          }
        ])
      )
    }
    if (only.has("cart")) row("workers GET /api/cart/:id", load(paths))
  }
} finally {
  if (stopSet !== undefined) await stopSet()
  if (home !== undefined) await rm(home, { recursive: true, force: true })
}
