import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { SpanKind } from "@opentelemetry/api"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { describe, expect, it } from "vitest"
import * as Memory from "../src/MemoryRuntime.ts"

describe("tracing through the gateway", () => {
  it("one login is one trace holding the gateway span and the auth service spans, continuing traceparent", async () => {
    const exporter = new InMemorySpanExporter()
    const shop = Memory.make({
      settings: { ADMIN_SECRET: "tracing-admin-secret-0123", PASSWORD_ITERATIONS: "1000" },
      observability: NodeSdk.layer(() => ({
        resource: { serviceName: "shop-test" },
        spanProcessor: new SimpleSpanProcessor(exporter)
      }))
    })
    try {
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        shop.handler(
          new Request(`http://shop.test${path}`, {
            method: "POST",
            headers: { "content-type": "application/json", ...headers },
            body: JSON.stringify(body)
          })
        )
      const credentials = { email: "traced@example.com", password: "correct horse battery" }
      expect((await post("/api/auth/signup", { ...credentials, name: "T" })).status).toBe(201)
      exporter.reset()

      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
      const response = await post("/api/auth/login", credentials, {
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`
      })
      expect(response.status).toBe(200)

      // Spans are exported when they end; assert while the SDK is alive.
      const spans = exporter.getFinishedSpans()
      const traceIds = new Set(spans.map((s) => s.spanContext().traceId))
      expect(traceIds).toEqual(new Set([traceId]))
      const names = spans.map((s) => s.name)
      const server = spans.find((s) => s.kind === SpanKind.SERVER)
      expect(server, `spans: ${names.join(", ")}`).toBeDefined()
      expect(names).toContain("Auth.login")
      expect(names).toContain("Auth.checkThrottle")
      const login = spans.find((s) => s.name === "Auth.login")!
      // The service span hangs under the request span, not beside it.
      const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]))
      let parent = login.parentSpanContext?.spanId
      const chain: Array<string> = []
      while (parent !== undefined && byId.has(parent)) {
        chain.push(byId.get(parent)!.name)
        parent = byId.get(parent)!.parentSpanContext?.spanId
      }
      expect(chain).toContain(server!.name)
      expect(parent).toBe("00f067aa0ba902b7")
    } finally {
      await shop.dispose()
    }
  })
})
