// The floor: what the two catalog reads cost with nothing around them. Plain
// node:http and node:sqlite prepared statements, no framework, no validation,
// no tracing, reading the SQLite files the node runtime of the same bench run
// wrote (DATA_DIR/catalog.sqlite and DATA_DIR/inventory.sqlite, read-only),
// and answering with the same JSON, byte for byte, as the node runtime:
//
//   GET /api/products/:id            one product with its variants' `available`
//   GET /api/products?limit=&offset= a page, newest first, with `total`
//
// Anything else is 404, a bad number 400. A node runtime request that beats
// this one has left out work the floor does; one far below it spends its time
// around the reads, not in them. Bench only: nothing under src imports it.
import { createServer, type ServerResponse } from "node:http"
import { join } from "node:path"
import { DatabaseSync, type StatementSync } from "node:sqlite"

const port = Number(process.env.PORT ?? 0)
const host = process.env.HOST ?? "127.0.0.1"
const dataDir = process.env.DATA_DIR
if (dataDir === undefined || dataDir === "") throw new Error("floor: DATA_DIR is required")

// Read-only connections beside the runtime's own (WAL: readers never block its writer).
const catalog = new DatabaseSync(join(dataDir, "catalog.sqlite"), { readOnly: true })
const inventory = new DatabaseSync(join(dataDir, "inventory.sqlite"), { readOnly: true })

interface ProductRow {
  product_id: string
  sku: string
  title: string
  description: string
  category: string
  images: string
  uploaded_images: string
  created_at: number
  updated_at: number
}

interface VariantRow {
  variant_id: string
  product_id: string
  sku: string
  title: string
  price: number
  currency: string
  attributes: string
  weight_grams: number
}

interface ImageRow {
  imageId: string
  key: string
  contentType: string
  size: number
}

const productColumns = "product_id, sku, title, description, category, images, uploaded_images, created_at, updated_at"
const variantColumns = "variant_id, product_id, sku, title, price, currency, attributes, weight_grams"

const productById = catalog.prepare(`SELECT ${productColumns} FROM products WHERE product_id = ?`)
const productPage = catalog.prepare(
  `SELECT ${productColumns} FROM products ORDER BY created_at DESC, product_id DESC LIMIT ? OFFSET ?`
)
const productCount = catalog.prepare("SELECT COUNT(*) AS total FROM products")

// The cursor the catalog hands out after `last` on the unfiltered newest-first
// list (packages/catalog/src/ProductCursor.ts, written out by hand: base64url
// JSON of the sort, the filters' FNV-1a fingerprint, the sort key and the id).
// The byte-for-byte check before any load proves it is the same.
const unfilteredFingerprint = (() => {
  const text = JSON.stringify([null, null, null, null])
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0).toString(16).padStart(8, "0")
})()
const newestCursor = (last: ProductRow) =>
  Buffer.from(
    JSON.stringify({ v: 1, s: "newest", f: unfilteredFingerprint, k: last.created_at, i: last.product_id })
  ).toString("base64url")

// `IN (?, ?, ...)` statements, one per arity, prepared on first use.
const byArity = (db: DatabaseSync, sql: (placeholders: string) => string) => {
  const statements = new Map<number, StatementSync>()
  return (arity: number) => {
    let statement = statements.get(arity)
    if (statement === undefined) {
      statement = db.prepare(sql(Array.from({ length: arity }, () => "?").join(", ")))
      statements.set(arity, statement)
    }
    return statement
  }
}
const variantsOf = byArity(
  catalog,
  (ps) => `SELECT ${variantColumns} FROM variants WHERE product_id IN (${ps}) ORDER BY product_id, position`
)
const availableOf = byArity(
  inventory,
  (ps) => `SELECT variant_id, stock - reserved AS available FROM stock_levels WHERE variant_id IN (${ps})`
)

const iso = (millis: number) => new Date(millis).toISOString()

// The products of `rows` in the order given, shaped as the runtime encodes
// a Product (packages/domain/src/Catalog.ts; packages/catalog/src/CatalogLive.ts).
const assemble = (rows: ReadonlyArray<ProductRow>) => {
  if (rows.length === 0) return []
  const variantRows = variantsOf(rows.length).all(...rows.map((r) => r.product_id)) as unknown as Array<VariantRow>
  const available = new Map<string, number>()
  if (variantRows.length > 0) {
    const levels = availableOf(variantRows.length).all(...variantRows.map((v) => v.variant_id)) as unknown as Array<{
      variant_id: string
      available: number
    }>
    for (const level of levels) available.set(level.variant_id, level.available)
  }
  const byProduct = new Map<string, Array<VariantRow>>()
  for (const v of variantRows) {
    const list = byProduct.get(v.product_id)
    if (list === undefined) byProduct.set(v.product_id, [v])
    else list.push(v)
  }
  return rows.map((row) => {
    const uploaded = JSON.parse(row.uploaded_images) as Array<ImageRow>
    const variants = byProduct.get(row.product_id) ?? []
    // The cheapest variant's price, the first one on a tie.
    let cheapest = variants[0]
    for (const v of variants) if (cheapest === undefined || v.price < cheapest.price) cheapest = v
    return {
      productId: row.product_id,
      sku: row.sku,
      title: row.title,
      description: row.description,
      category: row.category,
      images: [...uploaded.map((image) => `/images/${image.key}`), ...(JSON.parse(row.images) as Array<string>)],
      uploadedImages: uploaded.map((image) => ({
        imageId: image.imageId,
        url: `/images/${image.key}`,
        contentType: image.contentType,
        size: image.size
      })),
      price: cheapest === undefined ? undefined : { amount: cheapest.price, currency: cheapest.currency },
      variants: variants.map((v) => ({
        variantId: v.variant_id,
        sku: v.sku,
        title: v.title,
        price: { amount: v.price, currency: v.currency },
        attributes: JSON.parse(v.attributes) as Record<string, string>,
        weightGrams: v.weight_grams,
        available: available.get(v.variant_id) ?? 0
      })),
      createdAt: iso(row.created_at),
      updatedAt: iso(row.updated_at)
    }
  })
}

const send = (response: ServerResponse, status: number, value: unknown) => {
  const body = Buffer.from(JSON.stringify(value))
  response.writeHead(status, { "content-type": "application/json", "content-length": body.length })
  response.end(body)
}

const notFound = { _tag: "NotFound", message: "Not found" }
const digits = /^[0-9]+$/

const server = createServer((request, response) => {
  const url = request.url ?? "/"
  if (request.method !== "GET") return send(response, 404, notFound)
  const query = url.indexOf("?")
  const path = query === -1 ? url : url.slice(0, query)
  if (path === "/api/products") {
    const params = new URLSearchParams(query === -1 ? "" : url.slice(query + 1))
    const limitText = params.get("limit") ?? "20"
    const offsetText = params.get("offset") ?? "0"
    if (!digits.test(limitText) || !digits.test(offsetText)) return send(response, 400, { message: "bad number" })
    const limit = Number(limitText)
    const offset = Number(offsetText)
    if (limit < 1 || limit > 100) return send(response, 400, { message: "limit must be 1 to 100" })
    // One row more than the page tells whether a next page (and its cursor) exists.
    const rows = productPage.all(limit + 1, offset) as unknown as Array<ProductRow>
    const page = rows.slice(0, limit)
    const last = page.at(-1)
    const { total } = productCount.get() as { total: number }
    const nextCursor = rows.length > limit && last !== undefined ? newestCursor(last) : null
    return send(response, 200, { items: assemble(page), total, limit, offset, nextCursor })
  }
  if (path.startsWith("/api/products/") && path.indexOf("/", "/api/products/".length) === -1) {
    let productId: string
    try {
      productId = decodeURIComponent(path.slice("/api/products/".length))
    } catch {
      return send(response, 400, { message: "bad product id" })
    }
    const row = productById.get(productId) as ProductRow | undefined
    if (row === undefined) return send(response, 404, { _tag: "ProductNotFound" })
    return send(response, 200, assemble([row])[0])
  }
  if (path === "/health") return send(response, 200, { status: "ok" })
  return send(response, 404, notFound)
})

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close()
    // Keep-alive sockets of a stopped load run would hold close() open.
    server.closeAllConnections()
    catalog.close()
    inventory.close()
  })
}

server.listen(port, host)
