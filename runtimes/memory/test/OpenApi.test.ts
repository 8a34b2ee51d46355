import { createConfig, lintFromString } from "@redocly/openapi-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Memory from "../src/MemoryRuntime.ts"

// The document as served (GET /openapi.json on the memory runtime), held to an
// established linter and to the rules the server enforces (issue 10).
// biome-ignore lint/suspicious/noExplicitAny: the served document is read as untyped JSON
type Doc = Record<string, any>

const runtime = Memory.make()
let document: Doc
afterAll(() => runtime.dispose())
beforeAll(async () => {
  const response = await runtime.handler(new Request("http://shop.test/openapi.json"))
  document = await response.json()
})

const operations = () =>
  Object.entries(document.paths as Record<string, Doc>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation }))
  )

describe("the OpenAPI document", () => {
  it("passes Redocly's recommended ruleset with no errors", async () => {
    const config = await createConfig({ extends: ["recommended"] })
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: "openapi.json", config })
    const summary = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)
    // Warnings accepted: info-license (the project has chosen no licence yet).
    expect(summary.filter((line) => !line.includes("info-license"))).toEqual([])
  })

  it("states what the server checks", () => {
    const signup = document.paths["/api/auth/signup"].post.requestBody.content["application/json"].schema
    expect(signup.properties.password).toMatchObject({ minLength: 8, maxLength: 256 })
    expect(signup.properties.email).toMatchObject({ format: "email", pattern: "^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$" })
    expect(signup.properties.name.description).toContain("control characters")
    expect(signup.additionalProperties).toBe(false)
    const query = Object.fromEntries(
      (document.paths["/api/products"].get.parameters as Array<Doc>).map((p) => [p.name, p.schema])
    )
    expect(query.limit).toMatchObject({ type: "integer", minimum: 1, maximum: 100, default: 20 })
    expect(query.offset).toMatchObject({ type: "integer", minimum: 0, default: 0 })
    expect(query.minPrice).toMatchObject({ type: "integer", minimum: 0 })
    expect(query.maxPrice).toMatchObject({ type: "integer", minimum: 0 })
    const productId = document.paths["/api/products/{productId}"].get.parameters[0].schema
    expect(productId.maxLength).toBe(100)
    expect(document.servers).toEqual([expect.objectContaining({ url: "http://127.0.0.1:8787" })])
    expect(document.components.securitySchemes.bearer).toMatchObject({ scheme: "Bearer", bearerFormat: "JWT" })
    expect(document.paths["/api/auth/login"].post.responses["429"].headers["Retry-After"]).toBeDefined()
    for (const { path, method, operation } of operations()) {
      const where = `${method} ${path}`
      expect({ where, summary: typeof operation.summary }).toEqual({ where, summary: "string" })
      expect({ where, description: typeof operation.description }).toEqual({ where, description: "string" })
      expect({ where, operationId: typeof operation.operationId }).toEqual({ where, operationId: "string" })
      for (const [status, response] of Object.entries(operation.responses as Doc)) {
        if (Number(status) >= 400) {
          expect(JSON.stringify(response.content)).toMatch(/#\/components\/schemas\/[A-Za-z]+/)
        }
      }
    }
    for (const schema of Object.values(document.components.schemas as Doc)) {
      if (schema.allOf?.[0]?.$ref === "#/components/schemas/ErrorBody")
        expect(schema.properties.error.const).toBeTypeOf("string")
    }
  })

  it("shows a request and a response example on every operation", () => {
    const missing: Array<string> = []
    const hasExample = (media: Doc) => media.example !== undefined || Object.keys(media.examples ?? {}).length > 0
    for (const { path, method, operation } of operations()) {
      const body = operation.requestBody?.content?.["application/json"]
      if (body !== undefined && !hasExample(body)) missing.push(`${method} ${path} request`)
      for (const [status, response] of Object.entries(operation.responses as Doc)) {
        const media = response.content?.["application/json"]
        if (status.startsWith("2") && media !== undefined && !hasExample(media))
          missing.push(`${method} ${path} ${status}`)
      }
    }
    expect(missing).toEqual([])
    // The examples are the domain's own: one cart whose summary adds up.
    const cart = document.paths["/api/cart/{cartId}"].get.responses["200"].content["application/json"].example
    expect(cart.cartId).toMatch(/^cart_[A-Za-z0-9]{24}$/)
    const { subtotal, discount, shipping, tax, total } = cart.summary
    expect(total.amount).toBe(subtotal.amount - discount.amount + shipping.amount + tax.amount)
    // Integer money fields carry their own example, so a viewer building a
    // sample from the schema alone shows 1299, not the bound -9007199254740991.
    const line =
      document.paths["/api/cart/{cartId}"].get.responses["200"].content["application/json"].schema.properties.items
        .items.properties
    expect(line.unitPrice.properties.amount.examples).toEqual([1299])
    expect(line.quantity.examples).toEqual([2])
  })

  it("the router reaches every id the document allows", async () => {
    // 100 characters: the endpoint answers (401 without a token), not the router.
    const response = await runtime.handler(new Request(`http://shop.test/api/orders/${"o".repeat(100)}`))
    expect(response.status).toBe(401)
  })
})
