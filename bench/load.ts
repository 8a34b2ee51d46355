// One load scenario, run in its own process so the load generator competes
// with neither the servers nor the orchestrator for an event loop.
// Usage: node bench/load.ts '{"urls":["http://127.0.0.1:1234/"],"connections":32,"duration":10,"warmup":2}'
// Prints one JSON line (LoadResult) to stdout; exits non-zero if autocannon fails.
import autocannon, { type Instance, type RequestSpec } from "autocannon"
import { summarize } from "./stats.ts"

// One request of a sequence: its method, what it appends to the connection's
// path, its JSON body, and how many times in a row it is sent.
export interface LoadStep {
  readonly method: "GET" | "POST"
  readonly suffix: string
  readonly body?: string
  readonly repeat?: number
}

export interface LoadConfig {
  // Connection i loads urls[i % urls.length] (autocannon's own rule), so a
  // list as long as the connections gives each connection its own resource.
  readonly urls: ReadonlyArray<string>
  // When set, every connection sends these in order, again and again, on its
  // own url; otherwise it GETs its url.
  readonly steps?: ReadonlyArray<LoadStep>
  readonly connections: number
  readonly duration: number
  readonly warmup: number
}

export interface LoadResult {
  readonly requestsPerSecMean: number
  readonly requestsTotal: number
  readonly durationSec: number
  readonly latencyMs: {
    readonly mean: number
    readonly p50: number
    readonly p90: number
    readonly p99: number
    readonly max: number
  }
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
  readonly statusCodes: Record<string, number>
  readonly bytesPerSecMean: number
}

const parseConfig = (text: string | undefined): LoadConfig => {
  const value: unknown = JSON.parse(text ?? "")
  if (typeof value !== "object" || value === null) throw new Error("config must be a JSON object")
  const { connections, duration, steps, urls, warmup } = value as Record<string, unknown>
  if (!Array.isArray(urls) || urls.length === 0 || !urls.every((url) => typeof url === "string" && URL.canParse(url))) {
    throw new Error("config.urls must be a non-empty list of URLs")
  }
  for (const [key, n] of Object.entries({ connections, duration, warmup })) {
    if (typeof n !== "number" || !Number.isFinite(n) || n < 0) throw new Error(`config.${key} must be a number >= 0`)
  }
  if (steps !== undefined && (!Array.isArray(steps) || !steps.every(isStep))) {
    throw new Error("config.steps must be a list of {method, suffix, body?, repeat?}")
  }
  return {
    urls,
    ...(steps === undefined ? {} : { steps }),
    connections: Number(connections),
    duration: Number(duration),
    warmup: Number(warmup)
  }
}

const isStep = (value: unknown): value is LoadStep => {
  if (typeof value !== "object" || value === null) return false
  const { body, method, repeat, suffix } = value as Record<string, unknown>
  return (
    (method === "GET" || method === "POST") &&
    typeof suffix === "string" &&
    (body === undefined || typeof body === "string") &&
    (repeat === undefined || (typeof repeat === "number" && Number.isInteger(repeat) && repeat >= 1))
  )
}

// autocannon builds a request from the connection's url; `setupRequest` appends
// the step's suffix to that url's path, so one list of steps serves every
// connection, each on its own resource. Fresh objects for every run:
// autocannon keeps state on them.
const requestsOf = (steps: ReadonlyArray<LoadStep>): Array<RequestSpec> =>
  steps.flatMap((step) =>
    Array.from({ length: step.repeat ?? 1 }, () => ({
      method: step.method,
      ...(step.body === undefined ? {} : { body: step.body, headers: { "content-type": "application/json" } }),
      setupRequest: (request: RequestSpec & { readonly path: string }) => ({
        ...request,
        path: `${request.path}${step.suffix}`
      })
    }))
  )

// autocannon's own latency histogram has 1 ms resolution, which reads as
// "p50 = 0 ms" against a fast server; the per-response times it emits are
// fractional milliseconds, so percentiles are computed from those instead.
class Samples {
  values = new Float64Array(1 << 16)
  length = 0
  add(value: number) {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2)
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.length++] = value
  }
  summary() {
    return summarize(this.values.subarray(0, this.length))
  }
}

let current: Instance | undefined
// The orchestrator stops this process on Ctrl-C or failure; close the sockets
// rather than leave the server mid-request.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    current?.stop()
    process.exit(130)
  })
}

const run = async (config: LoadConfig, duration: number, samples?: Samples) => {
  const instance = autocannon({
    url: [...config.urls],
    connections: config.connections,
    duration,
    ...(config.steps === undefined ? {} : { requests: requestsOf(config.steps) })
  })
  current = instance
  if (samples !== undefined) {
    instance.on("response", (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      samples.add(responseTime)
    })
  }
  const result = await instance
  current = undefined
  return result
}

const main = async () => {
  const config = parseConfig(process.argv[2])
  // Warm-up: JIT, connection pools and caches settle before anything is measured.
  if (config.warmup > 0) await run(config, config.warmup)
  const samples = new Samples()
  const result = await run(config, config.duration, samples)
  const statusCodes: Record<string, number> = {}
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = count
  const output: LoadResult = {
    requestsPerSecMean: result.requests.average,
    requestsTotal: result.requests.total,
    durationSec: result.duration,
    latencyMs: samples.summary(),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    bytesPerSecMean: result.throughput.average
  }
  process.stdout.write(JSON.stringify(output) + "\n")
}

main().catch((error: unknown) => {
  process.stderr.write(`load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
