// `npm run dev:workers`: the whole Workers set under local workerd on
// http://127.0.0.1:8787, the way `npm start` serves the node runtime.
//
// 1. Creates runtimes/cloudflare/.dev.vars with random secrets when missing
//    (git-ignored), and gives each Worker the part it needs.
// 2. Applies the migrations of each service to its local D1 (the cart has
//    none: its Durable Objects keep their own storage).
// 3. Writes the gateway's static assets (Scalar's script for /docs, from
//    effect) and runs gateway, auth, catalog, inventory, fulfillment, coupons,
//    idempotency, cart, orders and payments in one `wrangler dev`. Without
//    PAYPAL_CLIENT_ID, the fake PayPal runs on loopback beside it (the node
//    runner) and the payments Worker reaches it by URL.
// 4. Seeds the demo catalog through the gateway's admin API when the catalog
//    is empty, so that products get their stock through the catalog service.
// Ctrl-C stops everything (wrangler, which stops its workerd).
//
// WORKERS_DEV_HOME=<dir> runs from a copy of the wrangler files in <dir>,
// with the secrets and local state there too: the bench uses it, so that a
// bench run never touches the developer's .dev.vars or local databases.
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Exit, Scope } from "effect"
import { products } from "@shop/demo/DemoCatalog"
import * as PaypalFake from "@shop/paypal-fake/PaypalFake"
import * as PaypalFakeServer from "@shop/runtime-node/PaypalFake"
import { writeDocsAssets } from "./docs-assets.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
// Run on this Node (24), not on whatever `node` the shim's shebang finds first.
const wrangler = fileURLToPath(new URL("../../../node_modules/wrangler/bin/wrangler.js", import.meta.url))
const host = "127.0.0.1"
const port = Number(process.env["PORT"] ?? "8787")
const baseUrl = `http://${host}:${port}`
// The services with a D1 database of their own.
const services = [
  "auth",
  "catalog",
  "inventory",
  "fulfillment",
  "coupons",
  "idempotency",
  "orders",
  "payments"
] as const
const workers = ["gateway", ...services, "cart"] as const

// Where the wrangler files, .dev.vars and local state are.
const home = process.env["WORKERS_DEV_HOME"] ?? root
const configPath = (worker: string) => join(home, worker, "wrangler.jsonc")
if (home !== root) {
  for (const worker of workers) {
    const source = join(root, worker, "wrangler.jsonc")
    // Paths in a wrangler file are relative to it: make them absolute in the copy.
    const text = readFileSync(source, "utf8")
      .replace(/^\s*"\$schema":.*\n/m, "")
      .replace(
        /"(main|migrations_dir|directory)": "([^"]+)"/g,
        (_, key, path) => `"${key}": ${JSON.stringify(resolve(dirname(source), path))}`
      )
    mkdirSync(join(home, worker), { recursive: true })
    writeFileSync(configPath(worker), text)
  }
}
// All local state (the D1 databases, the carts' Durable Objects) lives here, for migrations and dev alike.
const persistTo = join(home, ".wrangler", "state")

const env = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  // A wrangler registry of our own, so that test runs and this dev server do
  // not see each other's Workers (STACK.md sharp edge 7).
  XDG_CONFIG_HOME: join(home, ".wrangler", "config")
}

const log = (message: string) => process.stdout.write(`[dev:workers] ${message}\n`)

// --- 1. secrets -------------------------------------------------------------

const devVarsPath = join(home, ".dev.vars")

const parseVars = (text: string) =>
  Object.fromEntries(
    text
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.length > 0 && !line.startsWith("#") && line.includes("="))
      .map((line) => {
        const at = line.indexOf("=")
        return [
          line.slice(0, at).trim(),
          line
            .slice(at + 1)
            .trim()
            .replace(/^"(.*)"$/, "$1")
        ]
      })
  )

const readOrCreateVars = (): Record<string, string> => {
  if (!existsSync(devVarsPath)) {
    const secret = () => randomBytes(32).toString("hex")
    writeFileSync(
      devVarsPath,
      [
        "# Local secrets for `npm run dev:workers` (git-ignored, created with random values).",
        "# Production: `wrangler secret put <NAME> -c runtimes/cloudflare/<worker>/wrangler.jsonc`.",
        `JWT_SECRET=${secret()}`,
        `ADMIN_SECRET=${secret()}`,
        `INTERNAL_SECRET=${secret()}`,
        "# The local admin account the demo catalog is seeded with (dev only).",
        "DEV_ADMIN_EMAIL=admin@shop.local",
        `DEV_ADMIN_PASSWORD=${secret().slice(0, 24)}`,
        ""
      ].join("\n"),
      { mode: 0o600 }
    )
    log(`created ${devVarsPath} with random secrets`)
  }
  return parseVars(readFileSync(devVarsPath, "utf8"))
}

const vars = readOrCreateVars()
const required = (name: string) => {
  const value = vars[name]
  if (value === undefined || value.length === 0) throw new Error(`${devVarsPath} has no ${name}`)
  return value
}

// wrangler reads `.dev.vars` beside each Worker's config: each one gets only
// the secrets it uses.
const perWorker: Record<string, ReadonlyArray<string>> = {
  gateway: ["INTERNAL_SECRET"],
  auth: ["JWT_SECRET", "ADMIN_SECRET", "INTERNAL_SECRET"],
  catalog: ["INTERNAL_SECRET"],
  inventory: ["INTERNAL_SECRET"],
  fulfillment: ["INTERNAL_SECRET"],
  coupons: ["INTERNAL_SECRET"],
  idempotency: ["INTERNAL_SECRET"],
  // Signs its calls to a service it has no binding for.
  cart: ["INTERNAL_SECRET"],
  orders: ["INTERNAL_SECRET"],
  // PAYPAL_* are added below: PayPal's, or the fake's.
  payments: ["INTERNAL_SECRET"]
}
// The optional settings each Worker reads (README, "Configuration").
const everyWorker = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS", "LOG_LEVEL"]
const optionalPerWorker: Record<string, ReadonlyArray<string>> = {
  gateway: [
    ...everyWorker,
    "CORS_ORIGINS",
    "SERVICE_TIMEOUT_MS",
    "CLIENT_IP_HEADER",
    "CHECKOUT_RETURN_URL",
    "CHECKOUT_CANCEL_URL",
    "CATALOG_CACHE_MAX_AGE_SECONDS",
    "CATALOG_CACHE_SWR_SECONDS",
    "EDGE_CACHE_TTL_SECONDS"
  ],
  auth: [
    ...everyWorker,
    "TOKEN_TTL_SECONDS",
    "PASSWORD_ITERATIONS",
    "LOGIN_THROTTLE_WINDOW_SECONDS",
    "LOGIN_MAX_FAILURES_PER_EMAIL",
    "LOGIN_MAX_FAILURES_PER_CLIENT"
  ],
  catalog: everyWorker,
  inventory: [...everyWorker, "HOLD_TTL_SECONDS"],
  fulfillment: everyWorker,
  coupons: [
    ...everyWorker,
    "COUPON_THROTTLE_WINDOW_SECONDS",
    "COUPON_MAX_BAD_CODES_PER_CART",
    "COUPON_MAX_BAD_CODES_PER_CLIENT"
  ],
  cart: [...everyWorker, "CART_TTL_SECONDS", "CHECKOUT_RECONCILE_GRACE_SECONDS"],
  idempotency: everyWorker,
  orders: everyWorker,
  payments: [...everyWorker, "PAYPAL_TIMEOUT_MS"]
}

// --- 1b. PayPal -------------------------------------------------------------

// With PAYPAL_CLIENT_ID (in .dev.vars or the environment), the payments
// Worker gets the PayPal settings as they are (PaypalConfig refuses
// incomplete ones, naming the setting). Without it, the fake PayPal
// (@shop/paypal-fake) listens on loopback beside wrangler, for as long as
// this script runs, with credentials drawn now: its control API has no
// authentication, so never on another interface. The buyer's browser follows
// its approve link to that same address.
const paypalSetting = (name: string) => {
  const value = vars[name] ?? process.env[name]
  return value === undefined || value.length === 0 ? undefined : value
}
const paypalScope = Effect.runSync(Scope.make())
const paypalVars: Record<string, string> = {}
// Said again once the shop is up, where it is not scrolled away by wrangler's output.
let paypalNotice = ""
if (paypalSetting("PAYPAL_CLIENT_ID") !== undefined) {
  for (const name of ["PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_API_BASE", "PAYPAL_WEBHOOK_ID"]) {
    const value = paypalSetting(name)
    if (value !== undefined) paypalVars[name] = value
  }
  log(`payments: PayPal at ${paypalVars["PAYPAL_API_BASE"] ?? "https://api-m.sandbox.paypal.com (the sandbox)"}`)
} else {
  const fake = PaypalFake.make({
    clientId: `shop-dev-${randomBytes(6).toString("hex")}`,
    clientSecret: randomBytes(32).toString("hex"),
    webhookId: `WH-DEV-${randomBytes(8).toString("hex")}`,
    webhookSecret: randomBytes(32).toString("hex"),
    // Its webhooks (approved, captured, refunded) reach the gateway, as
    // PayPal's reach a deployed shop.
    webhookUrl: `${baseUrl}/api/payments/paypal/webhook`
  })
  const { url } = await Effect.runPromise(
    Scope.provide(PaypalFakeServer.serve(fake.handler, { host, port: 0 }), paypalScope)
  )
  paypalVars["PAYPAL_CLIENT_ID"] = fake.options.clientId
  paypalVars["PAYPAL_CLIENT_SECRET"] = fake.options.clientSecret
  paypalVars["PAYPAL_API_BASE"] = url
  paypalVars["PAYPAL_WEBHOOK_ID"] = fake.options.webhookId
  const banner = "!".repeat(78)
  log(banner)
  log("PAYMENTS RUN IN SANDBOX MODE AGAINST THE FAKE PAYPAL: no real money moves.")
  log(`The fake PayPal listens on ${url} (approve links point there; its control API is ${url}/__fake/).`)
  log("Set PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET, PAYPAL_WEBHOOK_ID (and PAYPAL_API_BASE) to use PayPal.")
  log(banner)
  paypalNotice = `payments in SANDBOX MODE against the fake PayPal on ${url} (no PAYPAL_CLIENT_ID)`
}
const stopPaypal = () => Effect.runPromise(Scope.close(paypalScope, Exit.void))
for (const [worker, names] of Object.entries(perWorker)) {
  // Optional settings, from .dev.vars or else from this process's environment
  // (e.g. `LOG_LEVEL=info npm run dev:workers`).
  const optional = (optionalPerWorker[worker] ?? everyWorker).flatMap((name) => {
    const value = vars[name] ?? process.env[name]
    return value === undefined || value.length === 0 ? [] : [`${name}=${value}`]
  })
  writeFileSync(
    join(home, worker, ".dev.vars"),
    [
      `# Written by npm run dev:workers from ../.dev.vars: edit that file instead.`,
      ...names.map((name) => `${name}=${required(name)}`),
      ...optional,
      ...(worker === "payments" ? Object.entries(paypalVars).map(([name, value]) => `${name}=${value}`) : []),
      ""
    ].join("\n"),
    { mode: 0o600 }
  )
}

// --- 2. migrations ----------------------------------------------------------

mkdirSync(persistTo, { recursive: true })
for (const service of services) {
  log(`applying migrations to the local D1 of ${service}`)
  const result = spawnSync(
    process.execPath,
    [
      wrangler,
      "d1",
      "migrations",
      "apply",
      `shop-${service}`,
      "--local",
      "--persist-to",
      persistTo,
      "-c",
      configPath(service)
    ],
    { cwd: root, env, stdio: "inherit" }
  )
  if (result.status !== 0) {
    log(`migrations failed for ${service} (exit ${result.status})`)
    process.exit(1)
  }
}

// --- 3. wrangler dev --------------------------------------------------------

// The gateway's assets directory must exist before wrangler reads its config.
await writeDocsAssets()

const child: ChildProcess = spawn(
  process.execPath,
  [
    wrangler,
    "dev",
    ...workers.flatMap((worker) => ["-c", configPath(worker)]),
    "--ip",
    host,
    "--port",
    String(port),
    "--persist-to",
    persistTo,
    "--show-interactive-dev-session=false"
  ],
  // Same process group: Ctrl-C in the terminal reaches wrangler directly, and
  // so does a signal to the group (e.g. from the bench).
  { cwd: root, env, stdio: "inherit" }
)

let stopping = false
// wrangler stops its workerd when it gets SIGINT or SIGTERM itself, so a
// signal sent to this script alone is passed on. Ctrl-C has already reached
// wrangler through the group: it gets a moment to exit before being told
// again (a second SIGINT could make it skip its clean-up).
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return
  stopping = true
  log("stopping")
  const pass = (after: number, sent: NodeJS.Signals) =>
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sent)
    }, after).unref()
  pass(signal === "SIGINT" ? 1_000 : 0, "SIGTERM")
  pass(10_000, "SIGKILL")
}
process.on("SIGINT", () => stop("SIGINT"))
process.on("SIGTERM", () => stop("SIGTERM"))
child.on("exit", (code, signal) => {
  if (!stopping) log(`wrangler dev exited (${signal ?? code})`)
  // The fake PayPal's server would keep this process alive.
  void stopPaypal().finally(() => process.exit(stopping ? 0 : (code ?? 1)))
})

// --- 4. seed ----------------------------------------------------------------

const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000)
  })
  const text = await response.text()
  return { status: response.status, body: text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {} }
}

const waitForHealth = async () => {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await request("GET", "/health")).status === 200) return true
    } catch {
      // Not up yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  return false
}

// The admin the demo is created with: signed up with ADMIN_SECRET on the
// first run, logged in on later ones.
const adminToken = async () => {
  const email = required("DEV_ADMIN_EMAIL")
  const password = required("DEV_ADMIN_PASSWORD")
  const signup = await request(
    "POST",
    "/api/auth/admin/signup",
    { email, password, name: "Local admin" },
    { "x-admin-secret": required("ADMIN_SECRET") }
  )
  if (signup.status !== 201 && signup.status !== 409) {
    throw new Error(`admin signup failed: ${signup.status} ${JSON.stringify(signup.body)}`)
  }
  const login = await request("POST", "/api/auth/login", { email, password })
  if (login.status !== 200) throw new Error(`admin login failed: ${login.status} ${JSON.stringify(login.body)}`)
  return String(login.body["accessToken"])
}

const seed = async () => {
  if (!(await waitForHealth())) {
    if (!stopping) log(`${baseUrl}/health did not answer; not seeding`)
    return
  }
  const page = await request("GET", "/api/products?limit=1")
  if (page.status !== 200) throw new Error(`GET /api/products: ${page.status} ${JSON.stringify(page.body)}`)
  if (page.body["total"] !== 0) {
    log(`catalog has ${String(page.body["total"])} products; not seeding`)
  } else {
    const token = await adminToken()
    let created = 0
    // One at a time, in file order, like the node runtime's seed.
    for (const product of products) {
      const reply = await request("POST", "/api/admin/products", product, { authorization: `Bearer ${token}` })
      if (reply.status === 201) created++
      else log(`could not seed ${product.sku}: ${reply.status} ${JSON.stringify(reply.body)}`)
    }
    log(`seeded ${created} of ${products.length} demo products`)
  }
  log(`shop ready on ${baseUrl} (admin: ${required("DEV_ADMIN_EMAIL")}, password in ${devVarsPath})`)
  if (paypalNotice.length > 0) log(paypalNotice)
}

seed().catch((error: unknown) => log(`seeding failed: ${error instanceof Error ? error.message : String(error)}`))
