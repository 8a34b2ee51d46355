// Where the node runtime's time goes, per scenario: starts the node runtime
// (fresh DATA_DIR, LOG_LEVEL=warn, as `npm run bench` does) under
// `node --cpu-prof`, loads one scenario with autocannon (load.ts, its own
// process) for a while, stops the server with SIGTERM (the profile is written
// on exit) and prints req/s, p50, p99 and the top frames (profile-top.ts).
// One server per scenario, so each profile holds that scenario only.
//
//   node bench/profile.ts [product] [list] [add] [cart] [--no-profile] [--root <dir>] [--keep <dir>]
//
// Scenarios default to all four. --no-profile measures without the profiler
// (its sampling costs a little). --root runs the node runtime of another
// checkout (its own node_modules), for a before/after on one machine, back to
// back. --keep writes the .cpuprofile files there instead of a temp dir.
// Env: BENCH_DURATION (default 10 s), BENCH_CONNECTIONS (default 32),
// PROFILE_TOP (frames printed, default 12).
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import type { LoadConfig, LoadResult, LoadStep } from "./load.ts"
import { freePort, killAllNow, startNodeRuntime, startProcess, stopAll, waitForHttp } from "./processes.ts"
import { mostStockedVariant } from "./targets.ts"

const benchDir = fileURLToPath(new URL(".", import.meta.url))
const node = join(benchDir, "..", "node_modules", ".bin", "node")

const args = process.argv.slice(2)
const flag = (name: string) => {
  const at = args.indexOf(name)
  if (at === -1) return undefined
  const value = args[at + 1]
  if (value === undefined) throw new Error(`${name} needs a value`)
  args.splice(at, 2)
  return value
}
const rootDir = resolve(flag("--root") ?? join(benchDir, ".."))
const keepDir = flag("--keep")
const profiling = !args.includes("--no-profile")
const all = ["product", "list", "add", "cart", "floor-product", "floor-list"] as const
type Name = (typeof all)[number]
const isName = (value: string): value is Name => (all as ReadonlyArray<string>).includes(value)
const chosen = args.filter((a) => !a.startsWith("--"))
for (const name of chosen) if (!isName(name)) throw new Error(`unknown scenario ${name}; one of ${all.join(", ")}`)
const names: ReadonlyArray<Name> = chosen.length === 0 ? all.slice(0, 4) : chosen.filter(isName)
const duration = Number(process.env.BENCH_DURATION ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32)
const top = process.env.PROFILE_TOP ?? "12"

const json = async (url: string, init?: RequestInit): Promise<unknown> => {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) })
  if (!response.ok) throw new Error(`${init?.method ?? "GET"} ${url}: HTTP ${response.status} ${await response.text()}`)
  return response.json()
}
const post = (url: string, body?: unknown) =>
  json(url, {
    method: "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body)
  })
const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null && key in value ? (value as Record<string, unknown>)[key] : undefined

// The same requests as bench/targets.ts: the first product, the first page of
// 20, and one cart per connection holding the variant with the most stock.
const scenario = async (name: Name, baseUrl: string): Promise<Pick<LoadConfig, "urls" | "steps">> => {
  const page = await json(`${baseUrl}/api/products?limit=100`)
  const items = field(page, "items")
  const products = Array.isArray(items) ? items : []
  if (name === "product" || name === "floor-product")
    return { urls: [`${baseUrl}/api/products/${String(field(products[0], "productId"))}`] }
  if (name === "list" || name === "floor-list") return { urls: [`${baseUrl}/api/products?limit=20`] }
  const best = mostStockedVariant(page)
  if (best === undefined) throw new Error("no variant in stock")
  const { productId, variantId } = best
  const urls: Array<string> = []
  for (let i = 0; i < connections; i++) {
    const url = `${baseUrl}/api/cart/${String(field(await post(`${baseUrl}/api/cart/init`), "cartId"))}`
    await post(`${url}/add`, { productId, variantId, quantity: 1 })
    urls.push(url)
  }
  if (name === "cart") return { urls }
  const cap = Math.min(best.available, 999)
  const steps: ReadonlyArray<LoadStep> = [
    { method: "POST", suffix: "/update", body: JSON.stringify({ variantId, quantity: 1 }) },
    { method: "POST", suffix: "/add", body: JSON.stringify({ productId, variantId, quantity: 1 }), repeat: cap - 1 }
  ]
  return { urls, steps }
}

// The process's user + system CPU time in ms (Linux /proc): with the machine
// shared, CPU a request moves less from run to run than req/s does.
const cpuMillis = async (pid: number) => {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).replace(/^.*\) /s, "").split(" ")
  // utime and stime, fields 14 and 15 of stat (11 and 12 after the name), in clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10
}

const run = async (name: Name, workDir: string) => {
  const dataDir = join(workDir, `${name}-data`)
  const profileDir = join(keepDir ?? workDir, `${name}-profile`)
  await mkdir(dataDir, { recursive: true })
  const floor = name.startsWith("floor-")
  const profileArgs = profiling ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []
  const { child: server, baseUrl: serverUrl } = await startNodeRuntime({
    rootDir,
    node,
    dataDir,
    nodeArgs: floor ? [] : profileArgs
  })
  // The floor (bench/floor.ts) reads the files the node runtime just seeded;
  // it is the process profiled and loaded then.
  const floorPort = await freePort()
  const target = floor
    ? startProcess({
        name: "floor",
        command: node,
        args: [...profileArgs, join(rootDir, "bench", "floor.ts")],
        cwd: rootDir,
        env: { PORT: String(floorPort), HOST: "127.0.0.1", DATA_DIR: dataDir }
      })
    : server
  const baseUrl = floor ? `http://127.0.0.1:${floorPort}` : serverUrl
  if (floor) await waitForHttp(`${baseUrl}/health`, target, 60_000)
  const { urls, steps } = await scenario(name, serverUrl)
  const load = async (seconds: number) => {
    const config: LoadConfig = {
      urls: urls.map((url) => url.replace(serverUrl, baseUrl)),
      ...(steps === undefined ? {} : { steps }),
      connections,
      duration: seconds,
      warmup: 0
    }
    const loader = startProcess({
      name: "load",
      command: node,
      args: [join(benchDir, "load.ts"), JSON.stringify(config)],
      keepStdout: true
    })
    const code = await loader.exited
    await loader.stop()
    if (code !== 0) throw new Error(`load failed (exit ${code}):\n${loader.tail()}`)
    return JSON.parse(loader.stdout().trim().split("\n").at(-1) ?? "") as LoadResult
  }
  // A warm-up run of its own, so that the CPU time read around the measured
  // run is that run's only.
  await load(2)
  const cpuBefore = await cpuMillis(target.pid)
  const result = await load(duration)
  const cpu = (await cpuMillis(target.pid)) - cpuBefore
  await target.stop()
  await server.stop()
  const { p50, p99 } = result.latencyMs
  process.stdout.write(
    `\n== ${name}: ${result.requestsPerSecMean.toFixed(0)} req/s, p50 ${p50} ms, p99 ${p99} ms, ` +
      `non-2xx ${result.non2xx}, errors ${result.errors}; server CPU ${((cpu * 1000) / result.requestsTotal).toFixed(0)} us ` +
      `a request (${rootDir})\n`
  )
  if (!profiling) return
  const file = (await readdir(profileDir)).find((f) => f.endsWith(".cpuprofile"))
  if (file === undefined) throw new Error(`no profile written in ${profileDir}`)
  const printer = startProcess({
    name: "profile-top",
    command: node,
    args: [join(benchDir, "profile-top.ts"), join(profileDir, file), top],
    keepStdout: true
  })
  await printer.exited
  process.stdout.write(printer.stdout())
}

const workDir = await mkdtemp(join(tmpdir(), "shop-profile-"))
process.on("exit", () => killAllNow())
try {
  for (const name of names) await run(name, workDir)
} finally {
  await stopAll()
  await rm(workDir, { recursive: true, force: true })
}
