import { Config, ConfigProvider, Effect, Formatter, Layer, Logger, Option, Redacted, References } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpExporter, OtlpSerialization, OtlpTracer } from "effect/observability"
import { configValues } from "./Env.ts"

// One JSON object per line, with the Worker's name and the trace and span of
// the fiber that logged, so that a log line can be found from a trace and the
// other way round (Workers Logs indexes JSON fields).
const jsonLogger = (service: string) =>
  Logger.make((options) => {
    const structured = Logger.formatStructured.log(options)
    const span = options.fiber.cache.span
    console.log(
      Formatter.formatJson({
        timestamp: structured.timestamp,
        level: structured.level,
        service,
        message: structured.message,
        ...structured.annotations,
        ...(span === undefined ? {} : { traceId: span.traceId, spanId: span.spanId }),
        ...(structured.cause === undefined ? {} : { cause: structured.cause })
      })
    )
  })

const parseHeaders = (text: string): Record<string, string> =>
  Object.fromEntries(
    text.split(",").flatMap((pair) => {
      const at = pair.indexOf("=")
      return at <= 0
        ? []
        : [[decodeURIComponent(pair.slice(0, at).trim()), decodeURIComponent(pair.slice(at + 1).trim())]]
    })
  )

// Everything a Worker needs around its services: configuration read from
// its env (never copied into process.env or globalThis), JSON logs, and
// spans exported over OTLP/HTTP (JSON, to `<endpoint>/v1/traces`) when
// OTEL_EXPORTER_OTLP_ENDPOINT is set, with effect's own exporter: no
// OpenTelemetry SDK in a Worker. (OtlpTracer.layerFromConfig would also
// need OTEL_TRACES_EXPORTER=otlp, against the OpenTelemetry default.) Without an
// endpoint the tracer is Effect's native one: spans still carry trace ids
// into logs and across bindings, and nothing is exported.
export const layer = (env: object, service: string) => {
  const config = ConfigProvider.layer(ConfigProvider.fromEnvRecord(configValues(env)))
  const logging = Layer.mergeAll(
    Logger.layer([jsonLogger(service)]),
    Layer.effect(
      References.MinimumLogLevel,
      Effect.gen(function* () {
        return yield* Config.LogLevel("LOG_LEVEL").pipe(Config.withDefault("Info" as const))
      })
    )
  )
  const tracing = Layer.unwrap(
    Effect.gen(function* () {
      const { endpoint, headers } = yield* Config.all({
        endpoint: Config.option(Config.URL("OTEL_EXPORTER_OTLP_ENDPOINT")),
        // `key=value,key=value` (OpenTelemetry's format), e.g. a vendor's API key.
        headers: Config.option(Config.Redacted("OTEL_EXPORTER_OTLP_HEADERS"))
      })
      if (Option.isNone(endpoint)) return OtlpExporter.layerFlusher
      const url = new URL(endpoint.value)
      url.pathname = `${url.pathname.replace(/\/$/, "")}/v1/traces`
      return OtlpTracer.layer({
        url: url.href,
        resource: { serviceName: service },
        headers: Option.match(headers, { onNone: () => undefined, onSome: (h) => parseHeaders(Redacted.value(h)) })
      }).pipe(Layer.provide([OtlpSerialization.layerJson, FetchHttpClient.layer]))
    })
  )
  return Layer.mergeAll(logging, tracing).pipe(Layer.provideMerge(config), Layer.orDie)
}

// Whether spans leave the Worker at all; when not, there is nothing to flush
// and a request costs no waitUntil.
export const exporting = (env: { readonly OTEL_EXPORTER_OTLP_ENDPOINT?: string }) =>
  (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "").length > 0

// A Worker's response goes out before its last spans are exported: the
// caller hands this to ctx.waitUntil so that the isolate stays up to send them.
export const flush = Effect.gen(function* () {
  const flusher = yield* OtlpExporter.Flusher
  yield* flusher.flush.pipe(Effect.timeoutOption("5 seconds"))
})
