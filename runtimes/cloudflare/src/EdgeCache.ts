import { ifNoneMatchMatches, isCatalogRead } from "@shop/gateway/HttpCache"
import { type CatalogVersionStub, stubOf } from "./CatalogVersion.ts"

// The gateway Worker's edge cache of anonymous catalog reads (GET
// /api/products and /api/products/:id), in the Workers Cache API
// (`caches.default`), in front of the same router the other runtimes serve.
// docs/ARCHITECTURE.md, "The edge cache of catalog reads".
//
// Exact invalidation by versioned keys: each key carries the catalog version
// (CatalogVersion.ts), read BEFORE the services are asked; the catalog and
// inventory Workers bump it AFTER each committed write and before they answer.
// So a reader racing a write can only store what it read under the version it
// read first, which the bump has already made unreachable, and a read that
// starts after a write has answered sees the new version: a write is visible
// on the very next read. The entry's TTL (EDGE_CACHE_TTL_SECONDS) only bounds
// the storage of unreachable entries and covers a failed bump.
//
// A request with Authorization is never answered from the cache and its
// answer is never stored (`x-cache: BYPASS`): it is served exactly as on the
// other runtimes, `private, no-store`.
//
// `x-cache` says what happened: HIT (the cache answered; the services were not
// asked), MISS (the services answered; a 200 was stored for the next reader),
// BYPASS (not eligible, or the version could not be read).

export interface EdgeCacheOptions {
  readonly cache: Cache
  readonly versions: DurableObjectNamespace
  readonly ttlSeconds: number
  // Told when the version cannot be read (the read is then served uncached).
  readonly onVersionError: (error: unknown) => void
}

// Headers a stored copy keeps under other names: the Cache API reads
// Cache-Control for the entry's own lifetime, and refuses or splits entries on
// Vary; the reader gets the originals back.
const clientCacheControl = "x-shop-cache-control"
const clientVary = "x-shop-vary"

const requestIdPattern = /^[A-Za-z0-9._-]{1,128}$/

const withHeaders = (response: Response, headers: Record<string, string>) => {
  const out = new Response(response.body, response)
  for (const [name, value] of Object.entries(headers)) out.headers.set(name, value)
  return out
}

// The version is in the path, so no query a client sends can reach an entry of
// another version; the Origin is part of the key because the stored CORS
// headers depend on it.
const keyOf = (url: URL, version: string, origin: string | null) =>
  new Request(
    `${url.origin}/__edge/${encodeURIComponent(version)}/${encodeURIComponent(origin ?? "-")}${url.pathname}${url.search}`
  )

const toStored = (response: Response, body: ArrayBuffer, ttlSeconds: number) => {
  const headers = new Headers(response.headers)
  headers.set(clientCacheControl, headers.get("cache-control") ?? "")
  headers.set("cache-control", `public, max-age=${ttlSeconds}`)
  const vary = headers.get("vary")
  if (vary !== null) {
    headers.set(clientVary, vary)
    headers.delete("vary")
  }
  headers.delete("x-request-id")
  return new Response(body, { status: response.status, headers })
}

const fromStored = (stored: Response, requestId: string) => {
  const headers = new Headers(stored.headers)
  headers.set("cache-control", headers.get(clientCacheControl) ?? "")
  headers.delete(clientCacheControl)
  const vary = headers.get(clientVary)
  if (vary !== null) headers.set("vary", vary)
  headers.delete(clientVary)
  headers.set("x-request-id", requestId)
  return new Response(stored.body, { status: stored.status, headers })
}

// RFC 9110 15.4.5: the 304 keeps the 200's caching and CORS headers.
const notModifiedOrBody = (request: Request, response: Response, xCache: string) => {
  const etag = response.headers.get("etag")
  if (etag === null || !ifNoneMatchMatches(request.headers.get("if-none-match"), etag)) {
    return withHeaders(response, { "x-cache": xCache })
  }
  const headers = new Headers(response.headers)
  headers.delete("content-type")
  headers.delete("content-length")
  headers.set("x-cache", xCache)
  return new Response(null, { status: 304, headers })
}

export const make =
  (options: EdgeCacheOptions) =>
  async (
    request: Request,
    ctx: ExecutionContext,
    handler: (request: Request) => Promise<Response>
  ): Promise<Response> => {
    if (request.method !== "GET") return handler(request)
    const url = new URL(request.url)
    if (!isCatalogRead("GET", url.pathname)) return handler(request)
    if (request.headers.has("authorization")) return withHeaders(await handler(request), { "x-cache": "BYPASS" })

    // Before anything is read from the services (see the top of this file).
    // A stub per request: workerd ties a stub to the request that made it.
    const versions: CatalogVersionStub = stubOf(options.versions)
    const version = await versions.current().catch((error: unknown) => {
      options.onVersionError(error)
      return undefined
    })
    if (version === undefined) return withHeaders(await handler(request), { "x-cache": "BYPASS" })
    const key = keyOf(url, version, request.headers.get("origin"))

    const stored = await options.cache.match(key)
    if (stored !== undefined) {
      const incoming = request.headers.get("x-request-id")
      const requestId = incoming !== null && requestIdPattern.test(incoming) ? incoming : crypto.randomUUID()
      return notModifiedOrBody(request, fromStored(stored, requestId), "HIT")
    }

    // The full body is needed to store it, whatever the client holds: the
    // client's If-None-Match is answered here instead.
    const headers = new Headers(request.headers)
    headers.delete("if-none-match")
    const response = await handler(new Request(request, { headers }))
    if (response.status !== 200 || !(response.headers.get("cache-control") ?? "").startsWith("public")) {
      return withHeaders(response, { "x-cache": "MISS" })
    }
    const body = await response.arrayBuffer()
    // A failed store only costs the next reader a miss.
    ctx.waitUntil(options.cache.put(key, toStored(response, body, options.ttlSeconds)).catch(() => undefined))
    return notModifiedOrBody(request, new Response(body, response), "MISS")
  }
