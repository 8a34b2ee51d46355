import type { Target } from "./Scenarios.ts"

export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly body: any
}

export interface Call {
  readonly body?: unknown
  // Sent as is, for malformed bodies.
  readonly raw?: string
  readonly token?: string
  readonly headers?: Record<string, string>
}

// A tiny HTTP client over whatever `fetch` the target gives: a real socket or
// an in-process handler. The base URL is irrelevant to in-process targets and
// rewritten by socket targets.
export const client =
  (target: Target) =>
  async (method: string, path: string, call: Call = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...call.headers }
    if (call.token !== undefined) headers["authorization"] = `Bearer ${call.token}`
    let body: string | undefined
    if (call.raw !== undefined) body = call.raw
    else if (call.body !== undefined) body = JSON.stringify(call.body)
    if (body !== undefined && headers["content-type"] === undefined) headers["content-type"] = "application/json"
    const response = await target.fetch(new Request(`http://shop.test${path}`, { method, headers, body: body ?? null }))
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined
    } catch {
      // Non-JSON bodies (the docs page) are returned as text.
    }
    return { status: response.status, headers: response.headers, body: parsed }
  }

export const uniqueEmail = (prefix = "user") =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}@example.com`

export const uniqueSku = (prefix = "SKU") =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`.toUpperCase()
