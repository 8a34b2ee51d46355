import { Effect, Exit, Layer, Option } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { GatewayConfig } from "@shop/gateway/GatewayConfig"
import { describeFailure } from "@shop/observability/Settings"
import { baseSettings, describeSettings } from "@shop/testing/SettingsTable"
import * as Clients from "../src/Clients.ts"
import * as Settings from "../src/Settings.ts"
import { type Shop, startShop } from "./Shop.ts"

// Each Worker reads its own settings from its env record; the table runs
// the gateway's, the auth, cart and coupons Workers' declarations (and the
// service Workers' INTERNAL_SECRET) from one record.
const workers = (env: Readonly<Record<string, string>>) =>
  Layer.mergeAll(
    Settings.gateway,
    Settings.auth,
    Settings.cart,
    Settings.coupons,
    Settings.inventory,
    Settings.layerInternalSecret
  ).pipe(Layer.provide(Settings.provider(env)))

describeSettings("cloudflare", workers)

describe("settings only the Workers have", () => {
  const problem = (env: Record<string, string>) =>
    Effect.runPromiseExit(Layer.build(workers(env)).pipe(Effect.scoped)).then((exit) =>
      Exit.isFailure(exit) ? describeFailure(exit.cause) : undefined
    )

  it("JWT_SECRET has no default: a Worker without it is refused, naming it", async () => {
    const { JWT_SECRET: _, ...rest } = baseSettings
    expect(await problem(rest)).toMatch(/^Invalid configuration: JWT_SECRET: is required/)
  })

  it("INTERNAL_SECRET is required and at least 32 characters", async () => {
    const { INTERNAL_SECRET: _, ...rest } = baseSettings
    expect(await problem(rest)).toMatch(/^Invalid configuration: INTERNAL_SECRET: is required/)
    expect(await problem({ ...baseSettings, INTERNAL_SECRET: "short" })).toMatch(
      /^Invalid configuration: INTERNAL_SECRET: must be at least 32 characters/
    )
  })

  it("CART_TTL_SECONDS (the cart Worker's) is a whole number of seconds from 1, refused naming it", async () => {
    expect(await problem({ ...baseSettings, CART_TTL_SECONDS: "60" })).toBeUndefined()
    for (const value of ["0", "soon", "1.5"]) {
      expect(await problem({ ...baseSettings, CART_TTL_SECONDS: value })).toMatch(
        /^Invalid configuration: CART_TTL_SECONDS: /
      )
    }
  })

  it("the client address comes from cf-connecting-ip unless CLIENT_IP_HEADER says otherwise", async () => {
    const header = (env: Record<string, string>) =>
      Effect.runPromise(
        Effect.map(GatewayConfig, (config) => Option.getOrNull(config.clientIpHeader)).pipe(
          Effect.provide(workers(env))
        )
      )
    expect(await header(baseSettings)).toBe("cf-connecting-ip")
    expect(await header({ ...baseSettings, CLIENT_IP_HEADER: "x-real-ip" })).toBe("x-real-ip")
  })

  it("without a binding, <SERVICE>_URL must be https (plain http only to loopback) and INTERNAL_SECRET long enough", async () => {
    const build = (env: Record<string, string>) =>
      Effect.runPromiseExit(
        Layer.build(Clients.auth(undefined)).pipe(Effect.scoped, Effect.provide(Settings.provider(env)))
      ).then((exit) => (Exit.isFailure(exit) ? describeFailure(exit.cause) : "built"))
    const secret = baseSettings.INTERNAL_SECRET!
    expect(await build({ AUTH_URL: "https://auth.shop.example", INTERNAL_SECRET: secret })).toBe("built")
    expect(await build({ AUTH_URL: "http://127.0.0.1:9000", INTERNAL_SECRET: secret })).toBe("built")
    expect(await build({ AUTH_URL: "http://auth.shop.example", INTERNAL_SECRET: secret })).toMatch(
      /^Invalid configuration: AUTH_URL: must be an https:\/\/ URL/
    )
    expect(await build({ AUTH_URL: "https://auth.shop.example", INTERNAL_SECRET: "short" })).toMatch(
      /^Invalid configuration: INTERNAL_SECRET: must be at least 32 characters/
    )
  })

  it("only string values of the env are settings; bindings are not", () => {
    expect(Settings.configValues({ LOG_LEVEL: "info", DB: {}, AUTH: () => undefined })).toEqual({ LOG_LEVEL: "info" })
  })
})

type LogLine = { readonly level?: string; readonly service?: string; readonly message?: string }

const jsonLines = (shop: Shop): ReadonlyArray<LogLine> =>
  shop.harness.getLogs().flatMap((log) => {
    try {
      return [JSON.parse(log.message) as LogLine]
    } catch {
      return []
    }
  })

describe("Workers under workerd with LOG_LEVEL=info (lower case, as the README writes it)", () => {
  let shop: Shop
  beforeAll(async () => {
    shop = await startShop({ vars: { LOG_LEVEL: "info" } })
  })
  afterAll(() => shop?.close())

  it("serves the shop, through the gateway and the service Workers", async () => {
    expect((await shop.fetch(new Request("http://shop.test/health"))).status).toBe(200)
    const products = await shop.fetch(new Request("http://shop.test/api/products?limit=1"))
    expect(products.status).toBe(200)
    // Info lines are logged, as JSON with the Worker's name.
    expect(jsonLines(shop).some((line) => line.level === "info" && line.service === "shop-gateway")).toBe(true)
  })
})

describe("Workers under workerd with a refused setting", () => {
  let shop: Shop
  beforeAll(async () => {
    shop = await startShop({ vars: { LOG_LEVEL: "loud" } })
  })
  afterAll(() => shop?.close())

  it("the gateway answers every request 500 internal_error and logs one line naming the setting", async () => {
    for (const path of ["/health", "/api/products", "/openapi.json"]) {
      const response = await shop.fetch(new Request(`http://shop.test${path}`))
      expect(response.status).toBe(500)
      expect(await response.json()).toEqual({ error: "internal_error", message: "Something went wrong on our side" })
    }
    const fatal = jsonLines(shop).filter((line) => line.level === "fatal" && line.service === "shop-gateway")
    expect(fatal.length).toBeGreaterThanOrEqual(3)
    for (const line of fatal) expect(line.message).toMatch(/^Invalid configuration: LOG_LEVEL: must be one of/)
  })

  it("a service Worker answers its URL door 500 internal_error and logs the same kind of line", async () => {
    const response = await shop.workerFetch("shop-auth")(
      new Request("http://auth.internal/internal/auth/me", { method: "POST", body: "{}" })
    )
    expect(response.status).toBe(500)
    expect(await response.json()).toMatchObject({ error: "internal_error" })
    const fatal = jsonLines(shop).filter((line) => line.level === "fatal" && line.service === "shop-auth")
    expect(fatal[0]?.message).toMatch(/^Invalid configuration: LOG_LEVEL: /)
  })

  it("a cart's object fails the call (the gateway's 502) and logs the same kind of line", async () => {
    const remote = (await shop.harness.getWorker("shop-cart").getExport()) as unknown as {
      readonly call: (messages: unknown) => Promise<unknown>
    }
    const get = { _tag: "Request", id: "1", tag: "get", headers: [] }
    const payload = { cartId: "cart_AAAAAAAAAAAAAAAAAAAAAAAA", caller: null }
    // Miniflare's proxy may throw synchronously; a binding's call rejects.
    await expect((async () => remote.call([{ ...get, payload }]))()).rejects.toThrow(/LOG_LEVEL/)
    // The object's log lines reach the harness a moment after the call fails.
    const fatalLines = () => jsonLines(shop).filter((line) => line.level === "fatal" && line.service === "shop-cart")
    const deadline = Date.now() + 5_000
    while (fatalLines().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(fatalLines()[0]?.message).toMatch(/^Invalid configuration: LOG_LEVEL: /)
  })
})
