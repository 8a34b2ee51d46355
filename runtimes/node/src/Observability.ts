import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import {
  Cause,
  Config,
  Context,
  Data,
  Effect,
  Formatter,
  Layer,
  Logger,
  LogLevel,
  Option,
  References,
  Tracer
} from "effect"

export class ObservabilityConfigError extends Data.TaggedError("ObservabilityConfigError")<{
  readonly message: string
}> {}

/** The `service` field of every log line. */
export const serviceName = "shop-node"

/** The OpenTelemetry resource name of our spans, shared by every runtime so one trace reads as one shop. */
export const traceServiceName = "shop"

// Keys the logger owns; an annotation with one of these names is dropped
// rather than allowed to overwrite the line's own field. `traceId` may come
// from an annotation (the caller's traceparent when tracing is off); the
// current span's id, written after the annotations, wins when there is one.
const reserved = new Set(["timestamp", "level", "service", "message", "spanId", "data", "cause"])

/**
 * One JSON object per log entry: timestamp, level, service, message, the log
 * annotations as top-level fields (the gateway's `requestId` among them), and
 * the current span's `traceId`/`spanId` so that logs and traces join up.
 * Values that are not text (`Effect.log("x", { n })`) go in `data`; a cause in
 * `cause`, pretty-printed.
 */
export const jsonLogger = Logger.make<unknown, string>(({ cause, date, fiber, logLevel, message }) => {
  const parts = Array.isArray(message) ? message : [message]
  const text = parts.filter((part): part is string => typeof part === "string")
  const data = parts.filter((part) => typeof part !== "string")
  const span = Context.getOrUndefined(fiber.context, Tracer.ParentSpan)
  const annotations = Object.entries(fiber.getRef(References.CurrentLogAnnotations)).filter(
    ([key]) => !reserved.has(key)
  )
  const entries: Array<readonly [string, unknown]> = [
    ["timestamp", date.toISOString()],
    ["level", logLevel.toLowerCase()],
    ["service", serviceName],
    ["message", text.join(" ")],
    ...annotations,
    ...(span === undefined ? [] : [["traceId", span.traceId] as const, ["spanId", span.spanId] as const]),
    ...(data.length === 0 ? [] : [["data", data.length === 1 ? data[0] : data] as const]),
    ...(cause.reasons.length === 0 ? [] : [["cause", Cause.pretty(cause)] as const])
  ]
  // fromEntries defines own properties, so even an annotation named
  // `__proto__` stays data. formatJson copes with cycles, bigints, errors and
  // redacted values, and never throws inside a log call.
  return Formatter.formatJson(Object.fromEntries(entries))
})

// LOG_LEVEL=info as well as Info: people write it in lower case.
const logLevel = Config.String("LOG_LEVEL").pipe(
  Config.withDefault("info"),
  Effect.flatMap((text) => {
    const level = LogLevel.values.find((candidate) => candidate.toLowerCase() === text.trim().toLowerCase())
    return level === undefined
      ? Effect.fail(
          new ObservabilityConfigError({
            message: `LOG_LEVEL must be one of ${LogLevel.values.join(", ")} (any case), not "${text}"`
          })
        )
      : Effect.succeed(level)
  })
)

/** Replaces the default logger with JSON lines on stdout. */
export const layerJsonLogger = Logger.layer([
  Logger.withConsoleLog(jsonLogger),
  // Kept from the default set: with tracing on, each log is also a span event.
  Logger.tracerLogger
])

/** Filters logs below LOG_LEVEL (default info). */
export const layerLogLevel = Layer.effect(References.MinimumLogLevel, logLevel)

/**
 * Runs a program with JSON logs, and reports how it failed as a JSON line too,
 * including a failure to start (bad configuration, port in use). A stop by
 * interruption (SIGTERM, SIGINT) is not a failure. Use with
 * `runMain({ disableErrorReporting: true })`, whose own report would not be JSON.
 */
export const withFailureLog = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.tapCause((cause) =>
      Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logFatal("The shop stopped with an error", cause)
    ),
    Effect.provide(layerJsonLogger)
  )

const otlpEndpoint = Config.String("OTEL_EXPORTER_OTLP_ENDPOINT").pipe(
  Config.option,
  Config.map(Option.map((text) => text.trim().replace(/\/+$/, ""))),
  Config.map(Option.filter((text) => text.length > 0)),
  Effect.flatMap(
    Option.match({
      onNone: () => Effect.succeedNone,
      onSome: (endpoint) =>
        URL.canParse(endpoint)
          ? Effect.succeedSome(endpoint)
          : Effect.fail(
              new ObservabilityConfigError({
                message: `OTEL_EXPORTER_OTLP_ENDPOINT must be a URL such as http://localhost:4318, not "${endpoint}"`
              })
            )
    })
  )
)

/** Spans over OTLP/HTTP to `<endpoint>/v1/traces`, batched; flushed when the layer is released. */
export const layerOtlp = (endpoint: string) =>
  NodeSdk.layer(() => ({
    resource: { serviceName: traceServiceName },
    spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))
  }))

/**
 * Tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise no layer at all,
 * so spans stay in effect's native tracer and nothing is exported.
 */
export const layerTracing = Layer.unwrap(
  Effect.map(
    otlpEndpoint,
    Option.match({
      onNone: () => Layer.empty,
      onSome: (endpoint) =>
        Layer.effectDiscard(Effect.logInfo("Exporting traces over OTLP").pipe(Effect.annotateLogs({ endpoint }))).pipe(
          Layer.provideMerge(layerOtlp(endpoint))
        )
    })
  )
)
