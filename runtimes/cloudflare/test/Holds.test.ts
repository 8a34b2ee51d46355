import { assert, it as effectIt } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { HoldExpired } from "@shop/domain/Errors"
import { VariantId } from "@shop/domain/Ids"
import { HoldId } from "@shop/domain/Inventory"
import { InventoryRpcs } from "@shop/domain/ServiceContracts"
import { makeClient } from "@shop/domain/ServiceTransport"
import { randomBytes } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createTestHarness, unstable_readConfig } from "wrangler"
import type { ServiceBinding } from "../src/Env.ts"
import { newNonce } from "../src/Signing.ts"
import * as Transports from "../src/Transports.ts"
import { root, type Shop, startShop, workerNames } from "./Shop.ts"

// Holds expire on Workers without anyone touching them: the inventory
// Worker's Cron Trigger (inventory/wrangler.jsonc) runs its scheduled
// handler, which returns the stock of every hold past its expiry.
//
// A Workers set of its own, with HOLD_TTL_SECONDS=1 for the inventory Worker
// only, so that a hold placed with the default TTL expires within the test
// while the other test files keep the default. The harness does not fire a
// cron by itself (a hold left alone there kept its stock for over a minute), so
// every scheduled run below is one the test fires with
// `getWorker(name).scheduled()`, and what it finds is what the test left.
//
// Holds have no public HTTP route yet: they are placed through the inventory
// Worker's RPC door, with the same client and transport as the gateway and
// the cart use over their INVENTORY binding, so the hold goes through the
// real contract and typed failures come back as their own classes. Stock is
// read as a shopper and an admin see it, through the gateway.

const cron = "* * * * *"

const holdId = () => Schema.decodeSync(HoldId)(`res_${newNonce()}`)

const json = async (response: Response) => ({
  status: response.status,
  body: (await response.json()) as Record<string, unknown>
})

describe("inventory Worker, Cron Trigger", () => {
  let shop: Shop
  let call: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => ReturnType<typeof json>
  let admin: Record<string, string>

  beforeAll(async () => {
    shop = await startShop({ inventoryVars: { HOLD_TTL_SECONDS: "1" } })
    call = async (method, path, body, headers = {}) =>
      json(
        await shop.fetch(
          new Request(`http://shop.test${path}`, {
            method,
            headers: { "content-type": "application/json", ...headers },
            ...(body === undefined ? {} : { body: JSON.stringify(body) })
          })
        )
      )
    const email = `holds-admin-${newNonce().slice(0, 12)}@example.com`
    const password = "correct horse battery"
    const signup = await call(
      "POST",
      "/api/auth/admin/signup",
      { email, password, name: "Admin" },
      { "x-admin-secret": shop.secrets.ADMIN_SECRET }
    )
    expect(signup.status).toBe(201)
    const login = await call("POST", "/api/auth/login", { email, password })
    expect(login.status).toBe(200)
    admin = { authorization: `Bearer ${String(login.body["accessToken"])}` }
  })

  afterAll(async () => {
    await shop?.close()
  })

  // A product of one variant with `stock` units, created through the gateway.
  const stockedVariant = async (stock: number) => {
    const sku = `HOLD-${newNonce().slice(0, 10).toUpperCase()}`
    const created = await call(
      "POST",
      "/api/admin/products",
      { sku, title: "Hold test", variants: [{ sku: `${sku}-1`, price: { amount: 500, currency: "USD" }, stock }] },
      admin
    )
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const variants = created.body["variants"] as ReadonlyArray<{ variantId: string }>
    return {
      productId: String(created.body["productId"]),
      variantId: Schema.decodeSync(VariantId)(variants[0]!.variantId)
    }
  }

  // The inventory service as the gateway's binding reaches it.
  const inventoryClient = Effect.gen(function* () {
    const exported = yield* Effect.promise(() => shop.harness.getWorker(workerNames.inventory).getExport())
    const remote = exported as unknown as ServiceBinding
    // Miniflare's proxy of the export may answer synchronously; a binding's
    // method returns a promise.
    const stub: ServiceBinding = { call: async (messages) => remote.call(messages) }
    return yield* makeClient(InventoryRpcs, "Inventory").pipe(Effect.provide(Transports.binding("inventory", stub)))
  })

  const adminLevel = (variantId: string) =>
    Effect.promise(() => call("GET", `/api/admin/inventory/${variantId}`, undefined, admin))
  const catalogAvailable = (productId: string) =>
    Effect.promise(async () => {
      const product = await call("GET", `/api/products/${productId}`)
      expect(product.status).toBe(200)
      return (product.body["variants"] as ReadonlyArray<{ available: number }>)[0]!.available
    })

  const fireCron = Effect.promise(() =>
    shop.harness.getWorker(workerNames.inventory).scheduled({ cron, scheduledTime: new Date() })
  )

  // The inventory Worker's JSON log lines written by a scheduled run.
  const cronLines = () =>
    shop.harness.getLogs().flatMap((log) => {
      try {
        const line = JSON.parse(log.message) as Record<string, unknown>
        return line["service"] === workerNames.inventory && line["via"] === "cron" ? [line] : []
      } catch {
        return []
      }
    })

  effectIt.live(
    "a hold past its expiry gives its stock back on the next scheduled run, and committing it then fails",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { productId, variantId } = yield* Effect.promise(() => stockedVariant(10))
          const inventory = yield* inventoryClient
          const id = holdId()
          // No ttlSeconds: the Worker's HOLD_TTL_SECONDS, 1 s.
          const hold = yield* inventory.reserve({ holdId: id, lines: [{ variantId, quantity: 3 }] })
          assert.strictEqual(hold.status, "active")
          assert.strictEqual(Date.parse(hold.expiresAt) - Date.parse(hold.createdAt), 1000)
          assert.deepStrictEqual(yield* adminLevel(variantId), {
            status: 200,
            body: { variantId, stock: 10, reserved: 3, available: 7 }
          })
          assert.strictEqual(yield* catalogAvailable(productId), 7)

          // Past the expiry, nothing has given the stock back yet: reads of
          // stock do not touch holds, and only the hold's own calls or the
          // cron would.
          yield* Effect.sleep(Math.max(0, Date.parse(hold.expiresAt) + 250 - Date.now()))
          assert.deepStrictEqual((yield* adminLevel(variantId)).body, {
            variantId,
            stock: 10,
            reserved: 3,
            available: 7
          })

          shop.harness.clearLogs()
          const outcome = yield* fireCron
          assert.strictEqual(outcome.outcome, "ok")
          // The scheduled handler returns once the sweep is done.
          assert.deepStrictEqual(yield* adminLevel(variantId), {
            status: 200,
            body: { variantId, stock: 10, reserved: 0, available: 10 }
          })
          assert.strictEqual(yield* catalogAvailable(productId), 10)

          // One line, saying how many (log lines reach the harness a moment
          // after they are written).
          const deadline = Date.now() + 5_000
          while (cronLines().length === 0 && Date.now() < deadline) yield* Effect.sleep(50)
          const lines = cronLines()
          assert.strictEqual(lines.length, 1, JSON.stringify(lines))
          expect(lines[0]).toMatchObject({ level: "info", message: "Expired holds", expired: 1, cron })

          // The hold is expired for good: the commit fails, and the stock is
          // not given back twice.
          const refused = yield* Effect.flip(inventory.commit({ holdId: id }))
          assert.instanceOf(refused, HoldExpired)
          assert.strictEqual(refused.error, "hold_expired")
          assert.strictEqual((yield* inventory.getHold({ holdId: id })).status, "expired")
          assert.deepStrictEqual((yield* adminLevel(variantId)).body, {
            variantId,
            stock: 10,
            reserved: 0,
            available: 10
          })
        })
      )
  )

  effectIt.live("a scheduled run with nothing due changes nothing and logs nothing", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { variantId } = yield* Effect.promise(() => stockedVariant(5))
        const inventory = yield* inventoryClient
        const id = holdId()
        // A hold that is not due for ten minutes, beside the expired one of
        // the test above (already swept).
        yield* inventory.reserve({ holdId: id, lines: [{ variantId, quantity: 2 }], ttlSeconds: 600 })

        shop.harness.clearLogs()
        for (let run = 0; run < 2; run++) assert.strictEqual((yield* fireCron).outcome, "ok")
        // Give a line written by the runs the time to reach the harness.
        yield* Effect.sleep(500)
        assert.deepStrictEqual(cronLines(), [])

        assert.deepStrictEqual((yield* adminLevel(variantId)).body, { variantId, stock: 5, reserved: 2, available: 3 })
        assert.strictEqual((yield* inventory.getHold({ holdId: id })).status, "active")
      })
    )
  )

  // The catalog Worker's Cron Trigger runs the reconciliation with inventory:
  // a variant whose stock row is gone (what a crash between a create's two
  // writes could leave with the old write order) gets one back, stock 0.
  effectIt.live("the catalog Worker's scheduled run gives a variant without a stock row one (stock 0)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { variantId } = yield* Effect.promise(() => stockedVariant(4))
        const inventory = yield* inventoryClient
        yield* inventory.remove({ variantIds: [variantId] })
        assert.strictEqual((yield* adminLevel(variantId)).status, 404)
        yield* Effect.promise(() =>
          shop.harness.getWorker(workerNames.catalog).scheduled({ cron: "*/15 * * * *", scheduledTime: new Date() })
        )
        const repaired = yield* adminLevel(variantId)
        assert.strictEqual(repaired.status, 200)
        assert.deepStrictEqual(repaired.body, { variantId, stock: 0, reserved: 0, available: 0 })
        const restocked = yield* Effect.promise(() =>
          call("PUT", `/api/admin/inventory/${variantId}`, { stock: 6 }, admin)
        )
        assert.strictEqual(restocked.status, 200)
      })
    )
  )
})

describe("inventory Worker, Cron Trigger, configuration", () => {
  it("declares the Cron Trigger, every minute", () => {
    const config = unstable_readConfig({ config: join(root, "inventory", "wrangler.jsonc") })
    expect(config.triggers.crons).toEqual([cron])
  })

  // The inventory Worker alone (it calls nothing, and a whole set takes far
  // longer to start), after the set above has stopped.
  it("a scheduled run of a Worker with a refused setting fails, with the one line naming it", async () => {
    // STACK.md sharp edge 7: offline, and a wrangler registry of its own.
    const home = await mkdtemp(join(tmpdir(), "shop-wrangler-"))
    process.env["XDG_CONFIG_HOME"] = home
    process.env["CLOUDFLARE_CF_FETCH_ENABLED"] = "false"
    process.env["WRANGLER_SEND_METRICS"] = "false"
    const harness = createTestHarness({
      root: home,
      workers: [
        {
          configPath: join(root, "inventory", "wrangler.jsonc"),
          vars: { HOLD_TTL_SECONDS: "0" },
          secrets: { INTERNAL_SECRET: randomBytes(32).toString("hex") }
        }
      ]
    })
    try {
      await harness.listen()
      const worker = harness.getWorker(workerNames.inventory)
      expect((await worker.scheduled({ cron, scheduledTime: new Date() })).outcome).toBe("exception")
      const lines = () =>
        harness.getLogs().flatMap((log) => {
          try {
            return [JSON.parse(log.message) as { service?: string; level?: string; message?: string }]
          } catch {
            return []
          }
        })
      const deadline = Date.now() + 5_000
      while (lines().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(lines()).toEqual([
        {
          timestamp: expect.any(String),
          level: "fatal",
          service: workerNames.inventory,
          message: expect.stringMatching(/^Invalid configuration: HOLD_TTL_SECONDS: /)
        }
      ])
    } finally {
      await harness.close()
      await rm(home, { recursive: true, force: true })
    }
  })
})
