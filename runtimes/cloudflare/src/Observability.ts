import { Layer, Scheduler } from "effect"
import * as Observability from "@shop/observability/Observability"

// Everything a Worker needs around its services, from the shared module:
// JSON logs at LOG_LEVEL (the same fields as node), and spans exported over
// OTLP/HTTP with effect's own exporter (no OpenTelemetry SDK in a Worker)
// when OTEL_EXPORTER_OTLP_ENDPOINT is set. Each Worker is its own resource in
// a trace, named after it. Needs ObservabilityConfig.
export const layer = (service: string) => Layer.mergeAll(Observability.layer(service), Observability.layerOtlp(service))

// Every fiber of a Worker on the sync scheduler, provided outermost (to the
// layers and the requests alike; effect's recipe for Workers, see
// HttpRouter.toWebHandler). The default scheduler yields with setImmediate,
// a timer in workerd, and workerd drops a request's pending timers when that
// request ends: a Worker's runtime outlives the request that built it, and
// the RPC clients' response loops, forked then, never started when that
// request called no service (`/health` first), so the next service call
// waited until the gateway's 504. Sync mode yields through microtasks, which
// run inside the request that queued them.
export const layerScheduler = Layer.succeed(Scheduler.Scheduler, new Scheduler.MixedScheduler("sync"))

// Whether spans leave the Worker at all; when not, there is nothing to flush
// and a request costs no waitUntil.
export const exporting = (env: { readonly OTEL_EXPORTER_OTLP_ENDPOINT?: string }) =>
  (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "").trim().length > 0

// A Worker's response goes out before its last spans are exported: the
// caller hands this to ctx.waitUntil so that the isolate stays up to send them.
export const flush = Observability.flush
