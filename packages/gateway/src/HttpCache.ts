import { HttpServerRequest, HttpServerResponse } from "effect/http"

// HTTP caching of the gateway's answers (docs/API.md, "Caching"), the same on
// every runtime: a strong ETag and 304 for the catalog reads, and the
// Cache-Control of each class of route. Runs in the global middleware
// (Http.ts) on the final response, so it sees what every endpoint, error
// and replay answered. The Workers gateway adds an edge cache in front of it
// (runtimes/cloudflare/src/EdgeCache.ts) and reuses what is exported here.

export interface CachePolicy {
  // Cache-Control of an anonymous catalog read (200 and 304).
  readonly publicCatalog: string
}

export const privateNoStore = "private, no-store"
// A catalog read that failed (404 product_not_found, 400): never stored, so a
// product created a moment later is not hidden behind a cached 404.
export const noStore = "no-store"

export const catalogCacheControl = (maxAgeSeconds: number, staleWhileRevalidateSeconds: number) =>
  staleWhileRevalidateSeconds > 0
    ? `public, max-age=${maxAgeSeconds}, stale-while-revalidate=${staleWhileRevalidateSeconds}`
    : `public, max-age=${maxAgeSeconds}`

// The public catalog reads: the product list and one product. Nothing in their
// answers depends on who asks (the handlers take no caller), which is what
// makes a shared copy correct.
const catalogPath = /^\/api\/products(?:\/[^/]+)?\/?$/
export const isCatalogRead = (method: string, path: string) =>
  (method === "GET" || method === "HEAD") && catalogPath.test(path)

const pathOf = (url: string) => {
  const query = url.indexOf("?")
  return query === -1 ? url : url.slice(0, query)
}

// 64 bits of two independent 32-bit multiplicative hashes over the UTF-16 code
// units of the body's text, plus its length. Not a cryptographic hash: an ETag
// only has to change when the representation changes, and a collision would
// need two versions of one URL's body with equal length and equal 64-bit hash.
// Measured on node on a 1.1 KB product: 3 to 6 µs of CPU, where WebCrypto's
// SHA-256 (encode, then an asynchronous digest) took 47 to 155 µs; GET product
// is the hottest route of node.
// The text determines the bytes exactly (UTF-8), so hashing it is hashing the
// bytes without encoding them first.
const hashText = (text: string) => {
  let h1 = 0x811c9dc5
  let h2 = 0x01000193 ^ text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 0x01000193)
    h2 = Math.imul(h2 ^ c, 0x5bd1e995)
    h2 ^= h2 >>> 15
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b)
  h1 = Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35)
  h1 ^= h1 >>> 16
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0x85ebca6b)
  h2 = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35)
  h2 ^= h2 >>> 16
  return `${(h1 >>> 0).toString(16).padStart(8, "0")}${(h2 >>> 0).toString(16).padStart(8, "0")}`
}

const hashBytes = (bytes: Uint8Array) => {
  let text = ""
  // Latin-1 view of the bytes: one code unit per byte, so equal text means
  // equal bytes. Only for bodies built from bytes (none of the catalog's).
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192))
  }
  return hashText(text)
}

/** The strong ETag of a body given as text (the catalog's JSON), or undefined. */
export const etagOfText = (text: string) => `"${hashText(text)}-${text.length.toString(36)}"`

const etagOf = (response: HttpServerResponse.HttpServerResponse): string | undefined => {
  const body = response.body
  if (body._tag !== "Uint8Array") return undefined
  return body.text !== undefined
    ? etagOfText(body.text)
    : `"${hashBytes(body.body)}-b${body.contentLength.toString(36)}"`
}

// RFC 9110 13.1.2: If-None-Match uses the weak comparison (W/ is ignored on
// either side); `*` matches any current representation; a list is
// comma-separated entity-tags. A malformed member simply matches nothing.
const entityTag = /\s*(W\/)?("[^"]*")\s*(?:,|$)/y
export const ifNoneMatchMatches = (header: string | null | undefined, etag: string): boolean => {
  if (header === undefined || header === null) return false
  if (header.trim() === "*") return true
  const opaque = etag.startsWith("W/") ? etag.slice(2) : etag
  entityTag.lastIndex = 0
  while (entityTag.lastIndex < header.length) {
    const match = entityTag.exec(header)
    if (match === null) return false
    if (match[2] === opaque) return true
  }
  return false
}

// RFC 9110 15.4.5: a 304 carries the headers a 200 would have had for
// caching (ETag, Cache-Control, Vary...), and no body.
export const notModified = (etag: string, cacheControl: string) =>
  HttpServerResponse.empty({ status: 304, headers: { etag, "cache-control": cacheControl } })

/**
 * The caching headers of a response, and a 304 in place of a catalog read's
 * 200 whose ETag the request already has.
 *
 * - GET/HEAD /api/products and /api/products/:id, 200: a strong ETag; public
 *   for a short time (`policy.publicCatalog`) when anonymous. A request
 *   carrying Authorization gets `private, no-store` even though the body is
 *   the same for everyone: a shared cache must never keep an answer to a
 *   signed-in request (RFC 9111 3.5), and a client that signs in should not
 *   find that its own reads end up in shared storage. Other statuses of these
 *   routes: `no-store`.
 * - Every other /api route (carts, checkout, orders, payments, auth, admin)
 *   and any request with Authorization: `private, no-store`.
 * - /images/:key keeps its own headers (immutable), and so does anything an
 *   endpoint set itself; /health, /openapi.json, /docs are left alone.
 */
export const apply = (
  policy: CachePolicy,
  request: HttpServerRequest.HttpServerRequest,
  response: HttpServerResponse.HttpServerResponse
): HttpServerResponse.HttpServerResponse => {
  const path = pathOf(request.url)
  const signedIn = request.headers.authorization !== undefined
  if (isCatalogRead(request.method, path)) {
    if (response.status !== 200) return HttpServerResponse.setHeader(response, "cache-control", noStore)
    const cacheControl = signedIn ? privateNoStore : policy.publicCatalog
    const etag = etagOf(response)
    if (etag === undefined) return HttpServerResponse.setHeader(response, "cache-control", cacheControl)
    if (ifNoneMatchMatches(request.headers["if-none-match"], etag)) return notModified(etag, cacheControl)
    return HttpServerResponse.setHeaders(response, { etag, "cache-control": cacheControl })
  }
  if (response.headers["cache-control"] !== undefined || path.startsWith("/images/")) return response
  if (signedIn || path.startsWith("/api/"))
    return HttpServerResponse.setHeader(response, "cache-control", privateNoStore)
  return response
}
