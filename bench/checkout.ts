// The checkout scenario's load: a full checkout is a conversation with state
// (a cart to prepare, an order id to carry from start to capture, a redirect
// at PayPal), which autocannon's fixed list of requests cannot hold. So this
// process plays `buyers` signed-in buyers at once, each repeating, one after
// the other:
//
//   prepare (not part of the checkout's time, measured on its own):
//     POST /api/cart/init, /add, /address, /shipping
//   the checkout (timed as one operation, and step by step):
//     POST /api/checkout/start -> GET approveUrl at the fake PayPal (302, not
//     followed) -> POST /api/checkout/capture
//
// Like load.ts it runs in its own process, warms up first, and prints one
// JSON line (CheckoutResult: a LoadResult in which a "request" is a whole
// checkout, plus the steps) to stdout; it exits non-zero when no checkout
// completed.
//
// Two measures: throughput (every token a buyer, all at once, for `duration`
// seconds) and, with `sequential: N`, the latency of one checkout on an
// otherwise idle shop: the first token's buyer alone, N checkouts one after
// the other (after `warmup` seconds of the same), no duration. With 32 buyers
// on 2 cores a checkout's latency is mostly queueing behind the other 31;
// the sequential run says what one checkout costs.
// Usage: node bench/checkout.ts '{"baseUrl":"http://127.0.0.1:1234","tokens":["..."],"productId":"prd_...","duration":10,"warmup":2}'
//        node bench/checkout.ts '{"baseUrl":"...","tokens":["..."],"productId":"prd_...","duration":0,"warmup":2,"sequential":300}'
import type { LoadResult } from "./load.ts"
import { brief, summarize } from "./stats.ts"

export interface CheckoutConfig {
  readonly baseUrl: string
  // One signed-in buyer per concurrent loop.
  readonly tokens: ReadonlyArray<string>
  // What every cart holds: one unit of this product (its stock set high enough for the run).
  readonly productId: string
  readonly duration: number
  readonly warmup: number
  // When set: this many checkouts by one buyer (the first token), one at a
  // time, instead of every buyer for `duration` seconds.
  readonly sequential?: number
}

export interface Percentiles {
  readonly mean: number
  readonly p50: number
  readonly p99: number
}

export interface CheckoutResult extends LoadResult {
  // The parts of one checkout, and the cart preparation before it (not in the checkout's time).
  readonly steps: {
    readonly prepare: Percentiles
    readonly start: Percentiles
    readonly approve: Percentiles
    readonly capture: Percentiles
  }
  readonly buyers: number
  // "sequential": one buyer, one checkout at a time (requestsPerSecMean is
  // then checkouts a second of that one buyer).
  readonly mode: "concurrent" | "sequential"
  // Checkouts that failed at some step (their status counted in statusCodes).
  readonly failedCheckouts: number
  readonly firstFailure?: string
}

const parseConfig = (text: string | undefined): CheckoutConfig => {
  const value: unknown = JSON.parse(text ?? "")
  if (typeof value !== "object" || value === null) throw new Error("config must be a JSON object")
  const { baseUrl, duration, productId, sequential, tokens, warmup } = value as Record<string, unknown>
  if (typeof baseUrl !== "string" || !URL.canParse(baseUrl)) throw new Error("config.baseUrl must be a URL")
  if (!Array.isArray(tokens) || tokens.length === 0 || !tokens.every((t) => typeof t === "string")) {
    throw new Error("config.tokens must be a non-empty list of bearer tokens")
  }
  if (typeof productId !== "string") throw new Error("config.productId must be a string")
  for (const [key, n] of Object.entries({ duration, warmup })) {
    if (typeof n !== "number" || !Number.isFinite(n) || n < 0) throw new Error(`config.${key} must be a number >= 0`)
  }
  if (sequential !== undefined && (typeof sequential !== "number" || !Number.isInteger(sequential) || sequential < 1)) {
    throw new Error("config.sequential must be a whole number >= 1")
  }
  return {
    baseUrl,
    tokens,
    productId,
    duration: Number(duration),
    warmup: Number(warmup),
    ...(sequential === undefined ? {} : { sequential })
  }
}

const texas = {
  name: "Bench Buyer",
  line1: "500 Congress Ave",
  city: "Austin",
  region: "TX",
  postalCode: "78701",
  country: "US"
}

// A step that answered something else than it should: the checkout is
// abandoned and counted as failed under that status.
// (A plain field: Node's type stripping has no parameter properties.)
class StepFailed extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

const main = async () => {
  const config = parseConfig(process.argv[2])
  const origin = config.baseUrl.replace(/\/$/, "")

  const post = async (token: string, path: string, body: unknown, expected: number) => {
    const response = await fetch(`${origin}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000)
    })
    const text = await response.text()
    if (response.status !== expected) {
      throw new StepFailed(response.status, `POST ${path}: HTTP ${response.status} ${text.slice(0, 300)}`)
    }
    return JSON.parse(text) as Record<string, unknown>
  }

  const prepare = async (token: string) => {
    const cart = await post(token, "/api/cart/init", {}, 201)
    const path = `/api/cart/${String(cart["cartId"])}`
    await post(token, `${path}/add`, { productId: config.productId, quantity: 1 }, 200)
    await post(token, `${path}/address`, { address: texas }, 200)
    await post(token, `${path}/shipping`, { methodId: "standard" }, 200)
    return String(cart["cartId"])
  }

  const sequential = config.sequential
  const measureFrom = performance.now() + config.warmup * 1000
  // A sequential run ends after its count, not at a time.
  let measureUntil = sequential === undefined ? measureFrom + config.duration * 1000 : Number.POSITIVE_INFINITY
  let measuredFrom: number | undefined
  const samples = { total: [] as Array<number>, prepare: [], start: [], approve: [], capture: [] } as Record<
    "total" | "prepare" | "start" | "approve" | "capture",
    Array<number>
  >
  const statusCodes: Record<string, number> = {}
  let failed = 0
  let errors = 0
  let firstFailure: string | undefined
  const count = (status: number) => {
    statusCodes[String(status)] = (statusCodes[String(status)] ?? 0) + 1
  }

  const buyer = async (token: string) => {
    let failuresInARow = 0
    while (performance.now() < measureUntil) {
      if (sequential !== undefined && samples.total.length >= sequential) {
        measureUntil = performance.now()
        break
      }
      const t0 = performance.now()
      try {
        const cartId = await prepare(token)
        const t1 = performance.now()
        const started = await post(token, "/api/checkout/start", { cartId }, 201)
        const t2 = performance.now()
        // The buyer approves at the fake PayPal, which answers with a
        // redirect back to the shop: not followed (the browser's landing
        // page is the storefront's, not part of the checkout).
        const approval = await fetch(String(started["approveUrl"]), {
          redirect: "manual",
          signal: AbortSignal.timeout(30_000)
        })
        await approval.arrayBuffer()
        if (approval.status !== 302) throw new StepFailed(approval.status, `approve: HTTP ${approval.status}`)
        const t3 = performance.now()
        await post(token, "/api/checkout/capture", { paypalOrderId: started["paypalOrderId"] }, 200)
        const t4 = performance.now()
        failuresInARow = 0
        // Counted when it ends inside the measured window (a checkout that
        // began in the warm-up still loads the server during the window).
        if (t4 >= measureFrom && t4 <= measureUntil) {
          measuredFrom ??= t0
          samples.total.push(t4 - t1)
          samples.prepare.push(t1 - t0)
          samples.start.push(t2 - t1)
          samples.approve.push(t3 - t2)
          samples.capture.push(t4 - t3)
          count(200)
        }
      } catch (error) {
        const now = performance.now()
        const inWindow = now >= measureFrom && now <= measureUntil
        const message = error instanceof Error ? error.message : String(error)
        firstFailure ??= message
        if (error instanceof StepFailed) {
          if (inWindow) {
            failed++
            count(error.status)
          }
        } else if (inWindow) {
          errors++
        }
        // A shop that refuses every checkout is a broken setup, not a load:
        // stop rather than spin.
        if (++failuresInARow >= 20) throw new Error(`20 checkouts in a row failed; the last: ${message}`)
      }
    }
  }

  await Promise.all(sequential === undefined ? config.tokens.map(buyer) : [buyer(config.tokens[0]!)])
  const total = summarize(samples.total)
  const durationSec =
    sequential === undefined ? config.duration : (measuredFrom === undefined ? 0 : measureUntil - measuredFrom) / 1000
  const result: CheckoutResult = {
    requestsPerSecMean: durationSec === 0 ? 0 : samples.total.length / durationSec,
    requestsTotal: samples.total.length,
    durationSec,
    latencyMs: total,
    non2xx: failed,
    errors,
    timeouts: 0,
    statusCodes,
    bytesPerSecMean: 0,
    steps: {
      prepare: brief(samples.prepare),
      start: brief(samples.start),
      approve: brief(samples.approve),
      capture: brief(samples.capture)
    },
    buyers: sequential === undefined ? config.tokens.length : 1,
    mode: sequential === undefined ? "concurrent" : "sequential",
    failedCheckouts: failed,
    ...(firstFailure === undefined ? {} : { firstFailure })
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => process.exit(130))
}

main().catch((error: unknown) => {
  process.stderr.write(`checkout: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
