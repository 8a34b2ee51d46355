// `npm run bench`: starts every target in targets.ts, loads each scenario
// from a separate autocannon process (load.ts), or for the checkout scenario
// from a separate buyers' loop (checkout.ts) followed by a count of one
// checkout's SQL statements, prints a table, writes
// bench/results.json and reports the issue's goals as MET / NOT MET. Each
// req/s is shown against the baseline (the node:http hello world), against
// the floor's answer to the same request where the floor (bench/floor.ts) has
// one, and against its own runtime's GET product of the same run.
//
// The request scenarios of a target (and of a target that starts after it:
// the floor with the node runtime) run in rounds: round after round, each
// scenario is loaded for duration / rounds seconds in turn. The host of this
// VM speeds up and slows down by 10 to 30% within minutes; one 10 s run per
// scenario, one after the other, moved a ratio such as add-to-cart over GET
// product by +-15 points from run to run. In rounds, the two sides of every
// ratio meet the same stretches of the host, and the ratio shown is the
// median of the rounds' ratios. The checkout scenarios run once, after.
//
// Env: BENCH_DURATION (seconds per scenario, all rounds together, default 10),
//      BENCH_ROUNDS (default 3; 1 gives one run per scenario),
//      BENCH_CONNECTIONS (default 32),
//      BENCH_TARGETS (e.g. "node" or "workers": only those, see chooseTargets).
// Exit code: 0 when every scenario was measured, whatever the numbers;
// 1 when a server failed to start or died, or the load tool failed;
// 130 on Ctrl-C. Every child is stopped and the temp dir removed on all paths.
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { rmSync } from "node:fs"
import { availableParallelism, cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type CartGrowthResult, formatCartGrowth } from "./cart-growth.ts"
import { type DiskSyncResult, measureDiskSync } from "./disk-sync.ts"
import type { CheckoutConfig, CheckoutResult } from "./checkout.ts"
import type { LoadConfig, LoadResult, LoadStep } from "./load.ts"
import { killAllNow, startProcess, stopAll } from "./processes.ts"
import { type Goal, type RunningTarget, type Scenario, type Target, targets } from "./targets.ts"

const rootDir = fileURLToPath(new URL("..", import.meta.url))
const node = join(rootDir, "node_modules", ".bin", "node")
const WARMUP_SEC = 2
// Before each round after a scenario's first: the server is warm, the new
// load process's connections are not.
const ROUND_WARMUP_SEC = 1

const envNumber = (name: string, fallback: number, integer: boolean) => {
  const raw = process.env[name]
  if (raw === undefined || raw === "") return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be a positive ${integer ? "integer" : "number"}, got ${JSON.stringify(raw)}`)
  }
  return value
}

interface Measured {
  readonly target: string
  readonly scenario: Scenario
  readonly url: string
  readonly result: LoadResult | CheckoutResult
  // A request scenario's rounds (BENCH_ROUNDS), in order; `result` combines them.
  readonly rounds?: ReadonlyArray<LoadResult>
}

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

// One scenario's rounds as one row: req/s over all of them (every request
// over the time of all rounds), and each latency figure the median of the
// rounds' own (autocannon gives percentiles, not the samples to pool), so
// one round that met a hiccup of the host does not make the row.
const combineRounds = (rounds: ReadonlyArray<LoadResult>): LoadResult => {
  const requestsTotal = rounds.reduce((sum, r) => sum + r.requestsTotal, 0)
  const durationSec = rounds.reduce((sum, r) => sum + r.durationSec, 0)
  const statusCodes: Record<string, number> = {}
  for (const r of rounds)
    for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n
  const latency = (key: "mean" | "p50" | "p90" | "p99") => median(rounds.map((r) => r.latencyMs[key]))
  return {
    requestsPerSecMean: durationSec === 0 ? 0 : requestsTotal / durationSec,
    requestsTotal,
    durationSec,
    latencyMs: {
      mean: latency("mean"),
      p50: latency("p50"),
      p90: latency("p90"),
      p99: latency("p99"),
      max: Math.max(...rounds.map((r) => r.latencyMs.max))
    },
    non2xx: rounds.reduce((sum, r) => sum + r.non2xx, 0),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    timeouts: rounds.reduce((sum, r) => sum + r.timeouts, 0),
    statusCodes,
    bytesPerSecMean:
      durationSec === 0 ? 0 : rounds.reduce((sum, r) => sum + r.bytesPerSecMean * r.durationSec, 0) / durationSec
  }
}

const isCheckoutResult = (result: LoadResult | CheckoutResult): result is CheckoutResult => "steps" in result

// The SQL statements of one checkout, counted by
// runtimes/node/test/CheckoutStatements.ts through the node service graph in
// a process of its own (a fresh DATA_DIR, the fake PayPal on loopback), as
// NodeCheckout.test.ts counts them.
interface StatementCount {
  readonly total: number
  readonly byDatabase: Record<string, number>
  readonly byStep: Record<string, number>
  // The commits it waits for the disk on, one after another.
  readonly syncs: { readonly total: number; readonly byDatabase: Record<string, number> }
}

const countStatements = async (): Promise<StatementCount> => {
  const child = startProcess({
    name: "checkout statement count",
    command: node,
    args: [join(rootDir, "runtimes", "node", "test", "CheckoutStatements.ts")],
    cwd: rootDir,
    env: { LOG_LEVEL: "warn" },
    keepStdout: true
  })
  const timer = setTimeout(() => void child.stop(), 60_000)
  const code = await child.exited
  clearTimeout(timer)
  await child.stop()
  const lastLine = child.stdout().trim().split("\n").at(-1) ?? ""
  if (code !== 0) throw new Error(`counting a checkout's statements failed (exit ${code}):\n${child.tail()}`)
  const parsed = JSON.parse(lastLine) as StatementCount
  if (typeof parsed.total !== "number") throw new Error(`the statement count printed ${lastLine.slice(0, 300)}`)
  return parsed
}

// BENCH_TARGETS=node,workers (the first word of each target's name) runs only
// those, plus the baseline, what they start after and what starts after
// them (the floor and the node runtime go together): for looking at one
// runtime without waiting for the rest.
const chooseTargets = (raw: string | undefined): ReadonlyArray<Target> => {
  if (raw === undefined || raw.trim() === "") return targets
  const words = raw.split(",").map((word) => word.trim())
  const known = targets.map((target) => target.name.split(" ")[0])
  const unknown = words.filter((word) => !known.includes(word))
  if (unknown.length > 0)
    throw new Error(`BENCH_TARGETS names no target ${unknown.join(", ")}; known: ${known.join(", ")}`)
  const wanted = targets.filter((target) => target.baseline === true || words.includes(target.name.split(" ")[0]!))
  // What a chosen target starts after, and what starts after it (the floor
  // comes with the node runtime, whose reads it is compared with).
  const names = new Set(wanted.map((target) => target.name))
  for (const target of wanted) if (target.after !== undefined) names.add(target.after)
  return targets.filter((target) => names.has(target.name) || (target.after !== undefined && names.has(target.after)))
}

// ---- clean-up on every exit path ----

let tempDir: string | undefined
const running: Array<RunningTarget> = []
let interrupted = false
let cleaning: Promise<void> | undefined

const cleanUp = () => {
  cleaning ??= (async () => {
    await Promise.all(running.map((target) => target.stop()))
    // Also children whose target never finished starting.
    await stopAll()
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true })
  })()
  return cleaning
}

process.on("exit", () => {
  killAllNow()
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true })
})

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    interrupted = true
    process.stderr.write(`\nbench: ${signal}, stopping child processes\n`)
    void cleanUp().finally(() => process.exit(130))
  })
}

// ---- load ----

const isLoadResult = (value: unknown): value is LoadResult =>
  typeof value === "object" &&
  value !== null &&
  "requestsPerSecMean" in value &&
  typeof value.requestsPerSecMean === "number" &&
  "latencyMs" in value &&
  typeof value.latencyMs === "object"

// A request before the load makes a wrong path fail loudly, instead of
// measuring how fast the server answers 404: the scenario's first request, on
// every connection's own path.
const preflight = async (urls: ReadonlyArray<string>, step: LoadStep | undefined) => {
  for (const base of urls) {
    const url = `${base}${step?.suffix ?? ""}`
    const method = step?.method ?? "GET"
    const response = await fetch(url, {
      method,
      headers: step?.body === undefined ? {} : { "content-type": "application/json" },
      body: step?.body ?? null,
      signal: AbortSignal.timeout(10_000)
    })
    const body = await response.text()
    if (!response.ok) throw new Error(`preflight ${method} ${url}: HTTP ${response.status} ${body.slice(0, 300)}`)
  }
}

// autocannon (load.ts) for request scenarios, the buyers' loop (checkout.ts)
// for the checkout scenario; either prints one LoadResult line.
const load = async (
  name: string,
  config:
    | { readonly script: "load.ts"; readonly config: LoadConfig }
    | { readonly script: "checkout.ts"; readonly config: CheckoutConfig }
): Promise<LoadResult> => {
  const child = startProcess({
    name: `load (${name})`,
    command: node,
    args: [join(rootDir, "bench", config.script), JSON.stringify(config.config)],
    cwd: rootDir,
    keepStdout: true
  })
  const limitMs = (config.config.warmup + config.config.duration + 60) * 1000
  const timer = setTimeout(() => {
    process.stderr.write(`bench: load (${name}) still running after ${limitMs} ms, stopping it\n`)
    void child.stop()
  }, limitMs)
  const code = await child.exited
  clearTimeout(timer)
  await child.stop()
  if (code !== 0) throw new Error(`load tool failed for ${name} (exit ${code}):\n${child.tail() || "(no output)"}`)
  const lastLine = child.stdout().trim().split("\n").at(-1) ?? ""
  let parsed: unknown
  try {
    parsed = JSON.parse(lastLine)
  } catch {
    throw new Error(`load tool printed no result for ${name}:\n${child.tail() || "(no output)"}`)
  }
  if (!isLoadResult(parsed))
    throw new Error(`load tool printed an unexpected result for ${name}: ${lastLine.slice(0, 300)}`)
  if (parsed.requestsTotal === 0) {
    throw new Error(`no request completed for ${name} (errors: ${parsed.errors}, timeouts: ${parsed.timeouts})`)
  }
  return parsed
}

// ---- report ----

const ms = (value: number) => value.toFixed(2)
const percent = (ratio: number | undefined) => (ratio === undefined ? "-" : `${(ratio * 100).toFixed(1)}%`)

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  // The first column is text; the rest are numbers, right-aligned.
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

interface GoalVerdict {
  readonly goal: string
  readonly scenario: string
  readonly met: boolean
  readonly rps: number
  // The share of the compared scenario's req/s, when the goal sets one.
  readonly share: number | undefined
  readonly shareOf: string | undefined
  readonly p99Ms: number
  readonly note?: string
}

const shareNames = {
  baseline: "hello world",
  floor: "the floor",
  reference: "GET product",
  before: "the commit before"
} as const

const judge = (
  goal: Goal,
  measured: Measured,
  shares: {
    readonly baseline: number | undefined
    readonly floor: number | undefined
    readonly reference: number | undefined
    readonly before: number | undefined
  },
  connections: number
): GoalVerdict => {
  const p99Ms = measured.result.latencyMs.p99
  const rps = measured.result.requestsPerSecMean
  const share = goal.minShare === undefined ? undefined : shares[goal.minShare.of]
  // A goal against the commit before: judged on the share when that commit
  // ran in this run, else on the req/s recorded for it (minRps).
  const beforeMissing = goal.minShare?.of === "before" && share === undefined
  const shareOk = goal.minShare === undefined || beforeMissing || (share !== undefined && share >= goal.minShare.ratio)
  const rpsOk = goal.minRps === undefined || (goal.minShare?.of === "before" && !beforeMissing) || rps >= goal.minRps
  const p99Ok = goal.maxP99Ms === undefined || p99Ms < goal.maxP99Ms
  const notes = [
    ...(goal.connections === undefined || connections === goal.connections
      ? []
      : [`measured at ${connections} connections, the goal is set for ${goal.connections}`]),
    ...(beforeMissing
      ? [`the commit before did not run: judged against ${goal.minRps?.toFixed(0)} req/s recorded`]
      : [])
  ]
  const note = notes.length === 0 ? undefined : notes.join("; ")
  return {
    goal: goal.label,
    scenario: measured.scenario.name,
    met: shareOk && rpsOk && p99Ok,
    rps,
    share,
    shareOf: goal.minShare === undefined || beforeMissing ? undefined : shareNames[goal.minShare.of],
    p99Ms,
    ...(note === undefined ? {} : { note })
  }
}

const describeVerdict = (v: GoalVerdict) =>
  [
    v.shareOf === undefined
      ? `${v.rps.toFixed(1)} req/s`
      : v.shareOf === shareNames.before
        ? `${(v.share ?? 0).toFixed(2)}x ${v.shareOf}, ${v.rps.toFixed(1)} req/s`
        : `${percent(v.share)} of ${v.shareOf}`,
    `p99 ${ms(v.p99Ms)} ms`,
    ...(v.note === undefined ? [] : [v.note])
  ].join(", ")

// ---- main ----

const main = async () => {
  const duration = envNumber("BENCH_DURATION", 10, false)
  const connections = envNumber("BENCH_CONNECTIONS", 32, true)
  const rounds = envNumber("BENCH_ROUNDS", 3, true)
  const slice = duration / rounds
  tempDir = await mkdtemp(join(tmpdir(), "shop-bench-"))
  const context = { rootDir, tempDir, node, connections }

  const chosen = chooseTargets(process.env.BENCH_TARGETS)
  process.stderr.write(`bench: targets ${chosen.map((t) => t.name).join(", ")}\n`)
  // Each target starts when its scenarios are due and stops once no later
  // target needs it, so that what is measured runs alone: an idle Workers set
  // (workerd and wrangler's proxy) running next to the node runtime took CPU
  // from its runs. A target with `after` starts once the target it names has.
  const starting = new Map<string, Promise<RunningTarget>>()
  const startTarget = (target: Target): Promise<RunningTarget> => {
    const existing = starting.get(target.name)
    if (existing !== undefined) return existing
    const promise = (async () => {
      let after: RunningTarget | undefined
      if (target.after !== undefined) {
        const first = targets.find((t) => t.name === target.after)
        if (first === undefined || first.after !== undefined) {
          throw new Error(`${target.name} starts after "${target.after}", which is not a target without one of its own`)
        }
        after = await startTarget(first)
      }
      const runningTarget = await target.start(context, after)
      running.push(runningTarget)
      return runningTarget
    })()
    starting.set(target.name, promise)
    return promise
  }
  const started: Array<{ readonly target: Target; readonly runningTarget: RunningTarget }> = []
  const stopped = new Set<string>()
  // After `index`'s scenarios: stop every started target that no later one is or names in `after`.
  const stopUnneeded = async (index: number) => {
    const later = chosen.slice(index + 1)
    for (const [name, promise] of starting) {
      if (stopped.has(name) || later.some((t) => t.name === name || t.after === name)) continue
      stopped.add(name)
      await (await promise).stop()
    }
  }

  const measured: Array<Measured> = []
  const cartGrowth: Array<{ readonly target: string; readonly result: CartGrowthResult }> = []
  // A target that starts after another of the run (the floor, after the
  // node runtime whose files it reads; the Workers set, after the Workers
  // set of the commit before) is measured with it: their request scenarios
  // share the rounds, each floor (or before) scenario just before the one it
  // is compared with, so that a ratio to the floor (or to the commit before)
  // is also taken round by round.
  const groups = new Map<string, Array<Target>>()
  for (const target of chosen) {
    const key = target.after !== undefined && chosen.some((t) => t.name === target.after) ? target.after : target.name
    groups.set(key, [...(groups.get(key) ?? []), target])
  }
  for (const group of groups.values()) {
    const members: Array<{ readonly target: Target; readonly runningTarget: RunningTarget }> = []
    for (const target of group) {
      process.stderr.write(`bench: starting ${target.name}\n`)
      const runningTarget = await startTarget(target)
      started.push({ target, runningTarget })
      members.push({ target, runningTarget })
    }
    const checkAlive = (scenario: Scenario) => {
      for (const { target, runningTarget } of members) {
        if (!runningTarget.alive()) {
          throw new Error(
            `${target.name} died during ${scenario.name}:\n${runningTarget.describeExit() || "(no output)"}`
          )
        }
      }
    }
    // The request scenarios in rounds: each round loads every one of them
    // for its share of the duration, in turn, so that the scenarios compared
    // with each other (GET product and add-to-cart, the node runtime and the
    // floor) meet the same moments of a host whose speed drifts, and their
    // ratios are taken round by round.
    type Entry = { readonly target: Target; readonly runningTarget: RunningTarget; readonly scenario: Scenario }
    const entries: Array<Entry> = members.flatMap(({ target, runningTarget }) =>
      runningTarget.scenarios
        .filter((scenario) => scenario.checkout === undefined)
        .map((scenario) => ({ target, runningTarget, scenario }))
    )
    // The entries others are compared with: the floor's (by floorKey) and
    // the commit before's (by beforeKey).
    const isYardstick = (entry: Entry) => entry.target.floor === true || entry.target.before === true
    const yardsticks = entries.filter(isYardstick)
    const sameKey = (yardstick: Entry, entry: Entry) =>
      yardstick.target.floor === true
        ? yardstick.scenario.floorKey !== undefined && yardstick.scenario.floorKey === entry.scenario.floorKey
        : yardstick.scenario.beforeKey !== undefined && yardstick.scenario.beforeKey === entry.scenario.beforeKey
    const order: Array<Entry> = []
    for (const entry of entries) {
      if (isYardstick(entry)) continue
      for (const yardstick of yardsticks)
        if (sameKey(yardstick, entry) && !order.includes(yardstick)) order.push(yardstick)
      order.push(entry)
    }
    order.push(...yardsticks.filter((y) => !order.includes(y)))
    const roundsOf = new Map<Scenario, Array<LoadResult>>(order.map(({ scenario }) => [scenario, []]))
    for (let round = 1; round <= rounds; round++) {
      for (const { runningTarget, scenario } of order) {
        const urls = (scenario.connectionPaths ?? [scenario.path]).map((path) => runningTarget.baseUrl + path)
        if (round === 1) await preflight(urls, scenario.steps?.[0])
        const warmup = round === 1 ? WARMUP_SEC : ROUND_WARMUP_SEC
        process.stderr.write(
          `bench: ${scenario.name}${rounds === 1 ? "" : ` (round ${round} of ${rounds})`}: ${warmup} s warm-up + ` +
            `${Number(slice.toFixed(2))} s at ${connections} connections\n`
        )
        roundsOf.get(scenario)?.push(
          await load(scenario.name, {
            script: "load.ts",
            config: {
              urls,
              ...(scenario.steps === undefined ? {} : { steps: scenario.steps }),
              connections,
              duration: slice,
              warmup
            }
          })
        )
        checkAlive(scenario)
      }
    }
    for (const { target, runningTarget } of members) {
      for (const scenario of runningTarget.scenarios) {
        const url = runningTarget.baseUrl + scenario.path
        const slices = roundsOf.get(scenario)
        if (slices !== undefined) {
          measured.push({ target: target.name, scenario, url, result: combineRounds(slices), rounds: slices })
          continue
        }
        if (scenario.checkout === undefined)
          throw new Error(`${scenario.name}: a request scenario left out of the rounds`)
        process.stderr.write(
          `bench: ${scenario.name}: ${WARMUP_SEC} s warm-up + ${duration} s with ${scenario.checkout.tokens.length === 1 ? "one buyer at a time" : `${scenario.checkout.tokens.length} buyers`}\n`
        )
        const result = await load(scenario.name, {
          script: "checkout.ts",
          config: { baseUrl: runningTarget.baseUrl, ...scenario.checkout, duration, warmup: WARMUP_SEC }
        })
        checkAlive(scenario)
        measured.push({ target: target.name, scenario, url, result })
      }
    }
    for (const { target, runningTarget } of members) {
      if (runningTarget.cartGrowth === undefined) continue
      process.stderr.write(
        `bench: ${target.name}: add-to-cart on carts of 1, 20 and 100 lines, one request at a time\n`
      )
      cartGrowth.push({ target: target.name, result: await runningTarget.cartGrowth() })
    }
    await stopUnneeded(chosen.indexOf(group[group.length - 1]!))
  }

  const baselineTarget = started.find(({ target }) => target.baseline === true)
  const baselineRps = measured.find((m) => m.target === baselineTarget?.target.name)?.result.requestsPerSecMean
  const ratioOf = (m: Measured) =>
    baselineRps === undefined || baselineRps === 0 ? undefined : m.result.requestsPerSecMean / baselineRps

  // m's req/s over `other`'s: the median of the rounds' ratios when both ran
  // in the same rounds, else over their whole runs.
  const pairedRatio = (m: Measured, other: Measured | undefined) => {
    if (other === undefined) return undefined
    const mine = m.rounds
    const theirs = other.rounds
    if (
      mine !== undefined &&
      theirs !== undefined &&
      mine.length === theirs.length &&
      theirs.every((r) => r.requestsPerSecMean > 0)
    ) {
      return median(mine.map((r, i) => r.requestsPerSecMean / theirs[i]!.requestsPerSecMean))
    }
    const rps = other.result.requestsPerSecMean
    return rps === 0 ? undefined : m.result.requestsPerSecMean / rps
  }

  // Each scenario against the floor's answer to the same request.
  const floorTarget = started.find(({ target }) => target.floor === true)
  // Round by round when both ran in the same rounds, as productRatioOf.
  const floorRatioOf = (m: Measured) => {
    if (m.scenario.floorKey === undefined || floorTarget === undefined) return undefined
    const floorRun = measured.find(
      (other) => other.target === floorTarget.target.name && other.scenario.floorKey === m.scenario.floorKey
    )
    return pairedRatio(m, floorRun)
  }

  // Each scenario against its own runtime's GET product of this run, which
  // cancels out the runtime's fixed costs (HTTP, routing, middleware).
  const referenceOf = (m: Measured) =>
    measured.find((other) => other.target === m.target && other.scenario.reference === true)
  // Round by round when both ran in rounds (the median of the rounds'
  // ratios), else over the whole runs.
  const productRatioOf = (m: Measured) => pairedRatio(m, referenceOf(m))

  // Each scenario against the same scenario (beforeKey) on the commit before
  // the work, when that ran in this run: round by round, as floorRatioOf (the
  // two Workers sets share the rounds, targets.ts).
  const beforeTarget = started.find(({ target }) => target.before === true)
  const beforeRatioOf = (m: Measured) => {
    if (m.scenario.beforeKey === undefined || beforeTarget === undefined || m.target === beforeTarget.target.name)
      return undefined
    const beforeRun = measured.find(
      (other) => other.target === beforeTarget.target.name && other.scenario.beforeKey === m.scenario.beforeKey
    )
    return pairedRatio(m, beforeRun)
  }

  // A checkout is several requests: its rate is not comparable with a
  // request's, so its ratio columns stay empty.
  const rows = measured.map((m) => [
    m.scenario.name,
    isCheckoutResult(m.result) ? `${m.result.requestsPerSecMean.toFixed(1)}*` : m.result.requestsPerSecMean.toFixed(0),
    ms(m.result.latencyMs.p50),
    ms(m.result.latencyMs.p99),
    String(m.result.non2xx),
    String(m.result.errors),
    isCheckoutResult(m.result) ? "-" : percent(ratioOf(m)),
    isCheckoutResult(m.result) ? "-" : percent(floorRatioOf(m)),
    isCheckoutResult(m.result) ? "-" : percent(productRatioOf(m))
  ])
  const verdicts = measured.flatMap((m) =>
    m.scenario.goal === undefined
      ? []
      : [
          judge(
            m.scenario.goal,
            m,
            { baseline: ratioOf(m), floor: floorRatioOf(m), reference: productRatioOf(m), before: beforeRatioOf(m) },
            connections
          )
        ]
  )

  const checkouts = measured.flatMap((m) => (isCheckoutResult(m.result) ? [{ ...m, result: m.result }] : []))
  const statements = checkouts.length === 0 ? undefined : await countStatements()
  // After the load, so that nothing else is running: what one durable commit costs on the disk
  // the node runtime's files are on (the temp folder), and so what a checkout's syncs in a row
  // cost at least.
  const diskSync: DiskSyncResult | undefined = checkouts.length === 0 ? undefined : await measureDiskSync(tempDir)
  const maxStatements = 25
  const checkoutLines = checkouts.flatMap(({ result, scenario }) => [
    `* ${scenario.name}: checkouts a second with ${result.buyers === 1 ? "one buyer at a time" : `${result.buyers} buyers at once`}; p50/p99 of the whole ` +
      `checkout (start + approve at the fake PayPal + capture). By step, p50 / p99 ms:`,
    ...Object.entries(result.steps).map(
      ([step, p]) =>
        `    ${step.padEnd(8)} ${ms(p.p50).padStart(8)} / ${ms(p.p99).padStart(8)}` +
        (step === "prepare" ? "  (cart init, add, address, shipping; not in the checkout's time)" : "")
    ),
    ...(result.failedCheckouts + result.errors > 0
      ? [
          `    failed checkouts: ${result.failedCheckouts} (HTTP), ${result.errors} (network); first: ${result.firstFailure ?? "?"}`
        ]
      : [])
  ])
  const statementLines =
    statements === undefined
      ? []
      : [
          `SQL statements of one checkout on node (start + capture, warm caches; ` +
            `runtimes/node/test/CheckoutStatements.ts): ${statements.total} = ` +
            Object.entries(statements.byDatabase)
              .map(([database, n]) => `${database} ${n}`)
              .join(", ") +
            ` (by step: ${Object.entries(statements.byStep)
              .map(([step, n]) => `${step} ${n}`)
              .join(", ")})`
        ]
  const syncLines =
    statements === undefined || diskSync === undefined
      ? []
      : [
          `Durable commits the checkout waits for, one after another: ${statements.syncs.total} (` +
            Object.entries(statements.syncs.byDatabase)
              .map(([database, n]) => `${database} ${n}`)
              .join(", ") +
            `). One sync on this disk (4 KiB append + fdatasync, ${diskSync.syncs} in a row): p50 ${ms(diskSync.p50Ms)} ms, ` +
            `p99 ${ms(diskSync.p99Ms)} ms, mean ${ms(diskSync.meanMs)} ms; so ${statements.syncs.total} of them take about ` +
            `${ms(statements.syncs.total * diskSync.meanMs)} ms on average, a floor under the checkout's latency (docs/CHECKOUT.md, "Durability on node").`
        ]
  const statementVerdict =
    statements === undefined
      ? []
      : [
          `  checkout: at most ${maxStatements} SQL statements: ${statements.total <= maxStatements ? "MET" : "NOT MET"} (${statements.total})`
        ]

  const cpuModel = cpus()[0]?.model ?? "unknown CPU"
  process.stdout.write(
    [
      "",
      `${duration} s per scenario` +
        (rounds === 1
          ? ` after a ${WARMUP_SEC} s warm-up`
          : ` in ${rounds} rounds of ${slice.toFixed(1)} s (a target's request scenarios in turn; ${WARMUP_SEC} s ` +
            `warm-up before a first round, ${ROUND_WARMUP_SEC} s before the others; req/s over all rounds, p50/p99 ` +
            `the median of the rounds', "vs floor" and "vs GET product" the median of the rounds' ratios)`) +
        `, ${connections} connections, loopback; ` +
        `Node ${process.version}, ${availableParallelism()} CPUs (${cpuModel})`,
      "",
      table(
        ["scenario", "req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "vs hello world", "vs floor", "vs GET product"],
        rows
      ),
      "",
      ...checkoutLines,
      ...statementLines,
      ...syncLines,
      ...(checkoutLines.length + statementLines.length > 0 ? [""] : []),
      ...started.flatMap(({ runningTarget }) => runningTarget.notes ?? []),
      "targets (informative, never fail the run):",
      ...verdicts.map((v) => `  ${v.goal}: ${v.met ? "MET" : "NOT MET"} (${describeVerdict(v)})`),
      ...statementVerdict,
      ...cartGrowth.map(
        ({ result }) =>
          `  add-to-cart cost from 1 to 100 lines in the cart: at most 2x (p50): ${result.met ? "MET" : "NOT MET"} (existing line ${result.ratio.existing.toFixed(2)}x, new line ${result.ratio.new.toFixed(2)}x)`
      ),
      ...cartGrowth.flatMap(({ target, result }) => ["", `${target}:`, ...formatCartGrowth(result)]),
      ""
    ].join("\n") + "\n"
  )

  const resultsPath = join(rootDir, "bench", "results.json")
  await writeFile(
    resultsPath,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpus: availableParallelism(),
        cpuModel,
        config: {
          durationSec: duration,
          rounds,
          warmupSec: WARMUP_SEC,
          roundWarmupSec: ROUND_WARMUP_SEC,
          connections,
          host: "127.0.0.1"
        },
        scenarios: measured.map((m) => ({
          target: m.target,
          scenario: m.scenario.name,
          path: m.scenario.path,
          ratioToBaseline: isCheckoutResult(m.result) ? null : (ratioOf(m) ?? null),
          ratioToFloor: isCheckoutResult(m.result) ? null : (floorRatioOf(m) ?? null),
          ratioToGetProduct: isCheckoutResult(m.result) ? null : (productRatioOf(m) ?? null),
          ...m.result,
          ...(m.rounds === undefined
            ? {}
            : {
                rounds: m.rounds.map((r) => ({
                  requestsPerSecMean: r.requestsPerSecMean,
                  p50: r.latencyMs.p50,
                  p99: r.latencyMs.p99
                }))
              })
        })),
        goals: verdicts,
        cartGrowth,
        ...(statements === undefined
          ? {}
          : { checkoutStatements: { ...statements, max: maxStatements, met: statements.total <= maxStatements } }),
        ...(diskSync === undefined ? {} : { diskSync })
      },
      null,
      2
    ) + "\n"
  )
  process.stderr.write(`bench: wrote ${resultsPath}\n`)
}

main().then(
  async () => {
    await cleanUp()
    process.exit(0)
  },
  async (error: unknown) => {
    // After Ctrl-C the signal handler owns the exit; this error is just the
    // load run it cut short.
    if (interrupted) return
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`)
    await cleanUp()
    process.exit(1)
  }
)
