import {
  Cause,
  Context,
  Effect,
  Formatter,
  Layer,
  Logger,
  LogLevel,
  Option,
  Redacted,
  References,
  Tracer
} from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpExporter, OtlpSerialization, OtlpTracer } from "effect/observability"
import * as Settings from "./Settings.ts"

// Logs, log level and span export for every runtime: one declaration of the
// settings, one JSON logger. Node adds the OpenTelemetry SDK exporter on top
// (runtimes/node); Workers use effect's own OTLP exporter (layerOtlp below),
// which needs no SDK.

/**
 * The OpenTelemetry resource name of the node process's spans (the whole shop
 * is one process there); each Worker uses its own name (`shop-gateway`, ...).
 */
export const traceServiceName = "shop"

// LOG_LEVEL=info as well as Info: people write it in lower case.
const parseLogLevel = (value: string) => LogLevel.values.find((level) => level.toLowerCase() === value.toLowerCase())

// OpenTelemetry's `key=value,key=value` (a vendor's API key, for example).
const parseHeaders = (value: string): Record<string, string> | undefined => {
  const entries: Array<[string, string]> = []
  for (const pair of value.split(",")) {
    const at = pair.indexOf("=")
    if (at <= 0) return undefined
    try {
      entries.push([decodeURIComponent(pair.slice(0, at).trim()), decodeURIComponent(pair.slice(at + 1).trim())])
    } catch {
      return undefined
    }
  }
  return Object.fromEntries(entries)
}

const parseEndpoint = (value: string) => {
  if (!URL.canParse(value)) return undefined
  const url = new URL(value)
  return url.protocol === "http:" || url.protocol === "https:" ? value.replace(/\/+$/, "") : undefined
}

export class ObservabilityConfig extends Context.Service<
  ObservabilityConfig,
  {
    readonly logLevel: LogLevel.LogLevel
    // OTLP/HTTP base URL (`http://127.0.0.1:4318`); None: nothing is exported.
    readonly otlpEndpoint: Option.Option<string>
    readonly otlpHeaders: Option.Option<Redacted.Redacted<Record<string, string>>>
  }
>()("@shop/observability/ObservabilityConfig") {
  static readonly layerConfig = Layer.effect(
    ObservabilityConfig,
    Effect.gen(function* () {
      const logLevel = yield* Settings.parsed(
        "LOG_LEVEL",
        parseLogLevel,
        `must be one of ${LogLevel.values.map((level) => level.toLowerCase()).join(", ")} (any case)`
      )
      const otlpEndpoint = yield* Settings.parsed(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        parseEndpoint,
        "must be an http(s) URL such as http://127.0.0.1:4318"
      )
      const headers = yield* Settings.secret("OTEL_EXPORTER_OTLP_HEADERS", 1)
      const parsedHeaders = Option.map(headers, (value) => parseHeaders(Redacted.value(value)))
      if (Option.isSome(parsedHeaders) && parsedHeaders.value === undefined) {
        return yield* Effect.fail(
          Settings.refuse("OTEL_EXPORTER_OTLP_HEADERS", "must be key=value pairs separated by commas")
        )
      }
      return ObservabilityConfig.of({
        logLevel: Option.getOrElse(logLevel, () => "Info" as const),
        otlpEndpoint,
        otlpHeaders: Option.map(Option.flatMap(parsedHeaders, Option.fromUndefinedOr), Redacted.make)
      })
    })
  )
}

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
 * `cause`, pretty-printed. The same fields on every runtime.
 */
export const jsonLogger = (service: string) =>
  Logger.make<unknown, string>(({ cause, date, fiber, logLevel, message }) => {
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
      ["service", service],
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

/** Replaces the default logger with JSON lines on the console (stdout on node, Workers Logs on Cloudflare). */
export const layerLogger = (service: string) =>
  Logger.layer([
    Logger.withConsoleLog(jsonLogger(service)),
    // Kept from the default set: with tracing on, each log is also a span event.
    Logger.tracerLogger
  ])

/** Filters logs below LOG_LEVEL (default info). */
export const layerLogLevel = Layer.effect(
  References.MinimumLogLevel,
  Effect.gen(function* () {
    return (yield* ObservabilityConfig).logLevel
  })
)

/** JSON logs at LOG_LEVEL; needs ObservabilityConfig. */
export const layer = (service: string) => Layer.mergeAll(layerLogger(service), layerLogLevel)

/**
 * Spans over OTLP/HTTP (JSON, to `<endpoint>/v1/traces`) with effect's own
 * exporter when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise effect's native
 * tracer: spans still carry trace ids into logs and across calls, and nothing
 * is exported. Either way an `OtlpExporter.Flusher` is provided, so a Worker
 * can export before its isolate sleeps (`flush`).
 */
export const layerOtlp = (resourceName: string) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const { otlpEndpoint, otlpHeaders } = yield* ObservabilityConfig
      if (Option.isNone(otlpEndpoint)) return OtlpExporter.layerFlusher
      return OtlpTracer.layer({
        url: `${otlpEndpoint.value}/v1/traces`,
        resource: { serviceName: resourceName },
        headers: Option.match(otlpHeaders, { onNone: () => undefined, onSome: Redacted.value })
      }).pipe(Layer.provide([OtlpSerialization.layerJson, FetchHttpClient.layer]))
    })
  )

/** Exports the spans still buffered (a no-op when nothing is exported). */
export const flush = Effect.gen(function* () {
  const flusher = yield* OtlpExporter.Flusher
  yield* flusher.flush.pipe(Effect.timeoutOption("5 seconds"))
})

/**
 * Runs a program with JSON logs, and reports how it failed as one JSON line,
 * including a failure to start (a refused setting names the setting). A stop by
 * interruption (SIGTERM, SIGINT) is not a failure.
 */
export const withFailureLog =
  (service: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    effect.pipe(
      Effect.tapCause((cause) =>
        Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logFatal(Settings.describeFailure(cause), cause)
      ),
      Effect.provide(layerLogger(service))
    )
