import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { assert, it as effectIt } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { Carts } from "@shop/cart/Carts"
import { Catalog } from "@shop/catalog/Catalog"
import { Cart } from "@shop/domain/Cart"
import { ProductPage } from "@shop/domain/Catalog"
import { CartId } from "@shop/domain/Ids"
import { errorBody, json } from "@shop/testing/Client"
import { afterAll, describe, expect, it } from "vitest"
import * as Databases from "../src/Databases.ts"
import * as Seed from "../src/Seed.ts"
import * as Services from "../src/Services.ts"
import * as Settings from "../src/Settings.ts"
import { type ShopProcess, startShop, waitForLine } from "./ShopProcess.ts"

// The cart on the node runtime: kept in cart.sqlite across restarts, expired
// after CART_TTL_SECONDS of idleness and swept from the file, and cheap in SQL.

const jwtSecret = "node-cart-jwt-secret-0123456789abcdef"

const tempDir = () => mkdtempSync(join(tmpdir(), "shop-node-cart-"))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Reply {
  readonly status: number
  readonly body: unknown
}

const call = async (origin: string, method: string, path: string, body?: unknown): Promise<Reply> => {
  const response = await fetch(`${origin}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body)
  })
  const text = await response.text()
  return { status: response.status, body: text.length > 0 ? JSON.parse(text) : undefined }
}

const cartOf = (reply: Reply, status = 200) => {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status)
  return json(reply, Cart)
}

// Two demo products with stock to spare: one with a single variant, one with several.
const pickProducts = async (origin: string) => {
  const page = json(await call(origin, "GET", "/api/products?limit=100"), ProductPage)
  const single = page.items.find((p) => p.variants.length === 1 && (p.variants[0]?.available ?? 0) >= 5)
  const multi = page.items.find((p) => p.variants.length > 1 && p.variants.every((v) => v.available >= 5))
  if (single === undefined || multi === undefined)
    throw new Error("the demo catalog lacks the products this test needs")
  return { single, multi }
}

// Rows of a cart in the shop's own cart.sqlite, read beside the running
// process (WAL lets a second connection read while it writes).
const cartRows = (dataDir: string, cartId: string) => {
  const db = new DatabaseSync(join(dataDir, "cart.sqlite"), { readOnly: true })
  try {
    const row = db.prepare("SELECT COUNT(*) AS n FROM carts WHERE cart_id = ?").get(cartId)
    return Number(row?.["n"])
  } finally {
    db.close()
  }
}

describe("node runtime: a cart survives a restart", () => {
  const dataDir = tempDir()
  let shop: ShopProcess | undefined
  afterAll(async () => {
    await shop?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it("keeps the same items and summary in cart.sqlite, and goes on changing it", async () => {
    const env = { DATA_DIR: dataDir, JWT_SECRET: jwtSecret }
    shop = await startShop(env)
    const { multi, single } = await pickProducts(shop.origin)
    const variant = multi.variants[1]!
    const created = cartOf(await call(shop.origin, "POST", "/api/cart/init"), 201)
    const path = `/api/cart/${created.cartId}`
    cartOf(await call(shop.origin, "POST", `${path}/add`, { productId: single.productId, quantity: 2 }))
    cartOf(
      await call(shop.origin, "POST", `${path}/add`, {
        productId: multi.productId,
        variantId: variant.variantId,
        quantity: 1
      })
    )
    const before = cartOf(await call(shop.origin, "GET", path))
    expect(before.items.map((line) => [line.variantId, line.quantity])).toEqual([
      [single.variants[0]!.variantId, 2],
      [variant.variantId, 1]
    ])
    expect(before.summary.subtotal.amount).toBe(single.variants[0]!.price.amount * 2 + variant.price.amount)
    expect(statSync(join(dataDir, "cart.sqlite")).isFile()).toBe(true)

    expect(await shop.stop()).toEqual({ code: 0, signal: null })
    shop = await startShop(env)

    // Read from the file by a process that never saw it: the whole cart, as it was.
    const after = cartOf(await call(shop.origin, "GET", path))
    expect(after).toEqual(before)
    const more = cartOf(
      await call(shop.origin, "POST", `${path}/add`, {
        productId: multi.productId,
        variantId: variant.variantId,
        quantity: 2
      })
    )
    expect(more.items.map((line) => line.quantity)).toEqual([2, 3])
  })
})

describe("node runtime: an idle cart expires", () => {
  const dataDir = tempDir()
  let shop: ShopProcess | undefined
  afterAll(async () => {
    await shop?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it("after CART_TTL_SECONDS without a change: 404 cart_not_found, and the sweep deletes its row", async () => {
    const ttlSeconds = 3
    shop = await startShop({ DATA_DIR: dataDir, JWT_SECRET: jwtSecret, CART_TTL_SECONDS: String(ttlSeconds) })
    const { single } = await pickProducts(shop.origin)
    const created = cartOf(await call(shop.origin, "POST", "/api/cart/init"), 201)
    const path = `/api/cart/${created.cartId}`
    const added = cartOf(await call(shop.origin, "POST", `${path}/add`, { productId: single.productId, quantity: 1 }))
    const addedAt = Date.now()
    expect(Date.parse(added.expiresAt) - addedAt).toBeLessThanOrEqual(ttlSeconds * 1000)
    expect(cartRows(dataDir, created.cartId)).toBe(1)

    // A change renews the idle time: past the first expiry, the cart is still there.
    await sleep(1500)
    const renewed = cartOf(await call(shop.origin, "POST", `${path}/add`, { productId: single.productId, quantity: 1 }))
    const renewedAt = Date.now()
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThan(Date.parse(added.expiresAt))
    await sleep(addedAt + ttlSeconds * 1000 + 300 - Date.now())
    expect(cartOf(await call(shop.origin, "GET", path)).items[0]?.quantity).toBe(2)

    // Then left alone: gone.
    await sleep(renewedAt + ttlSeconds * 1000 + 300 - Date.now())
    const gone = await call(shop.origin, "GET", path)
    expect(gone.status).toBe(404)
    expect(errorBody(gone).error).toBe("cart_not_found")
    const refused = await call(shop.origin, "POST", `${path}/add`, { productId: single.productId, quantity: 1 })
    expect(refused.status).toBe(404)

    // The sweep runs every min(TTL, 60 s): within a few seconds the row is gone from the file.
    const deadline = Date.now() + 10_000
    while (cartRows(dataDir, created.cartId) > 0) {
      if (Date.now() > deadline) throw new Error(`the sweep left cart ${created.cartId} in cart.sqlite`)
      await sleep(200)
    }
    await waitForLine(shop, (entry) => entry.message === "Removed expired carts" && Number(entry["removed"]) >= 1)
  })
})

// SQL statements of one add-to-cart, through the same service graph
// `npm start` builds (Services.ts: catalog with its product cache, inventory,
// cart with its store's copy of hot carts, fulfillment, coupons), each
// database reporting what it runs.
describe("node runtime: SQL statements of an add-to-cart", () => {
  const dataDir = tempDir()
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  const statements: Array<{ readonly database: string; readonly sql: string }> = []
  const services = Services.layer.pipe(
    Layer.provideMerge(Settings.layer),
    Layer.provide(
      ConfigProvider.layer(
        ConfigProvider.fromEnv({ env: { DATA_DIR: dataDir, JWT_SECRET: jwtSecret, LOG_LEVEL: "warn" } })
      )
    ),
    Layer.provide(
      Layer.succeed(Databases.StatementObserver, (database, sql) => {
        statements.push({ database, sql: sql.replace(/\s+/g, " ").trim() })
      })
    )
  )

  const counted = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.gen(function* () {
      statements.splice(0)
      const value = yield* effect
      return { value, statements: [...statements] }
    })

  const maxStatements = 5
  const describeStatements = (list: ReadonlyArray<{ database: string; sql: string }>) =>
    list.map(({ database, sql }) => `${database}: ${sql}`).join("\n")

  effectIt.live(`costs at most ${maxStatements} statements with an existing line and with a new line`, () =>
    Effect.gen(function* () {
      yield* Seed.seedIfEmpty()
      const catalog = yield* Catalog
      const carts = yield* Carts
      const page = yield* catalog.list({ limit: 100, offset: 0, sort: "newest" })
      const [first, second] = page.items.filter((p) => p.variants.some((v) => v.available >= 5))
      assert.isDefined(first)
      assert.isDefined(second)
      const firstVariant = first!.variants.find((v) => v.available >= 5)!
      const secondVariant = second!.variants.find((v) => v.available >= 5)!
      const cartId = CartId.make(`cart_nodecount${"0".repeat(15)}`)
      yield* carts.create({ cartId, userId: null })
      yield* carts.add({
        cartId,
        caller: null,
        productId: first!.productId,
        variantId: firstVariant.variantId,
        quantity: 1
      })

      const existingLine = yield* counted(
        carts.add({ cartId, caller: null, productId: first!.productId, variantId: firstVariant.variantId, quantity: 1 })
      )
      assert.deepStrictEqual(
        existingLine.value.items.map((line) => line.quantity),
        [2]
      )
      const newLine = yield* counted(
        carts.add({
          cartId,
          caller: null,
          productId: second!.productId,
          variantId: secondVariant.variantId,
          quantity: 1
        })
      )
      assert.deepStrictEqual(
        newLine.value.items.map((line) => line.variantId),
        [firstVariant.variantId, secondVariant.variantId]
      )
      // The cart is saved by exactly one statement, and read by none (its copy is in memory).
      for (const { statements: list } of [existingLine, newLine]) {
        assert.deepStrictEqual(
          list.filter((s) => s.database === "cart").map((s) => s.sql.split(" ")[0]),
          ["INSERT"],
          describeStatements(list)
        )
      }
      assert.isAtMost(existingLine.statements.length, maxStatements, describeStatements(existingLine.statements))
      assert.isAtMost(newLine.statements.length, maxStatements, describeStatements(newLine.statements))
    }).pipe(Effect.provide(services))
  )

  // Every change re-reads every line's product; their stock is read together
  // (Inventory answers the availability of calls that arrive together with
  // one read), so an add to a cart of 20 products costs the statements of
  // an add to a cart of one.
  effectIt.live("costs as many statements on a cart of 20 products as on a cart of 1", () =>
    Effect.gen(function* () {
      yield* Seed.seedIfEmpty()
      const catalog = yield* Catalog
      const carts = yield* Carts
      const page = yield* catalog.list({ limit: 100, offset: 0, sort: "newest" })
      const lines = page.items.flatMap((p) => {
        const variant = p.variants.find((v) => v.available >= 5)
        return variant === undefined ? [] : [{ productId: p.productId, variantId: variant.variantId }]
      })
      assert.isAtLeast(lines.length, 20)
      const addTo = (cartId: CartId, line: (typeof lines)[number]) =>
        carts.add({ cartId, caller: null, ...line, quantity: 1 })
      const small = CartId.make(`cart_nodesmall${"0".repeat(15)}`)
      const large = CartId.make(`cart_nodelarge${"0".repeat(15)}`)
      yield* carts.create({ cartId: small, userId: null })
      yield* carts.create({ cartId: large, userId: null })
      yield* addTo(small, lines[0]!)
      for (const line of lines.slice(0, 20)) yield* addTo(large, line)

      const onSmall = yield* counted(addTo(small, lines[0]!))
      const onLarge = yield* counted(addTo(large, lines[0]!))
      assert.strictEqual(onLarge.value.items.length, 20)
      assert.strictEqual(onLarge.value.items[0]?.quantity, 2)
      assert.strictEqual(
        onLarge.statements.length,
        onSmall.statements.length,
        `1 line:\n${describeStatements(onSmall.statements)}\n20 lines:\n${describeStatements(onLarge.statements)}`
      )
    }).pipe(Effect.provide(services))
  )
})
