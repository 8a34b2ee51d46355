import { Option, Schema } from "effect"
import type { Target } from "./Scenarios.ts"

export interface Reply {
  readonly status: number
  readonly headers: Headers
  // Whatever came back: parsed JSON, the text of a non-JSON body, or
  // undefined. Scenarios narrow it with `json` or `errorBody`.
  readonly body: unknown
}

export interface Call {
  readonly body?: unknown
  // Sent as is, for malformed bodies.
  readonly raw?: string
  readonly token?: string
  readonly headers?: Record<string, string>
}

// The base URL of every request the suite makes. It is irrelevant to
// in-process targets and rewritten by socket targets.
export const baseUrl = "http://shop.test"

// A tiny raw HTTP client over whatever `fetch` the target gives: a real socket
// or an in-process handler. Scenarios use it where the exact status, headers or
// body are the point; setup goes through the typed client (Fixtures.ts).
export const client =
  (target: Target) =>
  async (method: string, path: string, call: Call = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...call.headers }
    if (call.token !== undefined) headers["authorization"] = `Bearer ${call.token}`
    let body: string | undefined
    if (call.raw !== undefined) body = call.raw
    else if (call.body !== undefined) body = JSON.stringify(call.body)
    if (body !== undefined && headers["content-type"] === undefined) headers["content-type"] = "application/json"
    const response = await target.fetch(new Request(`${baseUrl}${path}`, { method, headers, body: body ?? null }))
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined
    } catch {
      // Non-JSON bodies (the docs page) are returned as text.
    }
    return { status: response.status, headers: response.headers, body: parsed }
  }

// Decodes a reply's body with a schema, usually the domain's own response
// schema: the scenario gets a typed value, and a body that breaks the contract
// fails the test with the schema's message instead of a later `undefined`.
export const json = <S extends Schema.ConstraintDecoder<unknown>>(reply: Pick<Reply, "body">, schema: S): S["Type"] =>
  Schema.decodeUnknownSync(schema)(reply.body)

// API.md: every error body is `{ error, message, details? }` and nothing else.
export const ErrorBody = Schema.Struct({
  error: Schema.String,
  message: Schema.String,
  details: Schema.optional(Schema.Record(Schema.String, Schema.Unknown))
})
export type ErrorBody = typeof ErrorBody.Type

const decodeErrorBody = Schema.decodeUnknownOption(ErrorBody, { onExcessProperty: "error" })

// The reply's error body; anything else fails the test showing what came back.
export const errorBody = (reply: Pick<Reply, "status" | "body">): ErrorBody =>
  Option.getOrThrowWith(
    decodeErrorBody(reply.body),
    () => new Error(`expected an error body, got ${reply.status} ${JSON.stringify(reply.body)?.slice(0, 500)}`)
  )

export const uniqueEmail = (prefix = "user") =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}@example.com`

export const uniqueSku = (prefix = "SKU") =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`.toUpperCase()
