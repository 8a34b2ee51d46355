// How list and search costs grow with the catalog (issue 11, item 4).
//
//   npm run bench:scale                      1,000 / 10,000 / 100,000 products
//   node bench/scale.ts --sizes 1000,5000 --requests 100
//   node bench/scale.ts --data /tmp/shop-scale    keeps the seeded catalogs
//   node bench/scale.ts --forms offset,q=          only the forms whose names contain one of these
//
// Each size gets its own temporary DATA_DIR, filled through the catalog
// service itself (CatalogLive over the node runtime's SQL repository and
// inventory, not HTTP, so 100,000 products take a minute or two, not an
// hour). Then one node runtime is started per directory and every list form
// is requested sequentially (one request at a time, keep-alive), taking turns
// between the sizes: the machine's load drifts, and turns make every size see
// the same drift, so the growth ratio compares like with like. The goal per
// form: p50 at the largest size within 2x of p50 at the smallest, and p99
// under 20 ms. Results also go to bench/scale-results.json.
//
// `--data <dir>` seeds into <dir>/<size> instead of a temporary directory and
// keeps it afterwards; a later run with the same <dir> reuses every size
// already seeded there (marked by a `seeded` file written once seeding ends),
// so comparing commits skips the ~80 s of seeding 100,000 products. The
// runtime applies any newer migration to the kept files when it starts.
import { access, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { Agent, request } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { Catalog } from "@shop/catalog/Catalog"
import * as CatalogLive from "@shop/catalog/CatalogLive"
import * as CatalogRepositorySql from "@shop/catalog/CatalogRepositorySql"
import * as ImageStore from "@shop/catalog/ImageStore"
import type { CreateProductInput } from "@shop/domain/Catalog"
import { Currency } from "@shop/domain/Money"
import { SqlBatch } from "@shop/domain/SqlBatch"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import * as InventoryRepositorySql from "@shop/inventory/InventoryRepositorySql"
import { migrate } from "@shop/runtime-node/Migrations"
import * as SqliteClient from "@shop/runtime-node/SqliteClient"
import { startNodeRuntime, stopAll } from "./processes.ts"
import { summarize } from "./stats.ts"

const rootDir = fileURLToPath(new URL("..", import.meta.url))
const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: "1000,10000,100000" },
    requests: { type: "string", default: "200" },
    data: { type: "string" },
    forms: { type: "string" }
  }
})
const sizes = args.sizes
  .split(",")
  .map(Number)
  .sort((a, b) => a - b)
const requests = Number(args.requests)
const warmup = 20
const goal = { maxGrowth: 2, maxP99Ms: 20 }

// --- the catalog ------------------------------------------------------------

// A deterministic generator, so every run lists the same products (restarted
// for each size, so a size seeded alone, as with --data, gets the same ones).
const firstState = 0x2545f491
let state = firstState
const random = () => {
  state ^= state << 13
  state ^= state >>> 17
  state ^= state << 5
  return (state >>> 0) / 2 ** 32
}
const pick = <A>(items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)]!

const categories = [
  "Kitchen",
  "Garden",
  "Outdoor",
  "Apparel",
  "Footwear",
  "Books",
  "Toys",
  "Office",
  "Lighting",
  "Bath",
  "Bedding",
  "Tools",
  "Audio",
  "Cycling",
  "Pets",
  "Beauty",
  "Travel",
  "Crafts",
  "Music",
  "Grocery"
]
const adjectives = ["Classic", "Organic", "Compact", "Rustic", "Modern", "Woven", "Enamel", "Waxed", "Linen", "Oak"]
const adjectives2 = ["Ash", "Copper", "Slate", "Indigo", "Amber", "Olive", "Ivory", "Coral", "Maple", "Cedar"]
const nouns = ["mug", "lamp", "jacket", "kettle", "basket", "notebook", "blanket", "planter", "speaker", "backpack"]
const words = `sturdy light warm soft hand made recycled durable washable stackable foldable weatherproof
  cotton steel ceramic glass bamboo wool leather canvas brass walnut cut sewn glazed printed tested packed shipped
  everyday gift small large family studio travel season classic modern simple quiet bright`.split(/\s+/u)

// Prices log-uniform from 1.00 to 1,000.00, so ranges and sorts see spread.
const product = (n: number): CreateProductInput => ({
  sku: `SCALE-${n}`,
  // Ends in a token of its own (n in base 36, 4 characters): a search that
  // matches one product at any size.
  title: `${pick(adjectives)} ${pick(adjectives2)} ${pick(nouns)} ${n.toString(36).padStart(4, "0")}`,
  // Each of `words` is in about 4 descriptions of 10; "limited edition" in 1 of 50.
  description: `${Array.from({ length: 12 + Math.floor(random() * 20) }, () => pick(words)).join(" ")}${random() < 0.02 ? " limited edition" : ""}`,
  category: categories[n % categories.length]!,
  price: { amount: Math.round(100 * 1000 ** random()), currency: Currency.make("EUR") },
  stock: 1 + Math.floor(random() * 50)
})

// The node runtime's own repositories on its files under dataDir. NORMAL
// sync instead of the runtime's FULL: no fsync per product while seeding.
const database = (dataDir: string, name: string) =>
  Layer.effectDiscard(migrate(join(rootDir, "migrations", name))).pipe(
    Layer.provideMerge(SqliteClient.layer({ filename: join(dataDir, `${name}.sqlite`), synchronous: "normal" }))
  )

// In batches of 1,000 products, each one transaction on each file (the
// service's own transactions become savepoints inside it): a commit per
// product would write every touched index page to the WAL again each time.
const seed = (dataDir: string, from: number, to: number) =>
  Effect.gen(function* () {
    state = firstState
    const catalogDb = yield* Layer.build(database(dataDir, "catalog"))
    const inventoryDb = yield* Layer.build(database(dataDir, "inventory"))
    const inventory = InventoryLive.layer.pipe(
      Layer.provide(InventoryRepositorySql.layer),
      Layer.provide(Layer.succeedContext(inventoryDb))
    )
    const catalog = CatalogLive.layer.pipe(
      Layer.provide(CatalogRepositorySql.layer.pipe(Layer.provide(SqlBatch.layerTransaction))),
      Layer.provide(Layer.succeedContext(catalogDb)),
      Layer.provide(ImageStore.layerMemory),
      Layer.provide(inventory)
    )
    const service = Context.get(yield* Layer.build(catalog), Catalog)
    const catalogSql = Context.get(catalogDb, SqlClient.SqlClient)
    const inventorySql = Context.get(inventoryDb, SqlClient.SqlClient)
    const batch = 1000
    for (let start = from; start < to; start += batch) {
      const end = Math.min(to, start + batch)
      const inputs = Array.from({ length: end - start }, (_, i) => product(start + i))
      yield* Effect.forEach(inputs, (input) => service.create(input), { discard: true }).pipe(
        inventorySql.withTransaction,
        catalogSql.withTransaction
      )
      if (end % 10_000 === 0 || end === to) process.stdout.write(`  seeded ${end.toLocaleString("en")}\n`)
    }
  }).pipe(Effect.scoped, Effect.orDie, Effect.runPromise)

// --- the requests -------------------------------------------------------------

// One keep-alive connection per server.
const agents = new Map<string, Agent>()
const agentFor = (baseUrl: string) => {
  let agent = agents.get(baseUrl)
  if (agent === undefined) {
    agent = new Agent({ keepAlive: true, maxSockets: 1 })
    agents.set(baseUrl, agent)
  }
  return agent
}

const get = (baseUrl: string, path: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, { agent: agentFor(baseUrl) }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        body += chunk
      })
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on("error", reject)
    req.end()
  })

interface Page {
  readonly total: number
  readonly items: ReadonlyArray<unknown>
  readonly nextCursor?: string | null
}

const page = async (baseUrl: string, path: string): Promise<Page> => {
  const reply = await get(baseUrl, path)
  if (reply.status !== 200) throw new Error(`${path}: ${reply.status} ${reply.body.slice(0, 300)}`)
  return JSON.parse(reply.body) as Page
}

// The same form on every size, one request to each in turn.
const measure = async (targets: ReadonlyArray<{ readonly baseUrl: string; readonly path: string }>) => {
  const firsts = await Promise.all(targets.map((t) => page(t.baseUrl, t.path)))
  for (let i = 0; i < warmup; i++) for (const t of targets) await get(t.baseUrl, t.path)
  const times = targets.map(() => [] as Array<number>)
  // A form that scans (1-2 character q, a term in 40% of the catalog) costs
  // up to a second a request at 100,000 products: it stops early, at 20 s
  // and at least 20 requests a size, so the whole run stays near 5 minutes.
  const budgetEnds = performance.now() + 20_000
  for (let i = 0; i < requests && (i < 20 || performance.now() < budgetEnds); i++) {
    for (const [index, t] of targets.entries()) {
      const start = performance.now()
      const reply = await get(t.baseUrl, t.path)
      times[index]!.push(performance.now() - start)
      if (reply.status !== 200) throw new Error(`${t.path}: ${reply.status}`)
    }
  }
  return times.map((list, index) => {
    const { p50, p99 } = summarize(list)
    return { p50, p99, total: firsts[index]!.total, requests: list.length }
  })
}

// Every form of the list, at the same relative place in any catalog size.
const forms = async (baseUrl: string, size: number) => {
  const depth = Math.floor(size / 2)
  // The cursor that starts the page at `depth`, as a client paging there would hold it.
  // Absent from a list that has no cursors (an older commit, for a before/after run).
  const cursor = (await page(baseUrl, `/api/products?limit=20&offset=${depth - 20}`)).nextCursor
  return [
    { name: "newest", path: "/api/products?limit=20" },
    { name: "category", path: "/api/products?category=garden&limit=20" },
    { name: "category + price_asc", path: "/api/products?category=garden&sort=price_asc&limit=20" },
    { name: "price range (newest)", path: "/api/products?minPrice=2000&maxPrice=4000&limit=20" },
    { name: "price_asc", path: "/api/products?sort=price_asc&limit=20" },
    { name: "price_desc", path: "/api/products?sort=price_desc&limit=20" },
    { name: "title", path: "/api/products?sort=title&limit=20" },
    // Search costs what its matches cost (the exact total counts them all):
    // one match at any size; 2% and 40% of the catalog, growing with it.
    { name: "q= 1 match", path: `/api/products?q=${(500).toString(36).padStart(4, "0")}&limit=20` },
    { name: "q= 2% of products", path: "/api/products?q=limited%20edition&limit=20" },
    { name: "q= 40% of products", path: "/api/products?q=weatherproof&limit=20" },
    // Two characters come from the trigram index's terms (migration 0006;
    // they scanned before). "zq" is in no text at 1k and in 149 at 100k, so
    // this growth sets an empty page against a full one.
    { name: "q= 2 chars", path: "/api/products?q=zq&limit=20" },
    { name: `deep offset (size/2)`, path: `/api/products?limit=20&offset=${depth}` },
    ...(typeof cursor === "string"
      ? [{ name: `deep cursor (size/2)`, path: `/api/products?limit=20&cursor=${encodeURIComponent(cursor)}` }]
      : [])
  ]
}

const startRuntime = (dataDir: string) => startNodeRuntime({ rootDir, node: process.execPath, dataDir })

// --- the run ----------------------------------------------------------------------

type Row = { p50: number; p99: number; total: number; requests: number }
const results = new Map<string, Map<number, Row>>()
const keep = args.data !== undefined
const tempDir = keep ? args.data! : await mkdtemp(join(tmpdir(), "shop-scale-"))
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false
  )
const began = performance.now()
try {
  const running: Array<{ size: number; baseUrl: string }> = []
  for (const size of sizes) {
    const dataDir = join(tempDir, String(size))
    const marker = join(dataDir, "seeded")
    if (keep && (await exists(marker))) {
      process.stdout.write(`reusing ${size.toLocaleString("en")} products in ${dataDir}\n`)
    } else {
      // A directory left by an interrupted seeding is started afresh.
      await rm(dataDir, { recursive: true, force: true })
      await mkdir(dataDir, { recursive: true })
      const seedStart = performance.now()
      process.stdout.write(`seeding ${size.toLocaleString("en")} products\n`)
      await seed(dataDir, 0, size)
      await writeFile(marker, `${new Date().toISOString()}\n`)
      process.stdout.write(`  took ${((performance.now() - seedStart) / 1000).toFixed(1)} s\n`)
    }
    running.push({ size, baseUrl: (await startRuntime(dataDir)).baseUrl })
  }
  const formsBySize = await Promise.all(running.map((r) => forms(r.baseUrl, r.size)))
  const only = args.forms?.split(",")
  for (const [index, form] of formsBySize[0]!.entries()) {
    if (only !== undefined && !only.some((part) => form.name.includes(part))) continue
    const rows = await measure(running.map((r, i) => ({ baseUrl: r.baseUrl, path: formsBySize[i]![index]!.path })))
    const bySize = new Map<number, Row>()
    for (const [i, row] of rows.entries()) bySize.set(running[i]!.size, row)
    results.set(form.name, bySize)
    process.stdout.write(
      `  ${form.name.padEnd(24)} ${rows.map((r) => `${r.p50.toFixed(2)}/${r.p99.toFixed(2)}`).join("  ")} ms (${rows[0]!.requests} requests)\n`
    )
  }
} finally {
  for (const agent of agents.values()) agent.destroy()
  await stopAll()
  if (!keep) await rm(tempDir, { recursive: true, force: true })
}

const smallest = sizes[0]!
const largest = sizes.at(-1)!
const fmt = (n: number) => n.toFixed(2)
const label = (size: number) => (size >= 1000 ? `${size / 1000}k` : String(size))
const table = Array.from(results, ([name, bySize]) => {
  const low = bySize.get(smallest)!
  const high = bySize.get(largest)!
  const growth = high.p50 / low.p50
  const met = growth <= goal.maxGrowth && high.p99 < goal.maxP99Ms
  return { name, bySize, growth, met, totals: `${low.total}/${high.total}` }
})
const header = [
  "form".padEnd(24),
  ...sizes.map((s) => `p50/p99 @${label(s)}`.padStart(18)),
  `growth`.padStart(8),
  `total @${label(smallest)}/${label(largest)}`.padStart(18),
  "  goal"
].join(" ")
process.stdout.write(`\n${header}\n${"-".repeat(header.length)}\n`)
for (const row of table) {
  process.stdout.write(
    [
      row.name.padEnd(24),
      ...sizes.map((s) => {
        const r = row.bySize.get(s)!
        return `${fmt(r.p50)} / ${fmt(r.p99)}`.padStart(18)
      }),
      `${row.growth.toFixed(2)}x`.padStart(8),
      row.totals.padStart(18),
      row.met ? "  met" : "  NOT MET"
    ].join(" ") + "\n"
  )
}
process.stdout.write(
  `\ngoal: p50 at ${largest.toLocaleString("en")} within ${goal.maxGrowth}x of p50 at ${smallest.toLocaleString("en")}, p99 < ${goal.maxP99Ms} ms; ` +
    `up to ${requests} sequential requests per form and size (at least 20; 20 s a form) after ${warmup} warm-up; whole run ${((performance.now() - began) / 1000).toFixed(0)} s\n`
)
await writeFile(
  join(rootDir, "bench", "scale-results.json"),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      sizes,
      requests,
      goal,
      forms: table.map((row) => ({
        name: row.name,
        growth: row.growth,
        met: row.met,
        bySize: Object.fromEntries(Array.from(row.bySize, ([size, r]) => [size, r]))
      }))
    },
    null,
    2
  )}\n`
)
