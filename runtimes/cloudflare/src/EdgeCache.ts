import { ifNoneMatchMatches, isCatalogRead } from "@shop/gateway/HttpCache"
import { currentVersion } from "./CatalogVersion.ts"

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
//
// Two levels under the same keys: this isolate's memory first, then the Cache
// API. A lookup in `caches.default` is I/O (under local workerd, two more
// isolates and a blob read per hit, about a third of a cached read's CPU);
// the memory holds the answers this isolate has seen, so a hot product costs
// the version read alone (and that is held on a lease, CatalogVersion.ts).
// Exactness is the same for both levels: an entry is found only under the
// version it was read with, and the version is taken first on every request,
// so a bump makes the memory's entries as unreachable as the Cache API's (and
// they are dropped as soon as a newer version is seen).

export interface EdgeCacheOptions {
  readonly cache: Cache
  readonly versions: DurableObjectNamespace
  readonly ttlSeconds: number
  // Bounds of the memory level, per isolate (defaults below).
  readonly memory?: { readonly maxEntries: number; readonly maxBytes: number }
  // Told when the version cannot be read (the read is then served uncached).
  readonly onVersionError: (error: unknown) => void
}

// Headers a stored copy keeps under other names: the Cache API reads
// Cache-Control for the entry's own lifetime, and refuses or splits entries on
// Vary; the reader gets the originals back.
const clientCacheControl = "x-shop-cache-control"
const clientVary = "x-shop-vary"

const requestIdPattern = /^[A-Za-z0-9._-]{1,128}$/

// A Worker isolate has 128 MB: a few MB of hot answers is plenty (a product
// is a few KB; the first pages of the list a few tens).
const defaultMemory = { maxEntries: 1000, maxBytes: 8 * 1024 * 1024 }

// An answer as the memory level keeps it: what a reader gets (the client's
// own headers, no request id), and when it stops being served (the Cache
// API entry's max-age, so both levels hold an answer equally long).
interface Remembered {
  readonly version: string
  readonly status: number
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly body: Uint8Array
  readonly expiresAt: number
}

const makeMemory = (limits: { readonly maxEntries: number; readonly maxBytes: number }) => {
  // A Map iterates in insertion order: the first key is the oldest entry.
  const entries = new Map<string, Remembered>()
  let bytes = 0
  // The newest version seen: entries of any other are unreachable to the
  // readers that come after it, so they go (memory, not correctness).
  let latest: string | undefined
  const drop = (key: string) => {
    const entry = entries.get(key)
    if (entry === undefined) return
    bytes -= entry.body.byteLength
    entries.delete(key)
  }
  return {
    // Called with every version read, before the lookup.
    seen: (version: string) => {
      if (version === latest) return
      latest = version
      for (const [key, entry] of entries) if (entry.version !== version) drop(key)
    },
    get: (key: string, now: number): Remembered | undefined => {
      const entry = entries.get(key)
      if (entry === undefined) return undefined
      if (entry.expiresAt > now) return entry
      drop(key)
      return undefined
    },
    set: (key: string, entry: Remembered) => {
      // An answer read under a version that is already old would never be
      // found again: not kept.
      if (entry.version !== latest || entry.body.byteLength > limits.maxBytes) return
      drop(key)
      entries.set(key, entry)
      bytes += entry.body.byteLength
      while (entries.size > limits.maxEntries || bytes > limits.maxBytes) {
        const oldest = entries.keys().next()
        if (oldest.done === true) break
        drop(oldest.value)
      }
    }
  }
}

const remembered = (version: string, response: Response, body: Uint8Array, expiresAt: number): Remembered => {
  const headers: Array<readonly [string, string]> = []
  response.headers.forEach((value, name) => {
    if (name !== "x-request-id" && name !== "x-cache") headers.push([name, value])
  })
  return { version, status: response.status, headers, body, expiresAt }
}

// The answer to a hit from memory, built once (the hot path of a cached
// read): the body, or a 304 as notModifiedOrBody below would make it.
const fromMemory = (request: Request, entry: Remembered, requestId: string) => {
  const headers = new Headers(entry.headers as Array<[string, string]>)
  headers.set("x-request-id", requestId)
  headers.set("x-cache", "HIT")
  const etag = headers.get("etag")
  if (etag !== null && ifNoneMatchMatches(request.headers.get("if-none-match"), etag)) {
    headers.delete("content-type")
    headers.delete("content-length")
    return new Response(null, { status: 304, headers })
  }
  return new Response(entry.body.slice(), { status: entry.status, headers })
}

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

export const make = (options: EdgeCacheOptions) => {
  const memory = makeMemory(options.memory ?? defaultMemory)
  const requestIdOf = (request: Request) => {
    const incoming = request.headers.get("x-request-id")
    return incoming !== null && requestIdPattern.test(incoming) ? incoming : crypto.randomUUID()
  }
  return async (
    request: Request,
    ctx: ExecutionContext,
    handler: (request: Request) => Promise<Response>
  ): Promise<Response> => {
    if (request.method !== "GET") return handler(request)
    const url = new URL(request.url)
    if (!isCatalogRead("GET", url.pathname)) return handler(request)
    if (request.headers.has("authorization")) return withHeaders(await handler(request), { "x-cache": "BYPASS" })

    // Before anything is read from the services (see the top of this file),
    // under the isolate's lease (CatalogVersion.ts, VersionLease.ts).
    const version = await currentVersion(options.versions).catch((error: unknown) => {
      options.onVersionError(error)
      return undefined
    })
    if (version === undefined) return withHeaders(await handler(request), { "x-cache": "BYPASS" })
    memory.seen(version)
    const key = keyOf(url, version, request.headers.get("origin"))
    const now = Date.now()

    const kept = memory.get(key.url, now)
    if (kept !== undefined) return fromMemory(request, kept, requestIdOf(request))

    const stored = await options.cache.match(key)
    if (stored !== undefined) {
      const answer = fromStored(stored, requestIdOf(request))
      const body = new Uint8Array(await answer.arrayBuffer())
      // The Cache API does not say how long the entry has left: the memory
      // keeps it for the full TTL at most, never past the entry's own.
      memory.set(key.url, remembered(version, answer, body, now + options.ttlSeconds * 1000))
      return notModifiedOrBody(request, new Response(body, answer), "HIT")
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
    memory.set(key.url, remembered(version, response, new Uint8Array(body.slice(0)), now + options.ttlSeconds * 1000))
    // A failed store only costs the next reader a miss.
    ctx.waitUntil(options.cache.put(key, toStored(response, body, options.ttlSeconds)).catch(() => undefined))
    return notModifiedOrBody(request, new Response(body, response), "MISS")
  }
}
