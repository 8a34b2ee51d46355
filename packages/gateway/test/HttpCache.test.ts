import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { describe, expect, it } from "vitest"
import * as HttpCache from "../src/HttpCache.ts"

// The rules of HttpCache.ts on their own: RFC 9110's If-None-Match matching,
// and which Cache-Control each class of route gets. The scenarios
// (packages/testing/src/HttpCacheScenarios.ts) hold every runtime to them.

const policy: HttpCache.CachePolicy = { publicCatalog: HttpCache.catalogCacheControl(5, 30) }

const request = (method: string, url: string, headers: Record<string, string> = {}) =>
  HttpServerRequest.fromWeb(new Request(`http://shop.test${url}`, { method, headers }))

describe("If-None-Match (weak comparison, RFC 9110 13.1.2)", () => {
  const etag = '"0123456789abcdef-2s"'
  it.each([
    [etag, true],
    [`W/${etag}`, true],
    [`"other", ${etag}`, true],
    [` "other" ,W/${etag} `, true],
    ["*", true],
    ['"other"', false],
    ["", false],
    ["0123456789abcdef-2s", false],
    [`${etag}, garbage`, true],
    [`garbage, ${etag}`, false]
  ])("%s matches: %s", (header, expected) => {
    expect(HttpCache.ifNoneMatchMatches(header, etag)).toBe(expected)
  })
  it("no header matches nothing", () => {
    expect(HttpCache.ifNoneMatchMatches(undefined, etag)).toBe(false)
    expect(HttpCache.ifNoneMatchMatches(null, etag)).toBe(false)
  })
})

describe("HttpCache.apply", () => {
  const body = JSON.stringify({ productId: "prd_1", title: "Cup" })
  const ok = () => HttpServerResponse.text(body, { contentType: "application/json" })

  it("an anonymous product read gets a strong ETag of its body and the public Cache-Control", () => {
    const response = HttpCache.apply(policy, request("GET", "/api/products/prd_1"), ok())
    expect(response.headers["etag"]).toBe(HttpCache.etagOfText(body))
    expect(response.headers["etag"]).toMatch(/^"[0-9a-f]{16}-[0-9a-z]+"$/)
    expect(response.headers["cache-control"]).toBe("public, max-age=5, stale-while-revalidate=30")
  })

  it("another body gets another ETag", () => {
    expect(HttpCache.etagOfText(body)).not.toBe(HttpCache.etagOfText(body.replace("Cup", "Cap")))
    expect(HttpCache.etagOfText("")).not.toBe(HttpCache.etagOfText(" "))
  })

  it("a matching If-None-Match is a 304 with no body", () => {
    const etag = HttpCache.etagOfText(body)
    const response = HttpCache.apply(policy, request("GET", "/api/products?limit=5", { "if-none-match": etag }), ok())
    expect(response.status).toBe(304)
    expect(response.body._tag).toBe("Empty")
    expect(response.headers["etag"]).toBe(etag)
    expect(response.headers["cache-control"]).toBe(policy.publicCatalog)
  })

  it("a signed-in catalog read is private, no-store", () => {
    const response = HttpCache.apply(policy, request("GET", "/api/products/prd_1", { authorization: "Bearer x" }), ok())
    expect(response.headers["cache-control"]).toBe("private, no-store")
    expect(response.headers["etag"]).toBe(HttpCache.etagOfText(body))
  })

  it("a catalog error is no-store, without an ETag", () => {
    const notFound = HttpServerResponse.text("{}", { status: 404, contentType: "application/json" })
    const response = HttpCache.apply(policy, request("GET", "/api/products/prd_x"), notFound)
    expect(response.headers["cache-control"]).toBe("no-store")
    expect(response.headers["etag"]).toBeUndefined()
  })

  it("other API routes are private, no-store; images, health and docs are left alone", () => {
    for (const [method, url] of [
      ["POST", "/api/cart/init"],
      ["GET", "/api/cart/abc"],
      ["GET", "/api/orders"],
      ["PUT", "/api/admin/products/prd_1"],
      ["POST", "/api/products"]
    ] as const) {
      expect(HttpCache.apply(policy, request(method, url), ok()).headers["cache-control"]).toBe("private, no-store")
    }
    const image = HttpServerResponse.text("x", { headers: { "cache-control": "public, max-age=31536000, immutable" } })
    expect(HttpCache.apply(policy, request("GET", "/images/k"), image).headers["cache-control"]).toBe(
      "public, max-age=31536000, immutable"
    )
    expect(HttpCache.apply(policy, request("GET", "/health"), ok()).headers["cache-control"]).toBeUndefined()
    expect(
      HttpCache.apply(policy, request("GET", "/health", { authorization: "Bearer x" }), ok()).headers["cache-control"]
    ).toBe("private, no-store")
  })
})
