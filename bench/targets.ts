// What the bench measures: a list of targets, each a server started for this
// run plus the scenarios (paths) to load on it.
//
// To add a target (for example "GET /api/products/:id through the gateway
// Worker under local workerd"):
//   1. Write a `Target` below: `start` launches the server with
//      `startProcess` (so it is stopped on every exit path, Ctrl-C included),
//      on a port from `freePort()` on 127.0.0.1, with any state under
//      `context.tempDir` (removed after the run); it waits with `waitForHttp`
//      until the server answers, looks up whatever ids its paths need, and
//      returns the base URL, the scenarios and a `stop` that ends the server.
//      For wrangler, stop the wrangler process group, not an npx wrapper
//      (see STACK.md, sharp edge 7).
//   2. Append it to `targets` at the bottom. Targets run in list order, the
//      request scenarios of one in rounds (BENCH_ROUNDS, bench/run.ts); the
//      target marked `baseline: true` must come first, its first scenario is
//      the 100% every other req/s is compared with.
//   3. Give a scenario a `goal` when the issue sets one; it is printed as
//      MET / NOT MET and never fails the run.
//   4. Give a scenario a `floorKey` when the floor (bench/floor.ts) answers
//      the same request: its row then shows its share of the floor's req/s.
//
// A target that needs another one running first (the floor reads the node
// runtime's SQLite files) names it in `after`; it starts once that one has,
// gets its RunningTarget, and is measured with it: the request scenarios of
// both share the rounds, so their ratios are taken round by round.
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { cp, mkdir, rm } from "node:fs/promises"
import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { type CartGrowthResult, measureCartGrowth } from "./cart-growth.ts"
import type { LoadStep } from "./load.ts"
import { freePort, startNodeRuntime, startProcess, waitForHttp } from "./processes.ts"

export interface Goal {
  readonly label: string
  // Lowest acceptable req/s as a share of another scenario's req/s in the
  // same run: the baseline (hello world), the floor's answer to the same
  // request (floorKey), the same runtime's GET product (reference), or the
  // same scenario on the commit before the work (beforeKey, the target marked
  // `before`).
  readonly minShare?: { readonly of: "baseline" | "floor" | "reference" | "before"; readonly ratio: number }
  // Lowest acceptable req/s, for goals set as a multiple of an earlier run;
  // with `minShare.of: "before"`, what is judged when no before target ran.
  readonly minRps?: number
  readonly maxP99Ms?: number
  // The connection count the goal was set for; a run at another count is
  // still reported, with a note that it is not the comparison the goal means.
  // Absent for a goal that fixes its own concurrency (one buyer at a time).
  readonly connections?: number
}

export interface Scenario {
  readonly name: string
  // The path every connection loads; for per-connection scenarios, its shape
  // (`/api/cart/:id/add`), as printed and written to results.json.
  readonly path: string
  // When set, connection i loads connectionPaths[i % length] instead (its own cart).
  readonly connectionPaths?: ReadonlyArray<string>
  // When set, the requests each connection repeats on its path (load.ts).
  readonly steps?: ReadonlyArray<LoadStep>
  // When set, the scenario is full checkouts driven by checkout.ts (one
  // signed-in buyer per token, each buying one unit of productId again and
  // again) instead of autocannon: its "req/s" are checkouts a second.
  readonly checkout?: { readonly tokens: ReadonlyArray<string>; readonly productId: string }
  // The scenario of the same target the others are compared with ("vs GET product").
  readonly reference?: boolean
  // The floor's scenario this one is compared with ("vs floor"): the one of
  // the floor target with the same key.
  readonly floorKey?: FloorKey
  // The scenario of the `before` target this one is compared with (a goal's
  // `minShare.of: "before"`): the one with the same key.
  readonly beforeKey?: string
  readonly goal?: Goal
}

export type FloorKey = "product" | "list"

export interface RunningTarget {
  readonly baseUrl: string
  // Where the server keeps its SQLite files, for a target that reads them too.
  readonly dataDir?: string
  readonly scenarios: ReadonlyArray<Scenario>
  // True while the server is up; checked after each scenario so a crash
  // under load fails the run instead of reading as a slow server.
  readonly alive: () => boolean
  readonly describeExit: () => string
  readonly stop: () => Promise<void>
  // Printed under the table: scenarios left out, and why.
  readonly notes?: ReadonlyArray<string>
  // Run after the target's scenarios: sequential add-to-cart on carts of 1,
  // 20 and 100 lines (bench/cart-growth.ts). Last, because it adds 100
  // products, which would change the list and the cart scenarios' variant.
  readonly cartGrowth?: () => Promise<CartGrowthResult>
}

export interface TargetContext {
  // The repository root: commands run from here.
  readonly rootDir: string
  // A fresh directory for this run, removed afterwards.
  readonly tempDir: string
  // The Node 24 binary every child runs on.
  readonly node: string
  // The load's connection count: per-connection scenarios make one resource each.
  readonly connections: number
}

export interface Target {
  readonly name: string
  readonly baseline?: boolean
  // The floor: its scenarios are the 100% of the "vs floor" column.
  readonly floor?: boolean
  // The same runtime on the commit before the work, for goals set as a
  // multiple of it (beforeKey).
  readonly before?: boolean
  // The name of a target that must have started first; `start` gets it.
  readonly after?: string
  readonly start: (context: TargetContext, after?: RunningTarget) => Promise<RunningTarget>
}

const STARTUP_TIMEOUT_MS = 60_000

const baseline: Target = {
  name: "baseline",
  baseline: true,
  start: async ({ rootDir, node }) => {
    const port = await freePort()
    const child = startProcess({
      name: "baseline server",
      command: node,
      args: [join(rootDir, "bench", "baseline.ts")],
      cwd: rootDir,
      env: { PORT: String(port), HOST: "127.0.0.1" }
    })
    const baseUrl = `http://127.0.0.1:${port}`
    await waitForHttp(`${baseUrl}/`, child, STARTUP_TIMEOUT_MS)
    return {
      baseUrl,
      scenarios: [{ name: "baseline GET /", path: "/" }],
      alive: () => !child.hasExited(),
      describeExit: child.tail,
      stop: child.stop
    }
  }
}

const getJson = async (url: string): Promise<unknown> => {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status} ${await response.text()}`)
  return response.json()
}

// The first product of the demo catalog, so the single-product scenario
// reads a row that exists (a 404 would measure the error path instead).
const firstProductId = async (baseUrl: string) => {
  const page = await getJson(`${baseUrl}/api/products?limit=1`)
  if (typeof page === "object" && page !== null && "items" in page && Array.isArray(page.items)) {
    const first: unknown = page.items[0]
    if (typeof first === "object" && first !== null && "productId" in first && typeof first.productId === "string") {
      // A smaller catalog would make "limit=20" measure a shorter page than its name says.
      if ("total" in page && typeof page.total === "number" && page.total < 20) {
        process.stderr.write(`bench: warning: the catalog at ${baseUrl} has ${page.total} products, fewer than 20\n`)
      }
      return first.productId
    }
  }
  throw new Error(`GET ${baseUrl}/api/products?limit=1 returned no product: ${JSON.stringify(page).slice(0, 300)}`)
}

const postJson = async (url: string, body?: unknown): Promise<unknown> => {
  const response = await fetch(url, {
    method: "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000)
  })
  if (!response.ok) throw new Error(`POST ${url}: HTTP ${response.status} ${await response.text()}`)
  return response.json()
}

const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null && key in value ? (value as Record<string, unknown>)[key] : undefined

// The variant with the most stock on a page of products (GET /api/products):
// what the cart scenarios add, here and in bench/profile.ts.
export const mostStockedVariant = (page: unknown) => {
  let best: { productId: string; variantId: string; available: number } | undefined
  const items = field(page, "items")
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
  return best
}

// The cart scenarios, on carts made for this run: one per connection, so that
// no two connections wait on one cart's writer (that would measure the lock).
// Each cart holds one line of the demo variant with the most stock, and each
// connection repeats: set the line to 1 (update), then add 1 until the line
// holds `cap` = min(its stock, 999 per line). The line therefore never asks
// for more than the stock or the per-line limit, over any duration, and all
// but 1 request in `cap` are adds to an existing line, the common add. A cart
// holds no stock (holds come at checkout), so 32 carts do not compete for it.
// The sequence starts with the update, so the warm-up leaves nothing behind.
const cartScenarios = async (
  label: string,
  baseUrl: string,
  connections: number
): Promise<readonly [Scenario, Scenario]> => {
  const best = mostStockedVariant(await getJson(`${baseUrl}/api/products?limit=100`))
  if (best === undefined || best.available < 2) {
    throw new Error(`${baseUrl}: no demo variant has the stock the add-to-cart scenario needs`)
  }
  const { productId, variantId } = best
  const cap = Math.min(best.available, 999)
  const cartPaths: Array<string> = []
  for (let i = 0; i < connections; i++) {
    const cartId = field(await postJson(`${baseUrl}/api/cart/init`), "cartId")
    if (typeof cartId !== "string") throw new Error(`POST ${baseUrl}/api/cart/init returned no cartId`)
    const path = `/api/cart/${encodeURIComponent(cartId)}`
    await postJson(`${baseUrl}${path}/add`, { productId, variantId, quantity: 1 })
    cartPaths.push(path)
  }
  return [
    {
      name: `${label} POST /api/cart/:id/add`,
      path: "/api/cart/:id/add",
      connectionPaths: cartPaths,
      steps: [
        { method: "POST", suffix: "/update", body: JSON.stringify({ variantId, quantity: 1 }) },
        { method: "POST", suffix: "/add", body: JSON.stringify({ productId, variantId, quantity: 1 }), repeat: cap - 1 }
      ]
    },
    { name: `${label} GET /api/cart/:id`, path: "/api/cart/:id", connectionPaths: cartPaths }
  ]
}

// The checkout scenario's buyers and what they buy: an admin (through
// ADMIN_SECRET) creates one product with stock no run can sell out
// (maxStock), then `buyers` users sign up and log in. Every checkout buys one
// unit of that product, so the buyers share one stock row, as on a sale day.
export const checkoutScenario = async (
  label: string,
  baseUrl: string,
  adminSecret: string,
  buyers: number
): Promise<Scenario> => {
  const password = "bench buyer password"
  const signup = await fetch(`${baseUrl}/api/auth/admin/signup`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-admin-secret": adminSecret },
    body: JSON.stringify({ email: "bench-admin@example.com", password, name: "Bench Admin" }),
    signal: AbortSignal.timeout(10_000)
  })
  if (signup.status !== 201) throw new Error(`admin signup: HTTP ${signup.status} ${await signup.text()}`)
  const login = async (email: string) => {
    const token = field(await postJson(`${baseUrl}/api/auth/login`, { email, password }), "accessToken")
    if (typeof token !== "string") throw new Error(`login of ${email} gave no token`)
    return token
  }
  const adminToken = await login("bench-admin@example.com")
  const created = await fetch(`${baseUrl}/api/admin/products`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({
      sku: "BENCH-CHECKOUT",
      title: "Bench checkout widget",
      price: { amount: 1999, currency: "USD" },
      stock: 1_000_000_000
    }),
    signal: AbortSignal.timeout(10_000)
  })
  const product: unknown = await created.json()
  const productId = field(product, "productId")
  if (created.status !== 201 || typeof productId !== "string") {
    throw new Error(`create the checkout product: HTTP ${created.status} ${JSON.stringify(product).slice(0, 300)}`)
  }
  const tokens: Array<string> = []
  for (let i = 0; i < buyers; i++) {
    const email = `bench-buyer-${i}@example.com`
    await postJson(`${baseUrl}/api/auth/signup`, { email, password, name: `Bench Buyer ${i}` })
    tokens.push(await login(email))
  }
  return {
    name: `${label} checkout (start+approve+capture)`,
    path: "/api/checkout/start -> approve -> /api/checkout/capture",
    checkout: { tokens, productId }
  }
}

const nodeRuntime: Target = {
  name: "node runtime",
  start: async ({ connections, rootDir, tempDir, node }) => {
    const dataDir = join(tempDir, "node-data")
    await mkdir(dataDir)
    const { child, baseUrl, adminSecret } = await startNodeRuntime({
      rootDir,
      node,
      dataDir,
      timeoutMs: STARTUP_TIMEOUT_MS
    })
    const productId = await firstProductId(baseUrl)
    const [add, getCart] = await cartScenarios("node", baseUrl, connections)
    // The checkout's buyers: one signed-in buyer per connection; the same
    // product and the first buyer serve the one-buyer-at-a-time run.
    const checkout = await checkoutScenario("node", baseUrl, adminSecret, connections)
    const sequential: Scenario | undefined =
      checkout.checkout === undefined
        ? undefined
        : {
            name: "node checkout, one buyer at a time",
            path: checkout.path,
            checkout: { tokens: checkout.checkout.tokens.slice(0, 1), productId: checkout.checkout.productId },
            goal: { label: "a full checkout on node, one buyer at a time: p99 < 25 ms", maxP99Ms: 25 }
          }
    return {
      baseUrl,
      dataDir,
      scenarios: [
        {
          name: "node GET /api/products/:id",
          path: `/api/products/${encodeURIComponent(productId)}`,
          reference: true,
          floorKey: "product",
          goal: {
            label: "GET product on node: >= 60% of the floor's req/s, p99 < 10 ms",
            minShare: { of: "floor", ratio: 0.6 },
            maxP99Ms: 10,
            connections: 32
          }
        },
        {
          name: "node GET /api/products?limit=20",
          path: "/api/products?limit=20",
          floorKey: "list",
          goal: {
            label: "the 20-product list on node: >= 50% of the floor's list req/s",
            minShare: { of: "floor", ratio: 0.5 },
            connections: 32
          }
        },
        {
          ...add,
          goal: {
            label: "add-to-cart on node: >= 50% of GET product's req/s",
            minShare: { of: "reference", ratio: 0.5 },
            connections: 32
          }
        },
        {
          ...getCart,
          goal: {
            label: "get-cart on node: >= 80% of GET product's req/s",
            minShare: { of: "reference", ratio: 0.8 },
            connections: 32
          }
        },
        // Last: they leave thousands of orders behind. The one-buyer run
        // first, on a shop that has not yet taken thousands of orders.
        ...(sequential === undefined ? [] : [sequential]),
        checkout
      ],
      cartGrowth: () => measureCartGrowth(baseUrl, { adminSecret, samples: 100 }),
      alive: () => !child.hasExited(),
      describeExit: child.tail,
      stop: child.stop
    }
  }
}

const getText = async (url: string) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  const body = await response.text()
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status} ${body.slice(0, 300)}`)
  return body
}

// The floor (bench/floor.ts): the node runtime's two catalog reads by hand,
// from the node runtime's own SQLite files, so it starts after that runtime
// (seeded, the checkout scenario's product created) and loads the same paths.
// Before any load, each path's answer must be the node runtime's, byte for
// byte; otherwise the floor would measure a different request and the run fails.
const floor: Target = {
  name: "floor",
  floor: true,
  after: "node runtime",
  start: async ({ rootDir, node }, nodeTarget) => {
    const dataDir = nodeTarget?.dataDir
    if (nodeTarget === undefined || dataDir === undefined)
      throw new Error("the floor needs the node runtime's DATA_DIR")
    const port = await freePort()
    const child = startProcess({
      name: "floor server",
      command: node,
      args: [join(rootDir, "bench", "floor.ts")],
      cwd: rootDir,
      env: { PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir }
    })
    const baseUrl = `http://127.0.0.1:${port}`
    await waitForHttp(`${baseUrl}/health`, child, STARTUP_TIMEOUT_MS)
    const scenarios: Array<Scenario> = []
    for (const scenario of nodeTarget.scenarios) {
      if (scenario.floorKey === undefined) continue
      const [expected, actual] = await Promise.all([
        getText(nodeTarget.baseUrl + scenario.path),
        getText(baseUrl + scenario.path)
      ])
      if (actual !== expected) {
        let at = 0
        while (at < expected.length && expected[at] === actual[at]) at++
        throw new Error(
          `the floor's answer to ${scenario.path} differs from the node runtime's at character ${at}:\n` +
            `  node:  ${expected.slice(Math.max(0, at - 80), at + 80)}\n` +
            `  floor: ${actual.slice(Math.max(0, at - 80), at + 80)}`
        )
      }
      scenarios.push({
        name: scenario.name.replace(/^node /, "floor "),
        path: scenario.path,
        floorKey: scenario.floorKey
      })
    }
    return {
      baseUrl,
      scenarios,
      alive: () => !child.hasExited(),
      describeExit: child.tail,
      stop: child.stop
    }
  }
}

// Issue 11 sets the Workers goals as 3x the req/s of the bench on the commit
// before that work, 8fed625, in the same run: the `workers at 8fed625` target
// checks that commit out (a git worktree in the temp dir, with a copy of this
// tree's node_modules: the lockfile is the same) and runs the same scenarios
// on it, in the same rounds as this tree's Workers set. Where it cannot (no git, a
// clone without that commit), the goals fall back to that commit's figures
// as benched on 2026-12-02 (`BENCH_DURATION=5 npm run bench`, this machine),
// which a slower day of the VM's host cannot reach: the back-to-back ratio is
// the one that means something.
const workersBeforeRef = "8fed625"
const workersBefore = { product: 107, add: 85, run: "bench on 8fed625, 2026-12-02" }

// The whole Workers set of the tree at `rootDir` (gateway + the service
// Workers over service bindings, local D1) under workerd, started by the
// same script as `npm run dev:workers`, with its own secrets and state in
// `home`; ready once seeded. The cart scenarios go through the gateway
// Worker to the cart Worker (one Durable Object per cart,
// runtimes/cloudflare/cart); a tree without that Worker skips them, with a
// note, rather than measure carts kept somewhere no deployment keeps them.
const startWorkersSet = async (label: string, rootDir: string, home: string, node: string, connections: number) => {
  const port = await freePort()
  const child = startProcess({
    name: label,
    command: node,
    args: [join(rootDir, "runtimes", "cloudflare", "scripts", "dev.ts")],
    cwd: rootDir,
    env: { PORT: String(port), WORKERS_DEV_HOME: home, LOG_LEVEL: "Warn", WRANGLER_LOG: "warn" },
    keepStdout: true
  })
  const baseUrl = `http://127.0.0.1:${port}`
  try {
    // Ready once seeded, which is after /health first answers.
    const deadline = Date.now() + 180_000
    while (!child.stdout().includes("shop ready on")) {
      if (child.hasExited()) throw new Error(`${label} exited before it was ready:\n${child.tail()}`)
      if (Date.now() > deadline) throw new Error(`${label} not ready after 180 s:\n${child.tail()}`)
      await sleep(200)
    }
    const productId = await firstProductId(baseUrl)
    const hasCartWorker = existsSync(join(rootDir, "runtimes", "cloudflare", "cart", "wrangler.jsonc"))
    const carts = hasCartWorker ? await cartScenarios(label, baseUrl, connections) : undefined
    return { child, baseUrl, productId, carts }
  } catch (error) {
    await child.stop()
    throw error
  }
}

const noCartWorker = "workers cart scenarios skipped: no cart Worker yet (runtimes/cloudflare/cart/wrangler.jsonc)"

const workersBeforeTarget: Target = {
  name: `workers at ${workersBeforeRef} (the commit before the performance work)`,
  before: true,
  start: async ({ connections, rootDir, tempDir, node }) => {
    const label = `workers@${workersBeforeRef}`
    const tree = join(tempDir, "workers-before")
    const skipped = (why: string): RunningTarget => ({
      baseUrl: "",
      scenarios: [],
      notes: [`${label} not run (${why}): the Workers goals use ${workersBefore.run}`],
      alive: () => true,
      describeExit: () => "",
      stop: async () => {}
    })
    const git = (...args: Array<string>) => spawnSync("git", ["-C", rootDir, ...args], { encoding: "utf8" })
    const added = git("worktree", "add", "--detach", tree, workersBeforeRef)
    if (added.status !== 0) return skipped(`git worktree add: ${(added.stderr || String(added.error)).trim()}`)
    const removeTree = async () => {
      git("worktree", "remove", "--force", tree)
      await rm(tree, { recursive: true, force: true })
      git("worktree", "prune")
    }
    try {
      // Links as links: the workspace packages' links then point into the
      // checked-out tree, not into this one.
      await cp(join(rootDir, "node_modules"), join(tree, "node_modules"), { recursive: true, verbatimSymlinks: true })
      const set = await startWorkersSet(label, tree, join(tempDir, "workers-before-home"), node, connections)
      return {
        baseUrl: set.baseUrl,
        scenarios: [
          {
            name: `${label} GET /api/products/:id`,
            path: `/api/products/${encodeURIComponent(set.productId)}`,
            reference: true,
            beforeKey: "product"
          },
          ...(set.carts === undefined ? [] : [{ ...set.carts[0], beforeKey: "add" }])
        ],
        notes: set.carts === undefined ? [noCartWorker] : [],
        alive: () => !set.child.hasExited(),
        describeExit: set.child.tail,
        stop: async () => {
          await set.child.stop()
          await removeTree()
        }
      }
    } catch (error) {
      await removeTree()
      return skipped(error instanceof Error ? error.message.split("\n")[0]! : String(error))
    }
  }
}

// Started after the commit before's Workers set (`after`), both stay up and
// their request scenarios share the rounds (bench/run.ts): each before
// scenario runs just before this tree's, so the 3x goals compare the two sets
// at the same moments of the host, not minutes apart.
const workersRuntime: Target = {
  name: "workers runtime (local workerd)",
  after: workersBeforeTarget.name,
  start: async ({ connections, rootDir, tempDir, node }) => {
    const set = await startWorkersSet("workers", rootDir, join(tempDir, "workers"), node, connections)
    return {
      baseUrl: set.baseUrl,
      scenarios: [
        {
          name: "workers GET /api/products/:id",
          path: `/api/products/${encodeURIComponent(set.productId)}`,
          reference: true,
          floorKey: "product",
          beforeKey: "product",
          goal: {
            label: `GET product on Workers: >= 3x ${workersBeforeRef}'s req/s in this run`,
            minShare: { of: "before", ratio: 3 },
            minRps: 3 * workersBefore.product,
            connections: 32
          }
        },
        ...(set.carts === undefined
          ? []
          : set.carts.map(
              (scenario, i): Scenario =>
                i === 0
                  ? {
                      ...scenario,
                      beforeKey: "add",
                      goal: {
                        label: `add-to-cart on Workers: >= 3x ${workersBeforeRef}'s req/s in this run`,
                        minShare: { of: "before", ratio: 3 },
                        minRps: 3 * workersBefore.add,
                        connections: 32
                      }
                    }
                  : scenario
            ))
      ],
      notes: set.carts === undefined ? [noCartWorker] : [],
      alive: () => !set.child.hasExited(),
      describeExit: set.child.tail,
      stop: set.child.stop
    }
  }
}

// The floor after the baseline. It starts after the node runtime (`after`)
// and their request scenarios share rounds (bench/run.ts): the carts that
// add-to-cart writes meanwhile are not in what either reads. The checkouts,
// which change the stock of the newest product, come after the rounds.
export const targets: ReadonlyArray<Target> = [baseline, floor, nodeRuntime, workersBeforeTarget, workersRuntime]
