// Cost as carts grow: add-to-cart on carts of 1, 20 and 100 lines, one
// request at a time (sequential p50/p99), so that the figure is the cost of
// one add at that size, not a queue. Two kinds of add:
//
//   existing: +1 on a line the cart already holds (the cart keeps its size);
//   new:      a line the cart does not hold yet, on a cart one line short of
//             the size (so the cart holds `size` lines after it), then
//             removed again (not timed) for the next sample.
//
// A cart holds at most 100 lines (maxLines), so there is one distinct product
// per line: the demo catalog has fewer, so an admin creates them first (one
// variant each, stock no run can exhaust, reused when they exist already).
// The admin is signed up through ADMIN_SECRET (`x-admin-secret`), or logged
// in when that account exists, or given as a bearer token.
//
// The goal (issue 11, item 5): the cost of an add grows by at most 2x from a
// 1-line cart to a 100-line cart (p50 ratio).
//
// Standalone, against a running `npm start` started with ADMIN_SECRET set:
//   ADMIN_SECRET=... node bench/cart-growth.ts http://127.0.0.1:8787
// (or ADMIN_TOKEN=<an admin's bearer token>; GROWTH_SAMPLES=<n>, default 200;
// GROWTH_SIZES=1,20,100).
import { brief } from "./stats.ts"

export interface CartGrowthOptions {
  // Either an admin's bearer token, or ADMIN_SECRET to sign one up (or log in).
  readonly adminToken?: string
  readonly adminSecret?: string
  // Timed adds per size and kind (after `warmup` untimed ones).
  readonly samples?: number
  readonly warmup?: number
  readonly sizes?: ReadonlyArray<number>
}

export interface GrowthRow {
  readonly lines: number
  readonly kind: "existing" | "new"
  readonly samples: number
  readonly p50: number
  readonly p99: number
  readonly mean: number
}

export interface CartGrowthResult {
  readonly rows: ReadonlyArray<GrowthRow>
  // p50 of the largest size over p50 of the smallest, per kind.
  readonly ratio: { readonly existing: number; readonly new: number }
  readonly maxRatio: number
  readonly met: boolean
}

const adminEmail = "bench-growth-admin@example.com"
const adminPassword = "bench growth admin password"
const skuPrefix = "BENCH-GROWTH"
const texas = {
  name: "Bench Buyer",
  line1: "500 Congress Ave",
  city: "Austin",
  region: "TX",
  postalCode: "78701",
  country: "US"
}

class HttpFailed extends Error {}

const request = async (
  origin: string,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  headers: Record<string, string> = {}
) => {
  const response = await fetch(`${origin}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000)
  })
  const text = await response.text()
  return { status: response.status, text }
}

const expectJson = async (
  origin: string,
  method: "GET" | "POST",
  path: string,
  expected: number,
  body?: unknown,
  headers?: Record<string, string>
): Promise<Record<string, unknown>> => {
  const { status, text } = await request(origin, method, path, body, headers)
  if (status !== expected) throw new HttpFailed(`${method} ${path}: HTTP ${status} ${text.slice(0, 300)}`)
  return JSON.parse(text) as Record<string, unknown>
}

const adminTokenOf = async (origin: string, options: CartGrowthOptions) => {
  if (options.adminToken !== undefined) return options.adminToken
  if (options.adminSecret === undefined) throw new Error("an admin token or ADMIN_SECRET is needed to create products")
  const signup = await request(
    origin,
    "POST",
    "/api/auth/admin/signup",
    { email: adminEmail, password: adminPassword, name: "Bench Growth Admin" },
    { "x-admin-secret": options.adminSecret }
  )
  // 409: signed up by an earlier run; its password is this one.
  if (signup.status !== 201 && signup.status !== 409) {
    throw new HttpFailed(`admin signup: HTTP ${signup.status} ${signup.text.slice(0, 300)}`)
  }
  const login = await expectJson(origin, "POST", "/api/auth/login", 200, { email: adminEmail, password: adminPassword })
  return String(login["accessToken"])
}

interface Item {
  readonly productId: string
  readonly variantId: string
}

// `count` products of one variant each, made by this bench; those an earlier
// run against the same data made are found by title (the catalog's search)
// and reused.
const productsFor = async (origin: string, token: string, count: number): Promise<Array<Item>> => {
  const known = new Map<string, Item>()
  for (let offset = 0; ; offset += 100) {
    const page = await expectJson(origin, "GET", `/api/products?limit=100&offset=${offset}&q=Growth%20item`, 200)
    const products = page["items"] as Array<{ productId: string; variants: Array<{ variantId: string; sku: string }> }>
    for (const product of products) {
      const variant = product.variants[0]
      if (variant !== undefined) known.set(variant.sku, { productId: product.productId, variantId: variant.variantId })
    }
    if (products.length < 100) break
  }
  const items: Array<Item> = []
  for (let i = 0; i < count; i++) {
    const sku = `${skuPrefix}-${String(i).padStart(3, "0")}`
    const found = known.get(sku)
    if (found !== undefined) {
      items.push(found)
      continue
    }
    const product = (await expectJson(
      origin,
      "POST",
      "/api/admin/products",
      201,
      {
        sku,
        title: `Growth item ${i}`,
        price: { amount: 100 + i, currency: "USD" },
        weightGrams: 100,
        stock: 1_000_000_000
      },
      { authorization: `Bearer ${token}` }
    )) as unknown as { productId: string; variants: Array<{ variantId: string }> }
    items.push({ productId: product.productId, variantId: product.variants[0]!.variantId })
  }
  return items
}

export const measureCartGrowth = async (
  baseUrl: string,
  options: CartGrowthOptions = {}
): Promise<CartGrowthResult> => {
  const origin = baseUrl.replace(/\/$/, "")
  const samples = options.samples ?? 200
  const warmup = options.warmup ?? 50
  const sizes = [...(options.sizes ?? [1, 20, 100])].sort((a, b) => a - b)
  const largest = sizes[sizes.length - 1]!
  const token = await adminTokenOf(origin, options)
  const items = await productsFor(origin, token, largest)
  // A guest cart: what the add-to-cart bench loads too (no token on the add).
  const newCart = async (lines: number) => {
    const cartId = String((await expectJson(origin, "POST", "/api/cart/init", 201))["cartId"])
    const path = `/api/cart/${encodeURIComponent(cartId)}`
    for (const item of items.slice(0, lines))
      await expectJson(origin, "POST", `${path}/add`, 200, { ...item, quantity: 1 })
    // An address and a method, so that every add also re-quotes shipping
    // and tax, as a buyer's cart before checkout does.
    await expectJson(origin, "POST", `${path}/address`, 200, { address: texas })
    await expectJson(origin, "POST", `${path}/shipping`, 200, { methodId: "standard" })
    return path
  }
  // Every size's carts first, then rounds of one timed add per size and
  // kind, interleaved: a machine whose load changes during the run (a shared
  // one) weighs on every size alike, and the ratio stays meaningful.
  interface Series {
    readonly lines: number
    readonly kind: GrowthRow["kind"]
    readonly add: () => Promise<void>
    readonly after: () => Promise<void>
    readonly values: Array<number>
  }
  const series: Array<Series> = []
  for (const size of sizes) {
    // Existing line: +1 on the cart's first line, set back to 1 (untimed)
    // every 900 adds so that it never reaches the per-line limit.
    const full = await newCart(size)
    let quantity = 1
    series.push({
      lines: size,
      kind: "existing",
      add: async () => {
        await expectJson(origin, "POST", `${full}/add`, 200, { ...items[0]!, quantity: 1 })
        quantity++
      },
      after: async () => {
        if (quantity < 900) return
        await expectJson(origin, "POST", `${full}/update`, 200, { variantId: items[0]!.variantId, quantity: 1 })
        quantity = 1
      },
      values: []
    })
    // New line: the cart holds size - 1 lines, the add makes it `size`, and
    // the line is removed again (untimed).
    const short = await newCart(size - 1)
    const last = items[size - 1]!
    series.push({
      lines: size,
      kind: "new",
      add: async () => {
        await expectJson(origin, "POST", `${short}/add`, 200, { ...last, quantity: 1 })
      },
      after: async () => {
        await expectJson(origin, "POST", `${short}/remove`, 200, { variantId: last.variantId })
      },
      values: []
    })
  }
  for (let round = 0; round < warmup + samples; round++) {
    for (const one of series) {
      const t0 = performance.now()
      await one.add()
      const elapsed = performance.now() - t0
      if (round >= warmup) one.values.push(elapsed)
      await one.after()
    }
  }
  const rows: Array<GrowthRow> = series.map((one) => ({
    lines: one.lines,
    kind: one.kind,
    samples: one.values.length,
    ...brief(one.values)
  }))
  const p50Of = (lines: number, kind: GrowthRow["kind"]) =>
    rows.find((row) => row.lines === lines && row.kind === kind)?.p50 ?? Number.NaN
  const ratio = {
    existing: p50Of(largest, "existing") / p50Of(sizes[0]!, "existing"),
    new: p50Of(largest, "new") / p50Of(sizes[0]!, "new")
  }
  const maxRatio = 2
  return { rows, ratio, maxRatio, met: ratio.existing <= maxRatio && ratio.new <= maxRatio }
}

/** The table `measureCartGrowth`'s result prints as (standalone, and for bench/run.ts). */
export const formatCartGrowth = (result: CartGrowthResult): Array<string> => [
  "Add-to-cart as carts grow (sequential, one request at a time; ms):",
  "  lines  add to       p50      p99     mean",
  ...result.rows.map(
    (row) =>
      `  ${String(row.lines).padStart(5)}  ${row.kind === "existing" ? "existing" : "new line"}  ${row.p50
        .toFixed(2)
        .padStart(8)} ${row.p99.toFixed(2).padStart(8)} ${row.mean.toFixed(2).padStart(8)}`
  ),
  `  growth ${result.rows[result.rows.length - 1]?.lines ?? "?"}/${result.rows[0]?.lines ?? "?"} lines (p50): ` +
    `existing ${result.ratio.existing.toFixed(2)}x, new line ${result.ratio.new.toFixed(2)}x; ` +
    `goal <= ${result.maxRatio}x: ${result.met ? "MET" : "NOT MET"}`
]

if (import.meta.main) {
  const baseUrl = process.argv[2] ?? "http://127.0.0.1:8787"
  const samples = process.env["GROWTH_SAMPLES"]
  const sizes = process.env["GROWTH_SIZES"]
  measureCartGrowth(baseUrl, {
    ...(process.env["ADMIN_TOKEN"] ? { adminToken: process.env["ADMIN_TOKEN"] } : {}),
    ...(process.env["ADMIN_SECRET"] ? { adminSecret: process.env["ADMIN_SECRET"] } : {}),
    ...(samples ? { samples: Number(samples) } : {}),
    ...(sizes ? { sizes: sizes.split(",").map(Number) } : {})
  }).then(
    (result) => {
      process.stdout.write(`${formatCartGrowth(result).join("\n")}\n`)
    },
    (error: unknown) => {
      process.stderr.write(`cart-growth: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      process.exit(1)
    }
  )
}
