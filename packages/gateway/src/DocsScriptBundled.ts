import { Effect, Layer } from "effect"
import { HttpServerResponse } from "effect/http"
import { DocsScript } from "./Docs.ts"

// Scalar's standalone script as effect ships it: the very string
// HttpApiScalar.layer inlines into its page. effect keeps it in an internal
// module (its exports map hides `http-api/internal/*`), so it is imported by
// file URL, next to the public `effect/http-api` entry. For Node only (the
// node and memory runtimes, and the Workers build scripts that copy it into
// the gateway's static assets): a Worker must never import this file.
export const loadScalarScript = async (): Promise<string> => {
  const url = new URL("./internal/httpApiScalar.js", import.meta.resolve("effect/http-api"))
  const module: { readonly javascript?: unknown } = await import(url.href)
  if (typeof module.javascript !== "string") {
    throw new Error(`${url.href} no longer exports Scalar's script as \`javascript\` (effect changed its layout)`)
  }
  // Its last line names a source map on jsDelivr's server by an absolute
  // path, which on this origin would only be a 404 in the browser's console.
  return module.javascript.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n")
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")

const prepare = async () => {
  const body = new TextEncoder().encode(await loadScalarScript())
  // Compressed once (3.1 MiB becomes about 0.9): the Node server compresses nothing itself.
  const gzip = new Uint8Array(
    await new Response(new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer()
  )
  const etag = `"${hex(new Uint8Array(await crypto.subtle.digest("SHA-256", body)).slice(0, 16))}"`
  return { body, gzip, etag }
}

// Loaded on the first request for it, not at start-up: most processes never
// serve the docs, and the memory runtime starts a shop per test file.
let prepared: Promise<Awaited<ReturnType<typeof prepare>>> | undefined

// Revalidated on every use (no-cache) against its ETag: a new effect version
// brings a new script under the same URL.
export const layer = Layer.succeed(DocsScript, {
  serve: (request) =>
    Effect.promise(() => (prepared ??= prepare())).pipe(
      Effect.map((script) => {
        const headers = { etag: script.etag, "cache-control": "no-cache", vary: "accept-encoding" }
        if (request.headers["if-none-match"] === script.etag) {
          return HttpServerResponse.empty({ status: 304, headers })
        }
        const gzip = /\bgzip\b/.test(request.headers["accept-encoding"] ?? "")
        return HttpServerResponse.uint8Array(gzip ? script.gzip : script.body, {
          contentType: "text/javascript; charset=utf-8",
          headers: gzip ? { ...headers, "content-encoding": "gzip" } : headers
        })
      })
    )
})
