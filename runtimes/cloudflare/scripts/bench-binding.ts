// `node runtimes/cloudflare/scripts/bench-binding.ts [N] [rounds]`: per-call
// latency of the inventory service over its service binding, under one local
// workerd (wrangler's test harness). A test-only Worker (src/bench.ts) makes N
// sequential Inventory calls (a D1 read, and
// one that does not touch D1) with the gateway's client layer and returns
// each call's duration; the first round warms both isolates up and is not
// counted. Prints mean, p50 and p99 over the counted rounds.
import { randomBytes } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { createTestHarness, unstable_readConfig } from "wrangler"

const root = fileURLToPath(new URL("..", import.meta.url))
const n = Number(process.argv[2] ?? "2000")
const rounds = Number(process.argv[3] ?? "3")

const configHome = await mkdtemp(join(tmpdir(), "shop-wrangler-bench-"))
process.env["XDG_CONFIG_HOME"] = configHome
process.env["CLOUDFLARE_CF_FETCH_ENABLED"] = "false"
process.env["WRANGLER_SEND_METRICS"] = "false"

// The bench Worker binds inventory exactly as the gateway does.
const gateway = unstable_readConfig({ config: join(root, "gateway", "wrangler.jsonc") })
const binding = gateway.services?.find((s: { readonly binding: string }) => s.binding === "INVENTORY")
if (binding === undefined) throw new Error("gateway/wrangler.jsonc has no INVENTORY binding")
const internal = { INTERNAL_SECRET: randomBytes(32).toString("hex") }
const harness = createTestHarness({
  root: configHome,
  workers: [
    {
      config: {
        name: "shop-bench",
        main: join(root, "src", "bench.ts"),
        compatibility_date: "2026-11-01",
        services: [binding]
      }
    },
    { configPath: join(root, "inventory", "wrangler.jsonc"), vars: { LOG_LEVEL: "Warn" }, secrets: internal }
  ]
})

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

try {
  await harness.listen()
  await harness.getWorker("shop-inventory").applyD1Migrations("DB")
  for (const op of ["get", "empty"]) {
    console.log(op === "get" ? "Inventory.get (one D1 read):" : "Inventory.availability of no variants (no D1):")
    const all: Array<number> = []
    for (let round = 0; round <= rounds; round++) {
      const response = await harness.getWorker("shop-bench").fetch(`http://bench.test/?n=${n}&op=${op}`)
      if (response.status !== 200) throw new Error(`bench Worker answered ${response.status}: ${await response.text()}`)
      const samples = (await response.json()) as Array<number>
      const sorted = samples.toSorted((a, b) => a - b)
      const mean = samples.reduce((sum, x) => sum + x, 0) / samples.length
      console.log(
        `${round === 0 ? "warm-up" : `round ${round}`}: n=${samples.length} mean=${mean.toFixed(3)} ms p50=${percentile(sorted, 50).toFixed(3)} ms p99=${percentile(sorted, 99).toFixed(3)} ms`
      )
      if (round > 0) all.push(...samples)
    }
    const sorted = all.toSorted((a, b) => a - b)
    const mean = all.reduce((sum, x) => sum + x, 0) / all.length
    console.log(
      `all rounds: n=${all.length} mean=${mean.toFixed(3)} ms p50=${percentile(sorted, 50).toFixed(3)} ms p99=${percentile(sorted, 99).toFixed(3)} ms`
    )
  }
} finally {
  await harness.close()
  await rm(configHome, { recursive: true, force: true })
}
