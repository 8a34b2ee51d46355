import { HttpRouter } from "effect/http"
import { Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import * as Docs from "../src/Docs.ts"
import * as DocsScriptBundled from "../src/DocsScriptBundled.ts"

// The node and memory runtimes' script for /docs: effect's copy of Scalar,
// compressed when the browser accepts it, revalidated by ETag.
const docs = HttpRouter.toWebHandler(Docs.DocsRoute.pipe(Layer.provide(DocsScriptBundled.layer)), {
  disableLogger: true
})
afterAll(() => docs.dispose())

const get = (path: string, headers: Record<string, string> = {}) =>
  docs.handler(new Request(`http://shop.test${path}`, { headers }))

describe("docs script (bundled)", () => {
  it("is effect's Scalar standalone script, without jsDelivr's source map comment", async () => {
    const script = await DocsScriptBundled.loadScalarScript()
    expect(script.length).toBeGreaterThan(1_000_000)
    expect(script).toContain("@scalar/api-reference")
    expect(script).toContain("createApiReference")
    expect(script).not.toContain("sourceMappingURL")
  })

  it("is served as JavaScript, gzipped when accepted, and answers 304 to its ETag", async () => {
    const plain = await get(Docs.scriptPath)
    expect(plain.status).toBe(200)
    expect(plain.headers.get("content-type")).toBe("text/javascript; charset=utf-8")
    expect(plain.headers.get("content-encoding")).toBeNull()
    const text = await plain.text()
    expect(text).toBe(await DocsScriptBundled.loadScalarScript())

    const gzipped = await get(Docs.scriptPath, { "accept-encoding": "gzip, deflate, br" })
    expect(gzipped.headers.get("content-encoding")).toBe("gzip")
    const compressed = await gzipped.arrayBuffer()
    expect(compressed.byteLength).toBeLessThan(text.length / 2)
    const inflated = await new Response(
      new Blob([compressed]).stream().pipeThrough(new DecompressionStream("gzip"))
    ).text()
    expect(inflated).toBe(text)

    const etag = plain.headers.get("etag")
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/)
    expect(gzipped.headers.get("etag")).toBe(etag)
    const again = await get(Docs.scriptPath, { "if-none-match": etag ?? "" })
    expect(again.status).toBe(304)
  })
})
