// `npm run build:workers`: bundles every Worker the way `wrangler deploy`
// would (minified), without deploying, and prints each bundle's size raw and
// gzipped against the 400 KiB (gzipped) goal. The gateway's static assets
// (Scalar's script for /docs) are written first: wrangler checks the assets
// directory, and they are not part of any bundle.
import { spawnSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"
import { writeDocsAssets } from "./docs-assets.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
// Run on this Node (24), not on whatever `node` the shim's shebang finds first.
const wrangler = fileURLToPath(new URL("../../../node_modules/wrangler/bin/wrangler.js", import.meta.url))
const workers = [
  "gateway",
  "auth",
  "catalog",
  "inventory",
  "fulfillment",
  "coupons",
  "idempotency",
  "cart",
  "orders",
  "payments"
] as const
const goalKiB = 400

// Offline and quiet, with a wrangler registry of its own (STACK.md sharp edge 7).
const configHome = mkdtempSync(join(tmpdir(), "shop-wrangler-build-"))
const env = {
  ...process.env,
  XDG_CONFIG_HOME: configHome,
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false"
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`

await writeDocsAssets()

const rows: Array<{ worker: string; raw: number; gzip: number }> = []
try {
  for (const worker of workers) {
    const outdir = join(root, "dist", worker)
    rmSync(outdir, { recursive: true, force: true })
    const result = spawnSync(
      process.execPath,
      [wrangler, "deploy", "--dry-run", "--minify", "--outdir", outdir, "-c", join(root, worker, "wrangler.jsonc")],
      { cwd: root, env, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" }
    )
    if (result.status !== 0) {
      process.stdout.write(result.stdout)
      throw new Error(`wrangler deploy --dry-run failed for ${worker} (exit ${result.status})`)
    }
    // The bundle is the one JavaScript module wrangler writes (source maps aside).
    const bundles = readdirSync(outdir).filter((file) => file.endsWith(".js"))
    const bytes = bundles.map((file) => readFileSync(join(outdir, file)))
    rows.push({
      worker,
      raw: bundles.reduce((sum, file) => sum + statSync(join(outdir, file)).size, 0),
      gzip: bytes.reduce((sum, content) => sum + gzipSync(content, { level: 9 }).length, 0)
    })
  }
} finally {
  rmSync(configHome, { recursive: true, force: true })
}

const table = rows.map((row) => ({
  worker: `shop-${row.worker}`,
  raw: kib(row.raw),
  gzip: kib(row.gzip),
  goal: row.gzip < goalKiB * 1024 ? `met (< ${goalKiB} KiB gzip)` : `NOT MET (>= ${goalKiB} KiB gzip)`
}))
console.log(`\nWorker bundles (minified, in ${join(root, "dist")}):`)
console.table(table)
