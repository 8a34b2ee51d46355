import { Schema } from "effect"
import { paypalWebhookEvent } from "./Examples.ts"
import { IdempotencyKey } from "./Idempotency.ts"

// The last step of the OpenAPI document (`OpenApi.annotations({ transform })`
// on ShopApi). Schemas, statuses, summaries and examples come from the
// contract's own annotations; this adds what is the same for every operation
// and that HttpApi has no annotation for: the one error body every error
// schema shares, Retry-After on 429s, and the Idempotency-Key header that the
// gateway honours on every POST.

// biome-ignore lint/suspicious/noExplicitAny: the generated document is walked as untyped JSON, as OpenApi.Transform types it
type Json = Record<string, any>

const snakeCase = "^[a-z][a-z0-9_]*$"

// API.md: every error has this body, whatever produced it (an endpoint, the
// router, the body limit). Each error schema below narrows `error` to its code.
export const ErrorBodySchema: Json = {
  type: "object",
  description:
    "The one error body of the API. `error` is a stable snake_case code (each error response narrows it to its own), `message` is for humans and may change, `details` (only some codes) is described by each code's schema.",
  properties: {
    error: { type: "string", pattern: snakeCase, description: "Stable, machine-readable code" },
    message: { type: "string", description: "Human-readable explanation" },
    details: { type: "object", description: "Facts about this failure; shape depends on the code" }
  },
  required: ["error", "message"],
  additionalProperties: false,
  examples: [{ error: "validation_error", message: "Invalid request body", details: { in: "body", issues: [] } }]
}

const errorRef = { $ref: "#/components/schemas/ErrorBody" }

// An error schema as effect renders a `Schema.Error` class: its code as a
// one-value enum. `_tag` is decoder bookkeeping, never on the wire (Errors.ts).
const errorCodeOf = (schema: Json): string | undefined => {
  const error = schema?.properties?.error
  return Array.isArray(error?.enum) && error.enum.length === 1 && typeof schema.properties.message === "object"
    ? error.enum[0]
    : undefined
}

// A value of a (generated, so simple) schema, for the error examples.
const sample = (schema: Json): unknown => {
  if (schema === undefined) return undefined
  if (schema.examples !== undefined) return schema.examples[0]
  if (schema.const !== undefined) return schema.const
  if (Array.isArray(schema.enum)) return schema.enum[0]
  if (Array.isArray(schema.anyOf)) return sample(schema.anyOf[0])
  switch (schema.type) {
    case "object":
      return Object.fromEntries(
        ((schema.required ?? []) as Array<string>).map((key) => [key, sample(schema.properties?.[key])])
      )
    case "array":
      return []
    case "integer":
    case "number":
      return Math.max(1, schema.minimum ?? 1)
    case "boolean":
      return true
    default:
      return "…"
  }
}

const toErrorSchema = (schema: Json, code: string): Json => {
  const { _tag: _, message, error: __, ...rest } = schema.properties as Json
  const example: Json = { error: code, message: sample(message) }
  if ((schema.required as Array<string>).includes("details")) example.details = sample(rest.details)
  return {
    allOf: [errorRef],
    description: schema.description ?? `Error \`${code}\``,
    properties: { error: { const: code }, ...rest },
    required: schema.required,
    examples: [example]
  }
}

const retryAfter = {
  description: "Seconds to wait before trying again",
  required: true,
  schema: { type: "integer", minimum: 1 }
}

const idempotencyKey = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    "Makes the POST safe to retry: a repeat with the same key (same caller, method and path) and the same body replays the first answer with `Idempotent-Replayed: true`; the same key with another body is 422 `idempotency_key_reused`; while the first is still running, 409 `idempotency_key_in_use` with Retry-After. Keys expire after 24 hours.",
  schema: Schema.toJsonSchemaDocument(IdempotencyKey).schema
}

// The domain schemas carry their examples as JSON Schema `examples` (effect
// renders the `examples` annotation there). Scalar and Redocly read a media
// type's `example`/`examples` first, and Redocly checks those against the
// schema (no-invalid-media-type-examples), so each JSON body also gets its
// schema's examples at the media-type level: one as `example`, several (the
// forms of a union) as named `examples`.
const exampleMediaType = (media: Json | undefined): void => {
  const examples = media?.schema?.examples
  if (media === undefined || !Array.isArray(examples) || examples.length === 0) return
  if (media.example !== undefined || media.examples !== undefined) return
  if (examples.length === 1) media.example = examples[0]
  else
    media.examples = Object.fromEntries(
      examples.map((value, index) => [`example${index + 1}`, { summary: `Form ${index + 1}`, value }])
    )
}

// The webhook body is kept as text (PayPal signs its bytes), so effect
// describes it as a string; on the wire it is a PayPal event object.
const webhookBody = {
  type: "object",
  description:
    "A PayPal webhook event, as PayPal sends it (read as text: the signature covers its exact bytes). The shop acts on CHECKOUT.ORDER.APPROVED and PAYMENT.CAPTURE.COMPLETED.",
  properties: {
    id: { type: "string", description: "PayPal's event id; each is handled once" },
    event_type: { type: "string", examples: ["CHECKOUT.ORDER.APPROVED"] },
    resource_type: { type: "string" },
    create_time: { type: "string", format: "date-time" },
    resource: { type: "object", description: "The order, capture or refund the event is about" }
  },
  required: ["id", "event_type", "resource"],
  // PayPal sends more fields than these (links, summary, event_version...).
  additionalProperties: true,
  examples: [paypalWebhookEvent]
}

const operationsOf = (spec: Json): Array<[string, Json]> =>
  Object.values(spec.paths as Record<string, Json>).flatMap((item) =>
    Object.entries(item).filter(([method]) => method !== "parameters")
  )

export const finish = (spec: Json): Json => {
  const schemas = spec.components.schemas as Record<string, Json>
  for (const [name, schema] of Object.entries(schemas)) {
    const code = errorCodeOf(schema)
    if (code !== undefined) schemas[name] = toErrorSchema(schema, code)
  }
  schemas["ErrorBody"] = ErrorBodySchema
  for (const [method, operation] of operationsOf(spec)) {
    for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
      if (status === "429") response.headers = { ...response.headers, "Retry-After": retryAfter }
      if (status === "409" && String(response.description).includes("IdempotencyKeyInUse")) {
        response.headers = {
          ...response.headers,
          "Retry-After": { ...retryAfter, required: false, description: "With idempotency_key_in_use: seconds to wait" }
        }
      }
    }
    for (const parameter of operation.parameters ?? []) {
      const integer = parameter.schema?.allOf?.find((member: Json) => member["x-query-integer"] !== undefined)
      if (integer !== undefined) parameter.schema = integer["x-query-integer"]
    }
    if (operation.operationId === "paymentsWebhook.paypalWebhook") {
      operation.requestBody.content["application/json"].schema = webhookBody
    }
    exampleMediaType(operation.requestBody?.content?.["application/json"])
    for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
      if (status.startsWith("2")) exampleMediaType(response.content?.["application/json"])
    }
    if (method === "post") operation.parameters = [...(operation.parameters ?? []), idempotencyKey]
  }
  return spec
}
