import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Option, Redacted } from "effect"
import { ObservabilityConfig, traceServiceName } from "@shop/observability/Observability"

/** The `service` field of every log line of the node process. */
export const serviceName = "shop-node"

/** Spans over OTLP/HTTP to `<endpoint>/v1/traces` with the OpenTelemetry SDK, batched; flushed when released. */
export const layerOtlp = (endpoint: string, headers?: Record<string, string>) =>
  NodeSdk.layer(() => ({
    resource: { serviceName: traceServiceName },
    spanProcessor: new BatchSpanProcessor(
      new OTLPTraceExporter({ url: `${endpoint}/v1/traces`, ...(headers === undefined ? {} : { headers }) })
    )
  }))

/**
 * Tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise no layer at all,
 * so spans stay in effect's native tracer and nothing is exported. The
 * setting is declared once, in @shop/observability, for every runtime.
 */
export const layerTracing = Layer.unwrap(
  Effect.gen(function* () {
    const { otlpEndpoint, otlpHeaders } = yield* ObservabilityConfig
    if (Option.isNone(otlpEndpoint)) return Layer.empty
    const endpoint = otlpEndpoint.value
    return Layer.effectDiscard(
      Effect.logInfo("Exporting traces over OTLP").pipe(Effect.annotateLogs({ endpoint }))
    ).pipe(Layer.provideMerge(layerOtlp(endpoint, Option.getOrUndefined(Option.map(otlpHeaders, Redacted.value)))))
  })
)
