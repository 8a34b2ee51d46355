import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, describe, expect, it } from "vitest"
import { LoginResult } from "@shop/domain/Auth"
import { ProductPage } from "@shop/domain/Catalog"
import { StockLevel } from "@shop/domain/Inventory"
import { json } from "@shop/testing/Client"
import { type ShopProcess, startShop, waitForLine } from "./ShopProcess.ts"

// Issue 9: a SIGKILL during parallel product creates once left a product whose
// variants had no stock row, and such a product could never get stock. Here
// the node process is killed mid-load several times; after a restart, every
// listed product's every variant must have a stock level an admin can set.
// The catalog and inventory are separate SQLite files, so each create is a
// write to each with nothing atomic around the pair.

const jwtSecret = "crash-safety-jwt-secret-0123456789abcdef"
const adminSecret = "crash-safety-admin-secret"
const dataDir = mkdtempSync(join(tmpdir(), "shop-crash-"))
const env = { DATA_DIR: dataDir, JWT_SECRET: jwtSecret, ADMIN_SECRET: adminSecret, LOG_LEVEL: "info" }

afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Json {
  readonly status: number
  readonly body: unknown
}

const call = async (origin: string, method: string, path: string, body?: unknown, token?: string): Promise<Json> => {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers["content-type"] = "application/json"
  if (token !== undefined) headers["authorization"] = `Bearer ${token}`
  const response = await fetch(`${origin}${path}`, {
    method,
    headers,
    body: body === undefined ? null : JSON.stringify(body)
  })
  const text = await response.text()
  return { status: response.status, body: text.length > 0 ? JSON.parse(text) : undefined }
}

// Creates products from `workers` loops at once until the process dies under
// them; counts the creates that were answered 201.
const createUntilKilled = (shop: ShopProcess, token: string, round: number, workers: number) => {
  let created = 0
  let stopped = false
  const loops = Array.from({ length: workers }, async (_, worker) => {
    for (let n = 0; !stopped; n++) {
      const sku = `CRASH-${round}-${worker}-${n}`
      const variants = 1 + (n % 3)
      try {
        const response = await call(
          shop.origin,
          "POST",
          "/api/admin/products",
          {
            sku,
            title: `Crash ${sku}`,
            variants: Array.from({ length: variants }, (_, i) => ({
              sku: `${sku}-${i}`,
              price: { amount: 1000 + i, currency: "USD" },
              stock: 5
            }))
          },
          token
        )
        if (response.status === 201) created++
        else throw new Error(`create answered ${response.status}: ${JSON.stringify(response.body)}`)
      } catch (error) {
        // The connection dies with the process; anything else is a failure.
        if (error instanceof TypeError) return
        throw error
      }
    }
  })
  return {
    stop: async () => {
      stopped = true
      await Promise.all(loops)
      return created
    }
  }
}

// Stock rows of inventory.sqlite that no variant of catalog.sqlite claims,
// read while the shop is down.
const orphanRows = () => {
  const catalog = new DatabaseSync(join(dataDir, "catalog.sqlite"), { readOnly: true })
  const inventory = new DatabaseSync(join(dataDir, "inventory.sqlite"), { readOnly: true })
  try {
    const claimed = new Set(
      catalog
        .prepare("SELECT variant_id AS id FROM variants")
        .all()
        .map((row) => String(row["id"]))
    )
    return inventory
      .prepare("SELECT variant_id AS id FROM stock_levels")
      .all()
      .map((row) => String(row["id"]))
      .filter((id) => !claimed.has(id))
  } finally {
    catalog.close()
    inventory.close()
  }
}

describe("Crash safety of product creation on node", () => {
  it("SIGKILL during parallel creates, five times: after a restart every listed variant has stock that can be set", async () => {
    let shop = await startShop(env)
    const signup = await fetch(`${shop.origin}/api/auth/admin/signup`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-admin-secret": adminSecret },
      body: JSON.stringify({ email: "crash-admin@example.com", password: "crash-admin-password", name: "Admin" })
    })
    expect(signup.status).toBe(201)
    const login = await call(shop.origin, "POST", "/api/auth/login", {
      email: "crash-admin@example.com",
      password: "crash-admin-password"
    })
    expect(login.status).toBe(200)
    const token = json(login, LoginResult).accessToken

    let answered = 0
    for (let round = 0; round < 5; round++) {
      if (round > 0) shop = await startShop(env)
      const load = createUntilKilled(shop, token, round, 16)
      // Somewhere between 0.4 and 1 s into the load.
      await sleep(400 + Math.floor(Math.random() * 600))
      process.kill(shop.pid, "SIGKILL")
      expect((await shop.exited).signal).toBe("SIGKILL")
      answered += await load.stop()
    }
    expect(answered).toBeGreaterThan(0)

    // What the kills left: stock rows of creates killed between their writes
    // (the product never appeared). Aged here as if the grace period had
    // passed, so the pass at the next start removes them.
    const orphans = orphanRows()
    const inventoryDb = new DatabaseSync(join(dataDir, "inventory.sqlite"))
    const age = inventoryDb.prepare("UPDATE stock_levels SET updated_at = 0 WHERE variant_id = ?")
    for (const id of orphans) age.run(id)
    inventoryDb.close()
    // And what the old order (product first) left on such a kill, written
    // straight into the file: a product whose variant has no stock row.
    const catalogDb = new DatabaseSync(join(dataDir, "catalog.sqlite"))
    catalogDb
      .prepare(
        `INSERT INTO products (product_id, sku, title, description, category, category_key, title_key, search_text,
          images, min_price, currency, created_at, updated_at, revision)
         VALUES ('prd_oldorder', 'OLD-ORDER', 'Old order', '', 'crash', 'crash', 'old order', 'old order',
          '[]', 500, 'USD', 1, 1, 'rev_oldorder')`
      )
      .run()
    catalogDb
      .prepare(
        `INSERT INTO variants (variant_id, product_id, position, sku, title, price, currency, attributes, weight_grams)
         VALUES ('var_oldorder', 'prd_oldorder', 0, 'OLD-ORDER-0', 'Default', 500, 'USD', '{}', 0)`
      )
      .run()
    catalogDb.close()

    shop = await startShop(env)
    try {
      // The pass at start: the old-order product gets its stock row, the aged
      // orphans are removed.
      const reconciled = await waitForLine(
        shop,
        (entry) => entry["message"] === "Reconciled the catalog with inventory"
      )
      expect(reconciled["stockCreated"]).toBe(1)
      expect(reconciled["stockRemoved"]).toBe(orphans.length)

      const listed: Array<{ readonly sku: string; readonly variantIds: ReadonlyArray<string> }> = []
      for (let offset = 0; ; offset += 100) {
        const page = await call(shop.origin, "GET", `/api/products?limit=100&offset=${offset}`)
        expect(page.status).toBe(200)
        for (const product of json(page, ProductPage).items) {
          listed.push({ sku: product.sku, variantIds: product.variants.map((v) => v.variantId) })
        }
        if (listed.length >= json(page, ProductPage).total) break
      }
      const variants = listed.flatMap((product) =>
        product.variantIds.map((variantId) => ({ sku: product.sku, variantId }))
      )
      // Checked 32 at a time: thousands of variants, two requests each.
      const check = async ({ sku, variantId }: { sku: string; variantId: string }) => {
        const level = await call(shop.origin, "GET", `/api/admin/inventory/${variantId}`, undefined, token)
        expect(level.status, `${sku} ${variantId}`).toBe(200)
        const set = await call(shop.origin, "PUT", `/api/admin/inventory/${variantId}`, { stock: 9 }, token)
        expect(set.status, `${sku} ${variantId}`).toBe(200)
        expect(json(set, StockLevel).stock).toBe(9)
      }
      let next = 0
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < variants.length) await check(variants[next++]!)
        })
      )
      const products = listed.length
      // Every create that was answered 201 is listed (plus the demo catalog
      // and the old-order product).
      expect(products).toBeGreaterThanOrEqual(answered + 1)
      expect(variants.length).toBeGreaterThan(products)
    } finally {
      await shop.stop()
    }
    expect(orphanRows()).toEqual([])
    // Six starts of the process dominate; on a busy machine each takes seconds.
  }, 120_000)
})
