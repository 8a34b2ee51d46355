import { Layer } from "effect"
import * as Observability from "@shop/observability/Observability"

// Everything a Worker needs around its services, from the shared module:
// JSON logs at LOG_LEVEL (the same fields as node), and spans exported over
// OTLP/HTTP with effect's own exporter (no OpenTelemetry SDK in a Worker)
// when OTEL_EXPORTER_OTLP_ENDPOINT is set. Each Worker is its own resource in
// a trace, named after it. Needs ObservabilityConfig.
export const layer = (service: string) => Layer.mergeAll(Observability.layer(service), Observability.layerOtlp(service))

// Whether spans leave the Worker at all; when not, there is nothing to flush
// and a request costs no waitUntil.
export const exporting = (env: { readonly OTEL_EXPORTER_OTLP_ENDPOINT?: string }) =>
  (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "").trim().length > 0

// A Worker's response goes out before its last spans are exported: the
// caller hands this to ctx.waitUntil so that the isolate stays up to send them.
export const flush = Observability.flush
