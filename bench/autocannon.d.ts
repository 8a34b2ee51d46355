// autocannon ships no types and @types/autocannon is not a dependency: this
// declares only the part of its API that load.ts uses (autocannon 9).
declare module "autocannon" {
  import type { EventEmitter } from "node:events"

  // One request of `requests`; `setupRequest` gets it with the connection's
  // defaults (its url's path among them) filled in, and returns what to send.
  export interface RequestSpec {
    readonly method?: string
    readonly path?: string
    readonly body?: string
    readonly headers?: Record<string, string>
    readonly setupRequest?: (request: RequestSpec & { readonly path: string }) => RequestSpec
  }

  export interface Options {
    // A list: connection i uses url[i % url.length].
    readonly url: string | ReadonlyArray<string>
    readonly requests?: ReadonlyArray<RequestSpec>
    readonly connections?: number
    readonly duration?: number
    readonly pipelining?: number
    readonly timeout?: number
    readonly method?: string
    readonly headers?: Record<string, string>
  }

  export interface Histogram {
    readonly average: number
    readonly mean: number
    readonly stddev: number
    readonly min: number
    readonly max: number
    readonly total: number
    readonly p50: number
    readonly p90: number
    readonly p99: number
  }

  export interface Result {
    readonly duration: number
    readonly errors: number
    readonly timeouts: number
    readonly non2xx: number
    readonly resets: number
    readonly "2xx": number
    readonly statusCodeStats: Record<string, { readonly count: number }>
    readonly latency: Histogram
    readonly requests: Histogram & { readonly sent: number }
    readonly throughput: Histogram
  }

  export interface Instance extends EventEmitter, PromiseLike<Result> {
    readonly stop: () => void
  }

  export default function autocannon(options: Options): Instance
}
