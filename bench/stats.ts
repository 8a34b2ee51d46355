// The one way the bench scripts summarize their samples (milliseconds, as
// fractions): nearest-rank percentiles, the smallest sample with at least p%
// of the samples at or below it. 0 for no samples.

export interface Summary {
  readonly mean: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
}

export const summarize = (values: ArrayLike<number>): Summary => {
  const sorted = Float64Array.from(values).sort()
  const at = (p: number) => (sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!)
  let sum = 0
  for (const v of sorted) sum += v
  return {
    mean: sorted.length === 0 ? 0 : sum / sorted.length,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: sorted.length === 0 ? 0 : sorted[sorted.length - 1]!
  }
}

// The three figures most tables print.
export const brief = (values: ArrayLike<number>): Pick<Summary, "mean" | "p50" | "p99"> => {
  const { mean, p50, p99 } = summarize(values)
  return { mean, p50, p99 }
}
