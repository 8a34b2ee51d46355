// Test-only: holds what a runtime answers to the OpenAPI document it serves.
// Never imported from a runtime's src (ajv stays out of the Workers' bundles).
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js"
import AjvFormats from "ajv-formats"
import type { Target } from "./Scenarios.ts"

type Json = Record<string, unknown>

interface Operation {
  readonly method: string
  readonly template: string
  readonly pattern: RegExp
  readonly paramNames: ReadonlyArray<string>
  readonly params: Readonly<Record<string, string>>
  readonly responses: Json
  readonly pointer: string
}

export interface Violation {
  readonly request: string
  readonly status: number
  readonly problem: string
}

const escapePointer = (token: string) => token.replaceAll("~", "~0").replaceAll("/", "~1")

const methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

/**
 * Checks responses against an OpenAPI 3.1 document: the status must be one the
 * matched operation declares, and a JSON body must be valid against the
 * declared schema (ajv, JSON Schema 2020-12, with formats). Requests that match
 * no operation of the document (an unknown route, a method a path does not
 * have, a CORS preflight, the document and docs page themselves) have no
 * declared answer to hold them to: they are only checked to be either empty or
 * the standard error body, and counted as `undeclared`.
 */
export const makeContract = (document: Json) => {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true })
  // CommonJS default export, seen through Node's ESM interop.
  ;(AjvFormats as unknown as { default: (ajv: Ajv2020) => void }).default(ajv)
  ajv.addSchema({ ...document, $id: "openapi.json" })
  const compiled = new Map<string, ValidateFunction>()
  const validator = (pointer: string) => {
    let validate = compiled.get(pointer)
    if (validate === undefined) {
      validate = ajv.compile({ $ref: `openapi.json#${pointer}` })
      compiled.set(pointer, validate)
    }
    return validate
  }
  const errorPointer = "/components/schemas/ErrorBody"

  const operations: Array<Operation> = []
  for (const [template, item] of Object.entries(document["paths"] as Record<string, Json>)) {
    for (const method of methods) {
      const operation = item[method] as Json | undefined
      if (operation === undefined) continue
      const paramNames = Array.from(template.matchAll(/\{([^}]+)\}/g), (m) => m[1] ?? "")
      const params: Record<string, string> = {}
      const parameters = (operation["parameters"] ?? []) as Array<Json>
      parameters.forEach((parameter, index) => {
        if (parameter["in"] === "path") {
          params[String(parameter["name"])] = `/paths/${escapePointer(template)}/${method}/parameters/${index}/schema`
        }
      })
      operations.push({
        method: method.toUpperCase(),
        template,
        pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "([^/]+)")}$`),
        paramNames,
        params,
        responses: operation["responses"] as Json,
        pointer: `/paths/${escapePointer(template)}/${method}`
      })
    }
  }
  // A static segment beats a parameter, as in the router (`/api/cart/init`).
  operations.sort((a, b) => a.paramNames.length - b.paramNames.length)

  const violations: Array<Violation> = []
  const checked = { declared: 0, undeclared: 0 }

  const check = async (request: { readonly method: string; readonly url: string }, response: Response) => {
    const url = new URL(request.url)
    const label = `${request.method} ${url.pathname}${url.search}`
    const status = response.status
    const fail = (problem: string) => violations.push({ request: label, status, problem })
    const text = await response.clone().text()
    const isJson = (response.headers.get("content-type") ?? "").includes("application/json")
    let body: unknown
    if (isJson && text.length > 0) {
      try {
        body = JSON.parse(text)
      } catch {
        return fail("content-type says JSON but the body does not parse")
      }
    }
    const errorShape = () => {
      if (status < 400 || text.length === 0) return
      if (!isJson) return fail(`a ${status} whose body is not JSON`)
      const validate = validator(errorPointer)
      if (!validate(body)) fail(`not the standard error body: ${ajv.errorsText(validate.errors)}`)
    }

    const operation = operations.find((o) => o.method === request.method && o.pattern.test(url.pathname))
    if (operation === undefined) {
      checked.undeclared++
      return errorShape()
    }
    checked.declared++

    // A path parameter the document itself refuses (an over-long id, or bytes
    // that are not percent-encoded UTF-8 and so no string at all): the request
    // is outside the document, so any 4xx with the error body will do.
    const values = operation.pattern.exec(url.pathname)?.slice(1) ?? []
    const outside = operation.paramNames.some((name, index) => {
      const pointer = operation.params[name]
      let value: string
      try {
        value = decodeURIComponent(values[index] ?? "")
      } catch {
        return true
      }
      return pointer !== undefined && !validator(pointer)(value)
    })
    if (outside) {
      if (status < 400 || status >= 500) fail(`a request outside the document answered ${status}`)
      return errorShape()
    }

    const declared = operation.responses[String(status)] as Json | undefined
    if (declared === undefined) {
      fail(
        `status not declared for ${operation.method} ${operation.template} (declared: ${Object.keys(operation.responses).join(", ")}); body ${text.slice(0, 300)}`
      )
      return
    }
    const content = declared["content"] as Json | undefined
    if (content === undefined) {
      if (text.length > 0) fail(`declared without a body, got ${text.slice(0, 200)}`)
      return
    }
    const mediaType = Object.keys(content).find((type) => type === "application/json")
    if (mediaType === undefined) return
    if (!isJson) return fail(`declared JSON, got ${response.headers.get("content-type")}`)
    const validate = validator(`${operation.pointer}/responses/${status}/content/${escapePointer(mediaType)}/schema`)
    if (!validate(body)) {
      fail(`body does not match the schema: ${ajv.errorsText(validate.errors)}; body ${text.slice(0, 300)}`)
    }
  }

  // Wraps a target's fetch so every response it gives is checked.
  const wrap =
    (fetch: Target["fetch"]): Target["fetch"] =>
    async (request) => {
      const sent = { method: request.method, url: request.url }
      const response = await fetch(request)
      await check(sent, response)
      return response
    }

  return { check, wrap, violations, checked }
}
