// Where the node runtime's time goes, per scenario: starts the node runtime
// (fresh DATA_DIR, LOG_LEVEL=warn, as `npm run bench` does) under
// `node --cpu-prof`, loads one scenario with autocannon (load.ts, its own
// process) for a while, stops the server with SIGTERM (the profile is written
// on exit) and prints req/s, p50, p99 and the top frames (profile-top.ts).
// One server per scenario, so each profile holds that scenario only.
//
//   node bench/profile.ts [product] [list] [add] [cart] [--no-profile] [--root <dir>] [--keep <dir>] [--node-args "<flags>"]
//   node bench/profile.ts [product] [list] [add] [cart] --pair <dir> [--root <dir>] [--pair-node-args "<flags>"]
//   node bench/profile.ts checkout [--no-profile] [--root <dir>] [--keep <dir>]
//
// Scenarios default to the first four. `checkout` is the bench's one-buyer
// checkout (checkout.ts with one signed-in buyer, prepare + start + approve +
// capture in a loop); its line gives the checkout's p50/p99, not req/s. --no-profile measures without the profiler
// (its sampling costs a little). --root runs the node runtime of another
// checkout (its own node_modules), for a before/after on one machine, back to
// back. --keep writes the .cpuprofile files there instead of a temp dir.
//
// --pair <dir> is the before/after that survives a noisy host: it starts the
// node runtime of --root (default this tree) and of <dir> side by side, loads
// both AT ONCE (half the connections each, BENCH_ROUNDS rounds, default 3)
// and prints <dir>'s req/s over --root's per round and on average. Run one
// after the other, two runs on this VM moved by 10 to 20% with the host
// (GET product 5502 then 4485 req/s for one commit); loaded together, both
// sides meet the same host. A tree paired with itself gave 1.03, the bias of
// the method; swap the sides to see it cancel.
//
// --node-args "<flags>" starts the node runtime with those flags of Node's
// (`--max-semi-space-size=8`, say); with --pair, --pair-node-args "<flags>"
// gives <dir>'s side its own, so `--pair . --pair-node-args "..."` weighs a
// flag on one tree.
// Env: BENCH_DURATION (default 10 s), BENCH_CONNECTIONS (default 32),
// PROFILE_TOP (frames printed, default 12).
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import type { CheckoutConfig, CheckoutResult } from "./checkout.ts"
import type { LoadConfig, LoadResult, LoadStep } from "./load.ts"
import { freePort, killAllNow, startNodeRuntime, startProcess, stopAll, waitForHttp } from "./processes.ts"
import { checkoutScenario, mostStockedVariant } from "./targets.ts"

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
const pairText = flag("--pair")
const pairDir = pairText === undefined ? undefined : resolve(pairText)
// Node's own flags for the node runtime (a V8 heap size, say), and for the
// --pair side instead, so that one tree can be paired with itself under two
// settings.
const words = (text: string | undefined) => (text ?? "").split(" ").filter((word) => word !== "")
const nodeArgs = words(flag("--node-args"))
const pairNodeArgsText = flag("--pair-node-args")
const pairNodeArgs = pairNodeArgsText === undefined ? nodeArgs : words(pairNodeArgsText)
const profiling = !args.includes("--no-profile") && pairDir === undefined
const all = ["product", "list", "add", "cart", "floor-product", "floor-list", "checkout"] as const
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
const scenario = async (
  name: Name,
  baseUrl: string,
  connections: number
): Promise<Pick<LoadConfig, "urls" | "steps">> => {
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

// A bench script (load.ts, checkout.ts) in its own process, given its config
// as JSON; its result is the last line it prints.
const runScript = async <A>(script: string, config: unknown): Promise<A> => {
  const child = startProcess({
    name: script,
    command: node,
    args: [join(benchDir, script), JSON.stringify(config)],
    keepStdout: true
  })
  const code = await child.exited
  await child.stop()
  if (code !== 0) throw new Error(`${script} failed (exit ${code}):\n${child.tail()}`)
  return JSON.parse(child.stdout().trim().split("\n").at(-1) ?? "") as A
}

// One autocannon run (load.ts, its own process) of `seconds`.
const load = async (
  { urls, steps }: Pick<LoadConfig, "urls" | "steps">,
  connections: number,
  seconds: number
): Promise<LoadResult> => {
  const config: LoadConfig = {
    urls,
    ...(steps === undefined ? {} : { steps }),
    connections,
    duration: seconds,
    warmup: 0
  }
  return runScript<LoadResult>("load.ts", config)
}

// One buyer's checkouts (checkout.ts, its own process) after a warm-up.
const checkoutLoad = (config: CheckoutConfig) => runScript<CheckoutResult>("checkout.ts", config)

const ms = (value: number) => value.toFixed(2)

const runCheckout = async (workDir: string) => {
  const dataDir = join(workDir, "checkout-data")
  const profileDir = join(keepDir ?? workDir, "checkout-profile")
  await mkdir(dataDir, { recursive: true })
  const {
    child: server,
    baseUrl,
    adminSecret
  } = await startNodeRuntime({
    rootDir,
    node,
    dataDir,
    nodeArgs: [...nodeArgs, ...(profiling ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [])]
  })
  const { checkout } = await checkoutScenario("node", baseUrl, adminSecret, 1)
  if (checkout === undefined) throw new Error("no checkout scenario")
  const cpuBefore = await cpuMillis(server.pid)
  const result = await checkoutLoad({ baseUrl, ...checkout, duration, warmup: 2 })
  const cpu = (await cpuMillis(server.pid)) - cpuBefore
  await server.stop()
  const { latencyMs, steps } = result
  process.stdout.write(
    `\n== checkout: ${result.requestsPerSecMean.toFixed(1)}/s, p50 ${ms(latencyMs.p50)} ms, p90 ${ms(latencyMs.p90)} ms, ` +
      `p99 ${ms(latencyMs.p99)} ms, max ${ms(latencyMs.max)} ms, failed ${result.failedCheckouts}; server CPU ` +
      `${(cpu / (result.requestsPerSecMean * (duration + 2))).toFixed(2)} ms a checkout with its prepare (${rootDir})\n` +
      Object.entries(steps)
        .map(([step, p]) => `   ${step}: p50 ${ms(p.p50)} ms, p99 ${ms(p.p99)} ms`)
        .join("\n") +
      "\n"
  )
  if (profiling) await printTop(profileDir)
}

const printTop = async (profileDir: string) => {
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

const run = async (name: Name, workDir: string) => {
  if (name === "checkout") return runCheckout(workDir)
  const dataDir = join(workDir, `${name}-data`)
  const profileDir = join(keepDir ?? workDir, `${name}-profile`)
  await mkdir(dataDir, { recursive: true })
  const floor = name.startsWith("floor-")
  const profileArgs = profiling ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []
  const { child: server, baseUrl: serverUrl } = await startNodeRuntime({
    rootDir,
    node,
    dataDir,
    nodeArgs: floor ? nodeArgs : [...nodeArgs, ...profileArgs]
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
  const { urls, steps } = await scenario(name, serverUrl, connections)
  const loaded = { urls: urls.map((url) => url.replace(serverUrl, baseUrl)), steps }
  // A warm-up run of its own, so that the CPU time read around the measured
  // run is that run's only.
  await load(loaded, connections, 2)
  const cpuBefore = await cpuMillis(target.pid)
  const result = await load(loaded, connections, duration)
  const cpu = (await cpuMillis(target.pid)) - cpuBefore
  await target.stop()
  await server.stop()
  const { p50, p99 } = result.latencyMs
  process.stdout.write(
    `\n== ${name}: ${result.requestsPerSecMean.toFixed(0)} req/s, p50 ${p50} ms, p99 ${p99} ms, ` +
      `non-2xx ${result.non2xx}, errors ${result.errors}; server CPU ${((cpu * 1000) / result.requestsTotal).toFixed(0)} us ` +
      `a request (${rootDir})\n`
  )
  if (profiling) await printTop(profileDir)
}

// --pair: the two trees' node runtimes loaded at the same time, round after round.
const pair = async (name: Name, other: string, workDir: string) => {
  if (name.startsWith("floor-") || name === "checkout")
    throw new Error(`--pair compares req/s of node runtimes: not ${name}`)
  const half = Math.max(1, Math.floor(connections / 2))
  const sides = []
  for (const [side, root] of [
    ["a", rootDir],
    ["b", other]
  ] as const) {
    const dataDir = join(workDir, `${name}-${side}`)
    await mkdir(dataDir, { recursive: true })
    const { baseUrl } = await startNodeRuntime({
      rootDir: root,
      node,
      dataDir,
      nodeArgs: side === "a" ? nodeArgs : pairNodeArgs
    })
    sides.push(await scenario(name, baseUrl, half))
  }
  const [a, b] = sides as [Pick<LoadConfig, "urls" | "steps">, Pick<LoadConfig, "urls" | "steps">]
  await Promise.all([load(a, half, 2), load(b, half, 2)])
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
  const ratios: Array<number> = []
  for (let round = 1; round <= rounds; round++) {
    const [ra, rb] = await Promise.all([load(a, half, duration), load(b, half, duration)])
    const ratio = rb.requestsPerSecMean / ra.requestsPerSecMean
    ratios.push(ratio)
    process.stdout.write(
      `${name} round ${round}: ${ra.requestsPerSecMean.toFixed(0)} req/s (${rootDir}), ` +
        `${rb.requestsPerSecMean.toFixed(0)} req/s (${other}): ${ratio.toFixed(3)}\n`
    )
  }
  const mean = ratios.reduce((sum, ratio) => sum + ratio, 0) / ratios.length
  process.stdout.write(`\n== ${name}: ${other} at ${mean.toFixed(3)}x of ${rootDir} (mean of ${rounds} rounds)\n`)
  await stopAll()
}

const workDir = await mkdtemp(join(tmpdir(), "shop-profile-"))
process.on("exit", () => killAllNow())
try {
  for (const name of names) await (pairDir === undefined ? run(name, workDir) : pair(name, pairDir, workDir))
} finally {
  await stopAll()
  await rm(workDir, { recursive: true, force: true })
}
