import { Address, Me } from "@shop/domain/Auth"
import { Cart } from "@shop/domain/Cart"
import { Product, ProductPage } from "@shop/domain/Catalog"
import { Coupon, Coupons } from "@shop/domain/Coupons"
import { ShippingOptions, TaxRate, TaxRates } from "@shop/domain/Fulfillment"
import { StockLevel } from "@shop/domain/Inventory"
import { Schema } from "effect"
import * as Jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { baseUrl, type Call, client, errorBody, json, type Reply, uniqueEmail, uniqueSku } from "./Client.ts"
import { checkoutScenarios } from "./CheckoutScenarios.ts"
import { httpCacheScenarios } from "./HttpCacheScenarios.ts"
import { imageScenarios } from "./ImageScenarios.ts"
import { type Account, type Fixtures, fixtures, password, usd } from "./Fixtures.ts"

// What the black-box suite needs from a running shop: a way to send HTTP
// requests (a real socket or an in-process handler) and the two secrets the
// runtime was started with (admin bootstrap, and the JWT key to forge tokens
// that are well signed but expired or revoked).
export interface Target {
  readonly fetch: (request: Request) => Promise<Response>
  readonly adminSecret: string
  readonly jwtSecret: string
  // The fake PayPal the runtime pays with: where its approve links and its
  // control API live (`origin`), and a fetch that reaches it (a socket, or
  // the fake's handler in process).
  readonly paypal: { readonly origin: string; readonly fetch: (request: Request) => Promise<Response> }
}

export interface Runtime {
  readonly start: () => Promise<Target>
  readonly stop: () => Promise<void>
}

// The status, the code, and a body that is exactly `{ error, message, details? }`.
const expectError = (reply: Reply, status: number, error: string) => {
  expect({ status: reply.status, error: errorBody(reply).error }).toEqual({ status, error })
}

// Response bodies the contract gives no named schema for.
const OpenApiDocument = Schema.Struct({ openapi: Schema.String, paths: Schema.Record(Schema.String, Schema.Unknown) })
const Addresses = Schema.Struct({ addresses: Schema.Array(Address) })
const AddressReply = Schema.Struct({ address: Address })
const Login = Schema.Struct({ accessToken: Schema.String, expiresIn: Schema.Number })
// The rest (iat) is kept, so a tampered token differs only where it is meant to.
const Claims = Schema.fromJsonString(
  Schema.StructWithRest(Schema.Struct({ sid: Schema.String, sub: Schema.String, exp: Schema.Number }), [
    Schema.Record(Schema.String, Schema.Unknown)
  ])
)
const decodeClaims = Schema.decodeUnknownSync(Claims)

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
const claimsOf = (token: string) => decodeClaims(Buffer.from(token.split(".")[1] ?? "", "base64url").toString())

// The one black-box suite: every runtime (memory, node, Workers) runs exactly
// these scenarios against its own HTTP surface.
export const describeScenarios = (label: string, runtime: Runtime) => {
  describe(`scenarios: ${label}`, () => {
    let target: Target
    let api: (method: string, path: string, call?: Call) => Promise<Reply>
    let shop: Fixtures

    const address = {
      name: "Ada Lovelace",
      line1: "12 Analytical Way",
      city: "London",
      postalCode: "N1 9GU",
      country: "GB"
    }

    let user: Account
    let other: Account
    let admin: Account

    beforeAll(async () => {
      target = await runtime.start()
      api = client(target)
      shop = fixtures(target)
      user = await shop.newUser()
      other = await shop.newUser("other")
      admin = await shop.newAdmin()
    })
    afterAll(async () => {
      await runtime.stop()
    })

    describe("health and docs", () => {
      it("answers /health", async () => {
        const reply = await api("GET", "/health")
        expect(reply.status).toBe(200)
        expect(reply.body).toEqual({ status: "ok" })
        expect(reply.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._-]+$/)
      })

      it("keeps a well-formed incoming x-request-id", async () => {
        const reply = await api("GET", "/health", { headers: { "x-request-id": "req-abc.123" } })
        expect(reply.headers.get("x-request-id")).toBe("req-abc.123")
      })

      it("serves the OpenAPI document", async () => {
        const spec = await api("GET", "/openapi.json")
        expect(spec.status).toBe(200)
        const document = json(spec, OpenApiDocument)
        expect(document.openapi).toMatch(/^3\.1/)
        expect(Object.keys(document.paths)).toEqual(
          expect.arrayContaining([
            "/api/auth/login",
            "/api/products",
            "/api/products/{productId}",
            "/api/admin/inventory/{variantId}",
            "/api/admin/tax-rates",
            "/api/admin/tax-rates/{country}",
            "/api/admin/coupons",
            "/api/admin/coupons/{code}",
            "/api/cart/init",
            "/api/cart/{cartId}",
            "/api/cart/{cartId}/add",
            "/api/cart/{cartId}/shipping-options",
            "/api/cart/{cartId}/coupon/apply"
          ])
        )
      })

      it("serves /docs as Scalar's page, with Scalar's script from the shop itself", async () => {
        const docs = await api("GET", "/docs")
        expect(docs.status).toBe(200)
        expect(docs.headers.get("content-type")).toContain("text/html")
        expect(docs.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._-]+$/)
        expect(docs.headers.get("content-security-policy")).toContain("script-src 'self'")
        const page = json(docs, Schema.String)
        expect(page).toContain('data-url="openapi.json"')
        // Nothing from another origin (no CDN, no hosted fonts).
        expect(page).not.toMatch(/https?:\/\//)
        // The script the page loads, resolved as a browser would.
        const src = /<script src="([^"]+)"><\/script>/.exec(page)?.[1]
        expect(src).toBeDefined()
        const scriptPath = new URL(src ?? "", new URL("/docs", baseUrl)).pathname
        const script = await api("GET", scriptPath)
        expect(script.status).toBe(200)
        expect(script.headers.get("content-type")).toMatch(/^(text|application)\/javascript/)
        expect(script.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._-]+$/)
        const code = json(script, Schema.String)
        expect(code).toContain("@scalar/api-reference")
        expect(code).toContain("createApiReference")
        // Revalidated rather than downloaded again (3 MiB).
        const etag = script.headers.get("etag")
        expect(etag).not.toBeNull()
        const again = await api("GET", scriptPath, { headers: { "if-none-match": etag ?? "" } })
        expect(again.status).toBe(304)
      })
    })

    describe("transport errors have the standard body", () => {
      it("unknown route is 404 not_found", async () => {
        expectError(await api("GET", "/api/nope"), 404, "not_found")
      })

      it("wrong method is 405 with the allowed methods", async () => {
        const reply = await api("DELETE", "/api/auth/login")
        expectError(reply, 405, "method_not_allowed")
        expect(reply.headers.get("allow")).toContain("POST")
      })

      it("malformed JSON is 400 validation_error", async () => {
        expectError(await api("POST", "/api/auth/signup", { raw: '{"email": ' }), 400, "validation_error")
      })

      it("unknown fields are rejected", async () => {
        const reply = await api("POST", "/api/auth/signup", {
          body: { email: uniqueEmail(), password, name: "X", role: "admin" }
        })
        expectError(reply, 400, "validation_error")
        expect(JSON.stringify(errorBody(reply).details)).toContain("role")
      })

      it("wrong types are rejected and name the field", async () => {
        const reply = await api("POST", "/api/auth/signup", {
          body: { email: uniqueEmail(), password: 12345678, name: "X" }
        })
        expectError(reply, 400, "validation_error")
        expect(JSON.stringify(errorBody(reply).details)).toContain("password")
      })

      it("a non-JSON content type is 415", async () => {
        const reply = await api("POST", "/api/auth/login", {
          raw: "email=a",
          headers: { "content-type": "text/plain" }
        })
        expectError(reply, 415, "unsupported_media_type")
      })

      it("an oversized body is 413 and writes nothing", async () => {
        const email = uniqueEmail("big")
        // A valid signup padded past the 64 KiB limit with JSON whitespace: only
        // the size is wrong, so a missing limit would show as a 201.
        const reply = await api("POST", "/api/auth/signup", {
          raw: `{"email": ${JSON.stringify(email)}, "password": ${JSON.stringify(password)},${" ".repeat(70_000)}"name": "Big"}`
        })
        expectError(reply, 413, "payload_too_large")
        expectError(await api("POST", "/api/auth/login", { body: { email, password } }), 401, "invalid_credentials")
      })

      it("nothing a client can send is a 500", async () => {
        const cases: ReadonlyArray<readonly [string, string, Call]> = [
          ["GET", "/api/products/%E0%A4%A", {}],
          ["GET", `/api/products/${"a".repeat(3000)}`, {}],
          ["GET", "/api/products?limit=1&limit=2", {}],
          ["GET", "/api/products?q=%ZZ", {}],
          ["GET", "/api/products?minPrice=99999999999999999999", {}],
          ["POST", "/api/auth/signup", { raw: "null" }],
          ["POST", "/api/auth/signup", { raw: "[]" }],
          ["POST", "/api/auth/signup", { raw: "" }],
          ["POST", "/api/auth/signup", { raw: "[".repeat(5000) + "]".repeat(5000) }],
          [
            "POST",
            "/api/auth/signup",
            { raw: '{"email":"p@example.com","password":"password1","name":"A","__proto__":{"role":"admin"}}' }
          ],
          ["POST", "/api/auth/login", { body: { email: "a@example.com", password: "x".repeat(300) } }],
          ["GET", "/api/auth/me", { headers: { authorization: `Bearer ${"a".repeat(5000)}` } }],
          ["GET", "/api/auth/me", { headers: { authorization: "Bearer" } }],
          ["PATCH", "/api/products", {}],
          ["PUT", "/api/admin/inventory/%00", { body: { stock: 1 } }],
          ["POST", "/api/admin/products", { raw: '{"sku": "\u0000"}' }]
        ]
        for (const [method, path, call] of cases) {
          const reply = await api(method, path, call)
          expect(reply.status, `${method} ${path.slice(0, 40)}`).toBeLessThan(500)
          if (reply.status >= 400) expect(typeof errorBody(reply).error).toBe("string")
        }
      })

      it("answers CORS preflight on any path with 204", async () => {
        const reply = await api("OPTIONS", "/api/anything/at/all", {
          headers: { origin: "http://localhost:3000", "access-control-request-method": "POST" }
        })
        expect(reply.status).toBe(204)
        expect(reply.headers.get("access-control-allow-methods")).toContain("POST")
      })
    })

    describe("auth", () => {
      it("signs up, rejects a duplicate email case-insensitively", async () => {
        const { email } = await shop.signup()
        const again = await api("POST", "/api/auth/signup", {
          body: { email: email.toUpperCase(), password, name: "Dup" }
        })
        expectError(again, 409, "email_exists")
      })

      it("refuses text that is not well-formed Unicode or carries control characters", async () => {
        for (const body of [
          { email: uniqueEmail(), password: "\ud800".repeat(8), name: "X" },
          { email: uniqueEmail(), password, name: "tab\tis fine but nul\u0000 is not" },
          { email: `x\ud801${uniqueEmail()}`, password, name: "X" }
        ]) {
          expectError(await api("POST", "/api/auth/signup", { body }), 400, "validation_error")
        }
      })

      it("validates email and password length", async () => {
        expectError(
          await api("POST", "/api/auth/signup", { body: { email: "not-an-email", password, name: "X" } }),
          400,
          "validation_error"
        )
        expectError(
          await api("POST", "/api/auth/signup", { body: { email: uniqueEmail(), password: "short", name: "X" } }),
          400,
          "validation_error"
        )
        expectError(
          await api("POST", "/api/auth/signup", { body: { email: uniqueEmail(), password } }),
          400,
          "validation_error"
        )
      })

      it("logs in with any case of the email and returns a token with its lifetime", async () => {
        const { email } = await shop.signup()
        const reply = await api("POST", "/api/auth/login", { body: { email: email.toUpperCase(), password } })
        expect(reply.status).toBe(200)
        expect(json(reply, Login).expiresIn).toBeGreaterThan(0)
      })

      it("wrong password and unknown email are the same 401", async () => {
        const { email } = await shop.signup()
        expectError(
          await api("POST", "/api/auth/login", { body: { email, password: "wrong password" } }),
          401,
          "invalid_credentials"
        )
        expectError(
          await api("POST", "/api/auth/login", { body: { email: uniqueEmail("ghost"), password } }),
          401,
          "invalid_credentials"
        )
      })

      it("me returns the profile with addresses", async () => {
        const reply = await api("GET", "/api/auth/me", { token: user.token })
        expect(reply.status).toBe(200)
        expect(json(reply, Me)).toMatchObject({
          userId: user.userId,
          email: user.email,
          role: "user",
          name: "Test User"
        })
      })

      it("throttles repeated failures for one email with 429 and Retry-After, even for the right password", async () => {
        const { email } = await shop.signup("throttled")
        for (let i = 0; i < 5; i++) {
          expectError(
            await api("POST", "/api/auth/login", { body: { email, password: `wrong-${i}-password` } }),
            401,
            "invalid_credentials"
          )
        }
        const limited = await api("POST", "/api/auth/login", { body: { email, password } })
        expectError(limited, 429, "rate_limited")
        expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0)
      })

      it("parallel wrong guesses for one email cannot outrun the throttle", async () => {
        const { email } = await shop.signup("parallel")
        const replies = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            api("POST", "/api/auth/login", { body: { email, password: `wrong-guess-${i}` } })
          )
        )
        expect(replies.filter((r) => r.status === 401)).toHaveLength(5)
        expect(replies.filter((r) => r.status === 429)).toHaveLength(7)
      })

      it("logout revokes the token everywhere", async () => {
        const fresh = await shop.newUser("logout")
        expect((await api("GET", "/api/auth/me", { token: fresh.token })).status).toBe(200)
        const out = await api("POST", "/api/auth/logout", { token: fresh.token })
        expect(out.status).toBe(200)
        expect(out.body).toEqual({ ok: true })
        expectError(await api("GET", "/api/auth/me", { token: fresh.token }), 401, "unauthorized")
        expectError(await api("GET", "/api/addresses", { token: fresh.token }), 401, "unauthorized")
        expectError(await api("POST", "/api/auth/logout", { token: fresh.token }), 401, "unauthorized")
        // A new login still works and is independent of the revoked session.
        const again = await shop.login(fresh.email)
        expect((await api("GET", "/api/auth/me", { token: again })).status).toBe(200)
      })

      describe("rejects bad tokens", () => {
        const secret = () => new TextEncoder().encode(target.jwtSecret)
        const claims = () => claimsOf(user.token)

        it("missing, garbage and non-bearer", async () => {
          expectError(await api("GET", "/api/auth/me"), 401, "unauthorized")
          expectError(await api("GET", "/api/auth/me", { token: "garbage" }), 401, "unauthorized")
          expectError(
            await api("GET", "/api/auth/me", { headers: { authorization: `Basic ${user.token}` } }),
            401,
            "unauthorized"
          )
        })

        it("tampered payload", async () => {
          const [header, , signature] = user.token.split(".")
          const forged = `${header}.${b64url({ ...claims(), sub: other.userId })}.${signature}`
          expectError(await api("GET", "/api/auth/me", { token: forged }), 401, "unauthorized")
        })

        it("alg none", async () => {
          const forged = `${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims())}.`
          expectError(await api("GET", "/api/auth/me", { token: forged }), 401, "unauthorized")
        })

        it("signed with another key", async () => {
          const forged = await new Jose.SignJWT({ sid: claims().sid })
            .setProtectedHeader({ alg: "HS256" })
            .setSubject(user.userId)
            .setExpirationTime("1h")
            .sign(new TextEncoder().encode("not-the-secret-not-the-secret-00"))
          expectError(await api("GET", "/api/auth/me", { token: forged }), 401, "unauthorized")
        })

        it("expired, though well signed for a live session", async () => {
          const now = Math.floor(Date.now() / 1000)
          const expired = await new Jose.SignJWT({ sid: claims().sid })
            .setProtectedHeader({ alg: "HS256", typ: "JWT" })
            .setSubject(user.userId)
            .setIssuedAt(now - 7200)
            .setExpirationTime(now - 3600)
            .sign(secret())
          expectError(await api("GET", "/api/auth/me", { token: expired }), 401, "unauthorized")
        })

        it("well signed without exp", async () => {
          const token = await new Jose.SignJWT({ sid: claims().sid })
            .setProtectedHeader({ alg: "HS256", typ: "JWT" })
            .setSubject(user.userId)
            .sign(secret())
          expectError(await api("GET", "/api/auth/me", { token }), 401, "unauthorized")
        })

        it("well signed for a session that does not exist", async () => {
          const token = await new Jose.SignJWT({ sid: "ses_doesnotexist000000000" })
            .setProtectedHeader({ alg: "HS256", typ: "JWT" })
            .setSubject(user.userId)
            .setExpirationTime("1h")
            .sign(secret())
          expectError(await api("GET", "/api/auth/me", { token }), 401, "unauthorized")
        })

        it("well signed for another user's session id", async () => {
          const token = await new Jose.SignJWT({ sid: claimsOf(other.token).sid })
            .setProtectedHeader({ alg: "HS256", typ: "JWT" })
            .setSubject(user.userId)
            .setExpirationTime("1h")
            .sign(secret())
          expectError(await api("GET", "/api/auth/me", { token }), 401, "unauthorized")
        })
      })

      describe("admin bootstrap and promotion", () => {
        it("admin signup needs the right secret", async () => {
          const body = { email: uniqueEmail("admin"), password, name: "Admin" }
          expectError(await api("POST", "/api/auth/admin/signup", { body }), 401, "unauthorized")
          expectError(
            await api("POST", "/api/auth/admin/signup", { body, headers: { "x-admin-secret": "wrong" } }),
            401,
            "unauthorized"
          )
          const ok = await api("POST", "/api/auth/admin/signup", {
            body,
            headers: { "x-admin-secret": target.adminSecret }
          })
          expect(ok.status).toBe(201)
          expect(ok.body).toMatchObject({ email: body.email, role: "admin" })
          const me = await api("GET", "/api/auth/me", { token: await shop.login(body.email) })
          expect(json(me, Me).role).toBe("admin")
        })

        it("promotes by email and by id; 404 and 409 otherwise", async () => {
          const a = await shop.signup("promote")
          const byEmail = await api("POST", "/api/auth/admin/promote", { token: admin.token, body: { email: a.email } })
          expect(byEmail.status).toBe(200)
          expect(byEmail.body).toEqual({ userId: a.userId, email: a.email, role: "admin" })
          expectError(
            await api("POST", "/api/auth/admin/promote", { token: admin.token, body: { userId: a.userId } }),
            409,
            "already_admin"
          )
          const b = await shop.signup("promote")
          const byId = await api("POST", "/api/auth/admin/promote", { token: admin.token, body: { userId: b.userId } })
          expect(byId.status).toBe(200)
          expectError(
            await api("POST", "/api/auth/admin/promote", { token: admin.token, body: { email: uniqueEmail("ghost") } }),
            404,
            "user_not_found"
          )
          expectError(
            await api("POST", "/api/auth/admin/promote", { token: admin.token, body: {} }),
            400,
            "validation_error"
          )
        })

        it("a promotion takes effect on the user's existing token", async () => {
          const c = await shop.newUser("promoted")
          expectError(await api("GET", "/api/admin/inventory/var_whatever", { token: c.token }), 403, "forbidden")
          await shop.promote(admin.token, c.userId)
          expectError(
            await api("GET", "/api/admin/inventory/var_whatever", { token: c.token }),
            404,
            "variant_not_found"
          )
        })
      })
    })

    describe("addresses", () => {
      it("creates, lists, updates and deletes the caller's addresses", async () => {
        const me = await shop.newUser("addr")
        const created = await api("POST", "/api/addresses", { token: me.token, body: address })
        expect(created.status).toBe(201)
        const made = json(created, AddressReply).address
        expect(made).toMatchObject(address)
        const id = made.addressId
        expect(id.startsWith("adr_")).toBe(true)

        const list = await api("GET", "/api/addresses", { token: me.token })
        expect(json(list, Addresses).addresses).toEqual([made])

        const updated = await api("PUT", `/api/addresses/${id}`, {
          token: me.token,
          body: { city: "Cambridge", line2: "Flat 2" }
        })
        expect(updated.status).toBe(200)
        const changed = json(updated, AddressReply).address
        expect(changed).toMatchObject({ ...address, city: "Cambridge", line2: "Flat 2", addressId: id })

        const profile = await api("GET", "/api/auth/me", { token: me.token })
        expect(json(profile, Me).addresses).toEqual([changed])

        const removed = await api("DELETE", `/api/addresses/${id}`, { token: me.token })
        expect(removed.status).toBe(200)
        expect(removed.body).toEqual({ ok: true })
        expect(json(await api("GET", "/api/addresses", { token: me.token }), Addresses).addresses).toEqual([])
        expectError(await api("DELETE", `/api/addresses/${id}`, { token: me.token }), 404, "address_not_found")
      })

      it("validates the address", async () => {
        expectError(
          await api("POST", "/api/addresses", { token: user.token, body: { ...address, country: "Britain" } }),
          400,
          "validation_error"
        )
        expectError(
          await api("POST", "/api/addresses", { token: user.token, body: { ...address, line1: undefined } }),
          400,
          "validation_error"
        )
        expectError(
          await api("POST", "/api/addresses", { token: user.token, body: { ...address, zip: "1" } }),
          400,
          "validation_error"
        )
      })

      it("another user's address is not found, and untouched", async () => {
        const created = await shop.addAddress(user.token, address)
        const id = created.addressId
        expectError(
          await api("PUT", `/api/addresses/${id}`, { token: other.token, body: { city: "Evil" } }),
          404,
          "address_not_found"
        )
        expectError(await api("DELETE", `/api/addresses/${id}`, { token: other.token }), 404, "address_not_found")
        expect(json(await api("GET", "/api/addresses", { token: other.token }), Addresses).addresses).toEqual([])
        const mine = await api("GET", "/api/addresses", { token: user.token })
        expect(json(mine, Addresses).addresses).toContainEqual(created)
        expectError(
          await api("PUT", "/api/addresses/not-an-id", { token: user.token, body: { city: "X" } }),
          404,
          "address_not_found"
        )
      })
    })

    describe("catalog", () => {
      it("creates a product with variants and reads it back", async () => {
        const sku = uniqueSku("TEE")
        const product = await shop.createProductWithVariants(admin.token, {
          sku,
          title: "Scenario Tee",
          images: ["https://example.com/tee.png"],
          variants: [
            {
              sku: `${sku}-S`,
              title: "Small",
              price: usd(1500),
              attributes: { size: "S" },
              weightGrams: 180,
              stock: 3
            },
            {
              sku: `${sku}-L`,
              title: "Large",
              price: usd(1700),
              attributes: { size: "L" },
              stock: 0
            }
          ]
        })
        expect(product.productId).toMatch(/^prd_/)
        expect(product.price).toEqual({ amount: 1500, currency: "USD" })
        expect(product.variants).toHaveLength(2)
        expect(product.variants[0]).toMatchObject({
          sku: `${sku}-S`,
          available: 3,
          weightGrams: 180,
          attributes: { size: "S" }
        })
        expect(product.variants[1]).toMatchObject({ sku: `${sku}-L`, available: 0, weightGrams: 0 })
        const read = await api("GET", `/api/products/${product.productId}`)
        expect(read.status).toBe(200)
        expect(read.body).toEqual(product)
      })

      it("creates a product with 100 variants, the most the API allows, and refuses 101", async () => {
        const sku = uniqueSku("WIDE")
        const variants = Array.from({ length: 100 }, (_, i) => ({ sku: `${sku}-${i}`, price: usd(100 + i), stock: i }))
        const product = await shop.createProductWithVariants(admin.token, { sku, variants })
        expect(product.variants).toHaveLength(100)
        const read = await api("GET", `/api/products/${product.productId}`)
        expect(json(read, Product).variants.map((v) => v.available)).toEqual(variants.map((v) => v.stock))
        const tooMany = [...variants, { sku: `${sku}-X`, price: { amount: 1, currency: "USD" } }].map((v) => ({
          ...v,
          sku: `${v.sku}Y`
        }))
        expectError(
          await api("POST", "/api/admin/products", {
            token: admin.token,
            body: { sku: uniqueSku(), title: "Too wide", variants: tooMany }
          }),
          400,
          "validation_error"
        )
      })

      it("accepts the one-variant shorthand", async () => {
        const product = await shop.createProduct(admin.token, { stock: 4 })
        expect(product.variants).toHaveLength(1)
        expect(product.variants[0]).toMatchObject({
          sku: product.sku,
          price: { amount: 1299, currency: "USD" },
          available: 4
        })
      })

      it("refuses a duplicate SKU with 409 and writes nothing", async () => {
        const first = await shop.createProduct(admin.token)
        const before = json(await api("GET", `/api/products?q=${first.sku}`), ProductPage).total
        const dup = await api("POST", "/api/admin/products", {
          token: admin.token,
          body: { sku: first.sku, title: "Dup", price: { amount: 100, currency: "USD" } }
        })
        expectError(dup, 409, "sku_exists")
        const freshSku = uniqueSku()
        const variantDup = await api("POST", "/api/admin/products", {
          token: admin.token,
          body: {
            sku: freshSku,
            title: "Dup",
            variants: [{ sku: first.variants[0].sku, price: { amount: 100, currency: "USD" } }]
          }
        })
        expectError(variantDup, 409, "sku_exists")
        expect(json(await api("GET", `/api/products?q=${first.sku}`), ProductPage).total).toBe(before)
        // The refused product's own SKU names nothing.
        expect(json(await api("GET", `/api/products?q=${freshSku}`), ProductPage).total).toBe(0)
      })

      it("validates product input: no floats for money, no mixed currencies, not both forms", async () => {
        const base = { sku: uniqueSku(), title: "Bad" }
        for (const body of [
          { ...base, price: { amount: 12.99, currency: "USD" } },
          { ...base, price: { amount: -1, currency: "USD" } },
          { ...base, price: { amount: 100, currency: "usd" } },
          { ...base, price: 1299 },
          {
            ...base,
            price: { amount: 100, currency: "USD" },
            variants: [{ sku: uniqueSku(), price: { amount: 1, currency: "USD" } }]
          },
          { ...base, variants: [] },
          { ...base, price: { amount: 100, currency: "USD" }, qty: 3 },
          { ...base, title: "half \ud800 a character", price: { amount: 100, currency: "USD" } },
          { ...base, title: "nul \u0000 inside", price: { amount: 100, currency: "USD" } },
          { ...base, price: { amount: 100, currency: "USD" }, attributes: { size: "\udfff" } }
        ]) {
          expectError(await api("POST", "/api/admin/products", { token: admin.token, body }), 400, "validation_error")
        }
        const mixed = await api("POST", "/api/admin/products", {
          token: admin.token,
          body: {
            ...base,
            variants: [
              { sku: uniqueSku(), price: { amount: 1, currency: "USD" } },
              { sku: uniqueSku(), price: { amount: 1, currency: "EUR" } }
            ]
          }
        })
        expectError(mixed, 400, "validation_error")
        expect(json(await api("GET", `/api/products?q=${base.sku}`), ProductPage).total).toBe(0)
      })

      it("updates product fields and variants; 404 for unknown", async () => {
        const product = await shop.createProduct(admin.token)
        const newSku = uniqueSku("RENAMED")
        const updated = await api("PUT", `/api/admin/products/${product.productId}`, {
          token: admin.token,
          body: {
            sku: newSku,
            title: "Renamed",
            category: "renamed",
            variants: [
              { variantId: product.variants[0].variantId, price: { amount: 999, currency: "USD" }, title: "Only" }
            ]
          }
        })
        expect(updated.status).toBe(200)
        const renamed = json(updated, Product)
        expect(renamed).toMatchObject({
          sku: newSku,
          title: "Renamed",
          category: "renamed",
          price: { amount: 999, currency: "USD" }
        })
        expect(renamed.variants[0]).toMatchObject({ title: "Only", available: 7 })
        expect((await api("GET", `/api/products/${product.productId}`)).body).toEqual(updated.body)
        const shorthand = await api("PUT", `/api/admin/products/${product.productId}`, {
          token: admin.token,
          body: { price: { amount: 1111, currency: "USD" } }
        })
        expect(json(shorthand, Product).price).toEqual({ amount: 1111, currency: "USD" })
        expectError(
          await api("PUT", "/api/admin/products/prd_missing0000000000000", {
            token: admin.token,
            body: { title: "X" }
          }),
          404,
          "product_not_found"
        )
        expectError(
          await api("PUT", `/api/admin/products/${product.productId}`, { token: admin.token, body: { title: "" } }),
          400,
          "validation_error"
        )
        expectError(
          await api("PUT", `/api/admin/products/${product.productId}`, {
            token: admin.token,
            body: { variants: [{ variantId: "var_notmine00000000000000" }] }
          }),
          400,
          "validation_error"
        )
      })

      it("lets two variants of one product trade SKUs in one update", async () => {
        const sku = uniqueSku("SWAP")
        const product = await shop.createProductWithVariants(admin.token, {
          sku,
          variants: [
            { sku: `${sku}-A`, price: usd(100) },
            { sku: `${sku}-B`, price: usd(200) }
          ]
        })
        const [a, b] = product.variants
        const swapped = await api("PUT", `/api/admin/products/${product.productId}`, {
          token: admin.token,
          body: {
            variants: [
              { variantId: a.variantId, sku: b.sku },
              { variantId: b.variantId, sku: a.sku }
            ]
          }
        })
        expect(swapped.status).toBe(200)
        expect(json(swapped, Product).variants.map((v) => v.sku)).toEqual([b.sku, a.sku])
        const read = json(await api("GET", `/api/products/${product.productId}`), Product)
        expect(read.variants.map((v) => v.sku)).toEqual([b.sku, a.sku])
      })

      it("concurrent edits of different variants all survive", async () => {
        const sku = uniqueSku("EDITS")
        const product = await shop.createProductWithVariants(admin.token, {
          sku,
          variants: Array.from({ length: 8 }, (_, i) => ({ sku: `${sku}-${i}`, price: usd(100) }))
        })
        const replies = await Promise.all(
          product.variants.map((v, i) =>
            api("PUT", `/api/admin/products/${product.productId}`, {
              token: admin.token,
              body: { variants: [{ variantId: v.variantId, price: { amount: 1000 + i, currency: "USD" } }] }
            })
          )
        )
        expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200))
        const read = await api("GET", `/api/products/${product.productId}`)
        expect(json(read, Product).variants.map((v) => v.price.amount)).toEqual(
          product.variants.map((_, i) => 1000 + i)
        )
      })

      it("refuses an update to a taken SKU", async () => {
        const a = await shop.createProduct(admin.token)
        const b = await shop.createProduct(admin.token)
        expectError(
          await api("PUT", `/api/admin/products/${b.productId}`, { token: admin.token, body: { sku: a.sku } }),
          409,
          "sku_exists"
        )
        expect(json(await api("GET", `/api/products/${b.productId}`), Product).sku).toBe(b.sku)
      })

      it("deletes a product and its stock", async () => {
        const product = await shop.createProduct(admin.token)
        const removed = await api("DELETE", `/api/admin/products/${product.productId}`, { token: admin.token })
        expect(removed.status).toBe(204)
        expectError(await api("GET", `/api/products/${product.productId}`), 404, "product_not_found")
        expectError(
          await api("DELETE", `/api/admin/products/${product.productId}`, { token: admin.token }),
          404,
          "product_not_found"
        )
        expectError(
          await api("GET", `/api/admin/inventory/${product.variants[0].variantId}`, { token: admin.token }),
          404,
          "variant_not_found"
        )
      })

      it("unknown product is 404 product_not_found", async () => {
        expectError(await api("GET", "/api/products/prd_doesnotexist000000000"), 404, "product_not_found")
        expectError(await api("GET", "/api/products/whatever"), 404, "product_not_found")
      })

      describe("listing", () => {
        const category = `cat${Math.random().toString(36).slice(2, 8)}`
        const word = `zq${Math.random().toString(36).slice(2, 8)}`
        let made: Array<Product> = []
        const ids = (page: ProductPage) => page.items.map((p) => p.productId)
        const amounts = (page: ProductPage) => page.items.map((p) => p.price.amount)
        // A page read raw and held to the contract's schema.
        const list = async (query: string) => json(await api("GET", `/api/products?${query}`), ProductPage)

        beforeAll(async () => {
          made = []
          for (const [title, amount] of [
            ["Banana", 300],
            ["apple", 100],
            ["Cherry", 200],
            ["date", 500],
            ["Elderberry", 400]
          ] as const) {
            made.push(
              await shop.createProduct(admin.token, { title: `${title} ${word}`, category, price: usd(amount) })
            )
          }
        })

        it("filters by category and returns a total", async () => {
          const reply = await api("GET", `/api/products?category=${category}&limit=2`)
          expect(reply.status).toBe(200)
          const page = json(reply, ProductPage)
          expect(page.total).toBe(5)
          expect(page.items).toHaveLength(2)
          expect(page).toMatchObject({ limit: 2, offset: 0 })
        })

        it("sorts newest first by default", async () => {
          expect(ids(await list(`category=${category}`))).toEqual([...made].reverse().map((p) => p.productId))
        })

        it("sorts by price both ways and by title, case-insensitively", async () => {
          expect(amounts(await list(`category=${category}&sort=price_asc`))).toEqual([100, 200, 300, 400, 500])
          expect(amounts(await list(`category=${category}&sort=price_desc`))).toEqual([500, 400, 300, 200, 100])
          const title = await list(`category=${category}&sort=title`)
          expect(title.items.map((p) => p.title.split(" ")[0])).toEqual([
            "apple",
            "Banana",
            "Cherry",
            "date",
            "Elderberry"
          ])
        })

        it("filters by price range in minor units", async () => {
          const page = await list(`category=${category}&minPrice=200&maxPrice=400&sort=price_asc`)
          expect(amounts(page)).toEqual([200, 300, 400])
          expect(page.total).toBe(3)
        })

        it("searches text case-insensitively", async () => {
          expect((await list(`q=${word.toUpperCase()}`)).total).toBe(5)
          expect(ids(await list(`q=cherry%20${word}`))).toEqual([made[2]?.productId])
          expect((await list(`q=${word}%25`)).total).toBe(0)
        })

        it("finds 2 characters anywhere in a text, at its very end too, and counts them exactly", async () => {
          // The SKU ends the searchable text (title, description, SKU); "._"
          // is in no SKU the fixtures make, and the title's pair in no title.
          const tag = Math.random().toString(36).slice(2, 8)
          const mine = await shop.createProduct(admin.token, {
            sku: `${uniqueSku()}-${tag}._`,
            title: `Rune ꙮᚠ ${tag}`
          })
          for (const pair of ["._", "ꙮᚠ", "ᚠꙮ"]) {
            const holding: Array<Product> = []
            let page = await list(`q=${encodeURIComponent(pair)}&limit=100`)
            holding.push(...page.items)
            while (page.nextCursor !== null) {
              page = await list(`q=${encodeURIComponent(pair)}&limit=100&cursor=${encodeURIComponent(page.nextCursor)}`)
              holding.push(...page.items)
            }
            for (const p of holding)
              expect(`${p.title}\n${p.description}\n${p.sku}`.toLowerCase()).toContain(pair.toLowerCase())
            expect(holding.length).toBe(page.total)
            expect(holding.some((p) => p.productId === mine.productId)).toBe(pair !== "ᚠꙮ")
          }
        })

        it("folds case beyond ASCII the same way on every store", async () => {
          const tag = Math.random().toString(36).slice(2, 8)
          const cat = `Épicerie${tag}`
          const first = await shop.createProduct(admin.token, { title: `Émile Crème ${tag}`, category: cat })
          const second = await shop.createProduct(admin.token, { title: `élan ${tag}`, category: cat })
          const found = await list(`q=${encodeURIComponent(`ÉMILE CRÈME ${tag}`.toLowerCase().toUpperCase())}`)
          expect(ids(found)).toEqual([first.productId])
          const byCategory = await list(`category=${encodeURIComponent(cat.toLowerCase())}&sort=title`)
          expect(ids(byCategory)).toEqual([second.productId, first.productId])
        })

        it("orders titles by code point on every store, emoji and full-width letters included", async () => {
          const tag = Math.random().toString(36).slice(2, 8)
          const cat = `order${tag}`
          const made: Array<Product> = []
          for (const title of ["😀 smile", "Ａ fullwidth", "zebra"]) {
            made.push(await shop.createProduct(admin.token, { title: `${title} ${tag}`, category: cat }))
          }
          // zebra (U+007A) < Ａ (U+FF21) < 😀 (U+1F600)
          expect(ids(await list(`category=${cat}&sort=title`))).toEqual([...made].reverse().map((p) => p.productId))
        })

        it("pages with limit and offset without overlap", async () => {
          const first = await list(`category=${category}&sort=title&limit=2&offset=0`)
          const second = await list(`category=${category}&sort=title&limit=2&offset=2`)
          const third = await list(`category=${category}&sort=title&limit=2&offset=4`)
          expect(new Set([...ids(first), ...ids(second), ...ids(third)]).size).toBe(5)
          expect(third.items).toHaveLength(1)
        })

        it("shows availability from inventory", async () => {
          const page = await list(`category=${category}&sort=price_asc&limit=1`)
          expect(page.items[0]?.variants[0]?.available).toBe(7)
        })

        it("rejects bad query parameters", async () => {
          for (const query of [
            "limit=0",
            "limit=101",
            "limit=abc",
            "offset=-1",
            "sort=random",
            "minPrice=1.5",
            "unknown=1"
          ]) {
            expectError(await api("GET", `/api/products?${query}`), 400, "validation_error")
          }
        })
      })
    })

    describe("catalog paging", () => {
      const category = `page${Math.random().toString(36).slice(2, 8)}`
      const word = `pw${Math.random().toString(36).slice(2, 8)}`
      let made: Array<Product> = []
      const ids = (page: ProductPage) => page.items.map((p) => p.productId)
      const list = async (query: string) => json(await api("GET", `/api/products?${query}`), ProductPage)
      // Follows nextCursor to the end, `limit` at a time.
      const walk = async (query: string, limit: number) => {
        const pages: Array<ProductPage> = []
        let cursor: string | null = null
        do {
          const page: ProductPage = await list(
            `${query}&limit=${limit}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`
          )
          pages.push(page)
          cursor = page.nextCursor
        } while (cursor !== null && pages.length < 50)
        return pages
      }

      beforeAll(async () => {
        made = []
        // Price and title ties, so the id decides between them.
        for (const [title, amount] of [
          ["Kiwi", 300],
          ["kiwi", 300],
          ["Lime", 100],
          ["Mango", 300],
          ["Fig", 200],
          ["Kiwi", 100],
          ["Nectarine", 500]
        ] as const) {
          made.push(await shop.createProduct(admin.token, { title: `${title} ${word}`, category, price: usd(amount) }))
        }
      })

      it("nextCursor pages through every sort exactly once, in the order of one long page", async () => {
        for (const sort of ["newest", "price_asc", "price_desc", "title"]) {
          const whole = await list(`category=${category}&sort=${sort}&limit=100`)
          expect(whole.total).toBe(made.length)
          expect(whole.nextCursor).toBeNull()
          const pages = await walk(`category=${category}&sort=${sort}`, 3)
          expect(pages.map((p) => p.items.length)).toEqual([3, 3, 1])
          expect(pages.flatMap(ids)).toEqual(ids(whole))
          for (const page of pages) expect(page).toMatchObject({ total: made.length, limit: 3, offset: 0 })
        }
      })

      it("pages a search and a price range by cursor, the same as by offset", async () => {
        for (const query of [`q=${word.toUpperCase()}&sort=title`, `category=${category}&minPrice=150&maxPrice=300`]) {
          const byOffset = [await list(`${query}&limit=2&offset=0`), await list(`${query}&limit=2&offset=2`)]
          const byCursor = await walk(query, 2)
          expect(byCursor.flatMap(ids).slice(0, 4)).toEqual(byOffset.flatMap(ids))
          expect(new Set(byCursor.flatMap(ids)).size).toBe(byCursor[0]!.total)
        }
        // An offset page hands on a cursor as well.
        const offsetPage = await list(`category=${category}&sort=price_asc&limit=2&offset=4`)
        const after = await list(
          `category=${category}&sort=price_asc&limit=2&cursor=${encodeURIComponent(offsetPage.nextCursor ?? "")}`
        )
        const whole = await list(`category=${category}&sort=price_asc&limit=100`)
        expect(ids(after)).toEqual(ids(whole).slice(6, 8))
      })

      it("refuses a cursor with an offset, for another list, or not from the shop: 400 validation_error", async () => {
        const first = await list(`category=${category}&sort=price_asc&limit=2`)
        const cursor = encodeURIComponent(first.nextCursor ?? "")
        for (const query of [
          `category=${category}&sort=price_asc&limit=2&cursor=${cursor}&offset=0`,
          `category=${category}&sort=price_asc&limit=2&cursor=${cursor}&offset=2`,
          `category=${category}&sort=price_desc&limit=2&cursor=${cursor}`,
          `category=${category}x&sort=price_asc&limit=2&cursor=${cursor}`,
          `category=${category}&sort=price_asc&maxPrice=400&limit=2&cursor=${cursor}`,
          `category=${category}&sort=price_asc&q=${word}&limit=2&cursor=${cursor}`,
          `category=${category}&sort=price_asc&limit=2&cursor=not-a-cursor`,
          `category=${category}&sort=price_asc&limit=2&cursor=${cursor.slice(0, -4)}`,
          `category=${category}&sort=price_asc&limit=2&cursor=${b64url({ v: 1, s: "price_asc", k: "x", i: "y" })}`,
          `category=${category}&sort=price_asc&limit=2&cursor=`,
          `category=${category}&sort=price_asc&limit=2&cursor=${"A".repeat(2001)}`
        ]) {
          expectError(await api("GET", `/api/products?${query}`), 400, "validation_error")
        }
        // Case does not make another list: q and category match case-insensitively.
        expect(ids(await list(`category=${category.toUpperCase()}&sort=price_asc&limit=2&cursor=${cursor}`))).toEqual(
          ids(await list(`category=${category}&sort=price_asc&limit=2&offset=2`))
        )
      })
    })

    describe("inventory", () => {
      // The level read raw and held to the contract's schema.
      const stockOf = async (variantId: string) =>
        json(await api("GET", `/api/admin/inventory/${variantId}`, { token: admin.token }), StockLevel)

      it("reads, sets and adjusts stock; refuses to go below reserved", async () => {
        const product = await shop.createProduct(admin.token, { stock: 5 })
        const variantId = product.variants[0].variantId
        const read = await api("GET", `/api/admin/inventory/${variantId}`, { token: admin.token })
        expect(read.body).toEqual({ variantId, stock: 5, reserved: 0, available: 5 })
        const set = await api("PUT", `/api/admin/inventory/${variantId}`, { token: admin.token, body: { stock: 12 } })
        expect(set.body).toEqual({ variantId, stock: 12, reserved: 0, available: 12 })
        const adjusted = await api("PUT", `/api/admin/inventory/${variantId}`, {
          token: admin.token,
          body: { adjust: -2 }
        })
        expect(adjusted.body).toMatchObject({ stock: 10, available: 10 })
        expectError(
          await api("PUT", `/api/admin/inventory/${variantId}`, { token: admin.token, body: { adjust: -11 } }),
          409,
          "stock_below_reserved"
        )
        expectError(
          await api("PUT", `/api/admin/inventory/${variantId}`, { token: admin.token, body: { stock: -1 } }),
          400,
          "validation_error"
        )
        expectError(
          await api("PUT", `/api/admin/inventory/${variantId}`, { token: admin.token, body: { stock: 1, adjust: 1 } }),
          400,
          "validation_error"
        )
        expectError(
          await api("PUT", `/api/admin/inventory/${variantId}`, { token: admin.token, body: { stock: 1.5 } }),
          400,
          "validation_error"
        )
        expect(json(await api("GET", `/api/products/${product.productId}`), Product).variants[0]?.available).toBe(10)
      })

      it("adjust cannot take stock past the maximum that set allows", async () => {
        const product = await shop.createProduct(admin.token, { stock: 999_999_999 })
        const variantId = product.variants[0].variantId
        const over = await api("PUT", `/api/admin/inventory/${variantId}`, { token: admin.token, body: { adjust: 2 } })
        expectError(over, 400, "validation_error")
        expect((await stockOf(variantId)).stock).toBe(999_999_999)
        const fits = await api("PUT", `/api/admin/inventory/${variantId}`, { token: admin.token, body: { adjust: 1 } })
        expect(json(fits, StockLevel).stock).toBe(1_000_000_000)
      })

      it("concurrent adjustments all apply exactly once", async () => {
        const product = await shop.createProduct(admin.token, { stock: 100 })
        const variantId = product.variants[0].variantId
        const replies = await Promise.all(
          Array.from({ length: 20 }, () =>
            api("PUT", `/api/admin/inventory/${variantId}`, { token: admin.token, body: { adjust: -3 } })
          )
        )
        expect(replies.every((r) => r.status === 200)).toBe(true)
        expect((await stockOf(variantId)).stock).toBe(40)
      })

      it("concurrent decrements never take stock below zero", async () => {
        const product = await shop.createProduct(admin.token, { stock: 10 })
        const variantId = product.variants[0].variantId
        const replies = await Promise.all(
          Array.from({ length: 8 }, () =>
            api("PUT", `/api/admin/inventory/${variantId}`, { token: admin.token, body: { adjust: -3 } })
          )
        )
        expect(replies.filter((r) => r.status === 200)).toHaveLength(3)
        expect(replies.filter((r) => r.status === 409)).toHaveLength(5)
        expect((await stockOf(variantId)).stock).toBe(1)
      })

      it("unknown variant is 404", async () => {
        expectError(
          await api("GET", "/api/admin/inventory/var_doesnotexist00000000", { token: admin.token }),
          404,
          "variant_not_found"
        )
        expectError(
          await api("PUT", "/api/admin/inventory/var_doesnotexist00000000", { token: admin.token, body: { stock: 1 } }),
          404,
          "variant_not_found"
        )
      })
    })

    describe("tax rates (admin)", () => {
      const ratesOf = async () => json(await api("GET", "/api/admin/tax-rates", { token: admin.token }), TaxRates).rates

      it("sets a rate, replaces it, and lists it", async () => {
        const set = await api("PUT", "/api/admin/tax-rates/DE", {
          token: admin.token,
          body: { rate: 1900, shippingTaxable: true }
        })
        expect(set.status).toBe(200)
        expect(json(set, TaxRate)).toEqual({ country: "DE", rate: 1900, shippingTaxable: true })
        const replaced = await api("PUT", "/api/admin/tax-rates/DE", { token: admin.token, body: { rate: 700 } })
        expect(replaced.status).toBe(200)
        // shippingTaxable defaults to false.
        expect(replaced.body).toEqual({ country: "DE", rate: 700, shippingTaxable: false })
        const list = await api("GET", "/api/admin/tax-rates", { token: admin.token })
        expect(list.status).toBe(200)
        expect(json(list, TaxRates).rates.filter((r) => r.country === "DE")).toEqual([
          { country: "DE", rate: 700, shippingTaxable: false }
        ])
      })

      it("keeps a region's rate (US-CA) beside its country's (US), each its own", async () => {
        const country = await api("PUT", "/api/admin/tax-rates/US", { token: admin.token, body: { rate: 500 } })
        expect(country.status).toBe(200)
        const region = await api("PUT", "/api/admin/tax-rates/US-CA", {
          token: admin.token,
          body: { rate: 825, shippingTaxable: true }
        })
        expect(region.status).toBe(200)
        const us = (await ratesOf()).filter((r) => r.country.startsWith("US"))
        // Listed by code: the country, then its regions.
        expect(us).toEqual([
          { country: "US", rate: 500, shippingTaxable: false },
          { country: "US-CA", rate: 825, shippingTaxable: true }
        ])
      })

      it("refuses bad input with 400 validation_error naming the field, and writes nothing", async () => {
        const bodies: ReadonlyArray<readonly [unknown, string]> = [
          [{ rate: 10_001 }, "rate"],
          [{ rate: -1 }, "rate"],
          [{ rate: 8.25 }, "rate"],
          [{ rate: "825" }, "rate"],
          [{}, "rate"],
          [{ rate: 825, shippingTaxable: "yes" }, "shippingTaxable"],
          [{ rate: 825, taxable: true }, "taxable"]
        ]
        for (const [body, field] of bodies) {
          const reply = await api("PUT", "/api/admin/tax-rates/NL", { token: admin.token, body })
          expectError(reply, 400, "validation_error")
          expect(JSON.stringify(errorBody(reply).details)).toContain(field)
        }
        for (const country of ["nl", "NLD", "XX", "US-ZZ", "U1"]) {
          const reply = await api("PUT", `/api/admin/tax-rates/${country}`, { token: admin.token, body: { rate: 1 } })
          expectError(reply, 400, "validation_error")
          expect(JSON.stringify(errorBody(reply).details)).toContain("country")
        }
        const codes = (await ratesOf()).map((r) => r.country)
        expect(codes.filter((c) => ["NL", "XX", "US-ZZ"].includes(c))).toEqual([])
      })
    })

    describe("coupons (admin)", () => {
      const couponsOf = async () =>
        json(await api("GET", "/api/admin/coupons", { token: admin.token }), Coupons).coupons

      it("creates a coupon (code upper-cased), refuses its code in another case, lists it with used 0", async () => {
        const code = uniqueSku("save").toLowerCase()
        const created = await api("POST", "/api/admin/coupons", {
          token: admin.token,
          body: {
            code,
            type: "percent",
            value: 10,
            minCart: { amount: 5_000, currency: "USD" },
            expiresAt: "2099-12-31T23:59:59Z",
            usageLimit: 100,
            perCustomerLimit: 1
          }
        })
        expect(created.status).toBe(201)
        const coupon = json(created, Coupon)
        expect(coupon).toMatchObject({
          code: code.toUpperCase(),
          type: "percent",
          value: 10,
          minCart: { amount: 5_000, currency: "USD" },
          expiresAt: "2099-12-31T23:59:59.000Z",
          usageLimit: 100,
          perCustomerLimit: 1,
          used: 0
        })
        const duplicate = await api("POST", "/api/admin/coupons", {
          token: admin.token,
          body: { code: code.toUpperCase(), type: "fixed", value: 500 }
        })
        expectError(duplicate, 409, "coupon_exists")
        const listed = (await couponsOf()).filter((c) => c.code === code.toUpperCase())
        expect(listed).toEqual([coupon])
      })

      it("creates each shipping type", async () => {
        for (const body of [
          { code: uniqueSku("FREE"), type: "free_shipping" },
          { code: uniqueSku("HALF"), type: "percent_shipping", value: 50 },
          { code: uniqueSku("SHIP"), type: "fixed_shipping", value: 300 }
        ]) {
          const reply = await api("POST", "/api/admin/coupons", { token: admin.token, body })
          expect(reply.status).toBe(201)
          expect(json(reply, Coupon)).toMatchObject({ code: body.code, type: body.type, value: body.value ?? 0 })
        }
      })

      it("deletes a coupon by code in any case: 204, then 404", async () => {
        const code = uniqueSku("GONE")
        await api("POST", "/api/admin/coupons", { token: admin.token, body: { code, type: "fixed", value: 100 } })
        const removed = await api("DELETE", `/api/admin/coupons/${code.toLowerCase()}`, { token: admin.token })
        expect(removed.status).toBe(204)
        expect((await couponsOf()).find((c) => c.code === code)).toBeUndefined()
        expectError(await api("DELETE", `/api/admin/coupons/${code}`, { token: admin.token }), 404, "coupon_not_found")
        expectError(await api("DELETE", "/api/admin/coupons/a!", { token: admin.token }), 404, "coupon_not_found")
      })

      it("refuses bad input with 400 validation_error naming the field, and writes nothing", async () => {
        const prefix = uniqueSku("BAD")
        const bodies: ReadonlyArray<readonly [unknown, string]> = [
          [{ code: "a!", type: "percent", value: 10 }, "code"],
          [{ code: "ab", type: "percent", value: 10 }, "code"],
          [{ code: `${prefix}-1`, type: "percent", value: 0 }, "value"],
          [{ code: `${prefix}-2`, type: "percent", value: 101 }, "value"],
          [{ code: `${prefix}-3`, type: "fixed", value: 0 }, "value"],
          [{ code: `${prefix}-4`, type: "bogus", value: 1 }, "type"],
          [{ code: `${prefix}-5`, type: "percent", value: 10, extra: true }, "extra"],
          [{ code: `${prefix}-6`, type: "percent", value: 10, expiresAt: "tomorrow" }, "expiresAt"]
        ]
        for (const [body, field] of bodies) {
          const reply = await api("POST", "/api/admin/coupons", { token: admin.token, body })
          expectError(reply, 400, "validation_error")
          expect(JSON.stringify(errorBody(reply).details)).toContain(field)
        }
        expect((await couponsOf()).filter((c) => c.code.startsWith(prefix))).toEqual([])
      })
    })

    describe("cart", () => {
      // Every cart the suite sees must add up exactly, in one currency.
      const cartOf = (reply: Reply) => {
        expect(reply.status, JSON.stringify(reply.body)?.slice(0, 300)).toBeLessThan(300)
        const cart = json(reply, Cart)
        const currency = cart.currency
        for (const line of cart.items) {
          expect(line.lineTotal).toEqual({ amount: line.unitPrice.amount * line.quantity, currency })
        }
        const { subtotal, discount, shipping, tax, total } = cart.summary
        expect(subtotal.amount).toBe(cart.items.reduce((sum, line) => sum + line.lineTotal.amount, 0))
        expect(total.amount).toBe(subtotal.amount - discount.amount + shipping.amount + tax.amount)
        for (const money of [subtotal, discount, shipping, tax, total]) {
          expect(money.currency).toBe(currency)
          expect(Number.isSafeInteger(money.amount)).toBe(true)
        }
        expect(shipping.amount).toBe(cart.shippingMethod?.cost.amount ?? 0)
        return cart
      }
      const newCart = async (token?: string) => {
        const reply = await api("POST", "/api/cart/init", token === undefined ? {} : { token })
        expect(reply.status).toBe(201)
        return cartOf(reply)
      }
      const on = (cartId: string, path: string) => `/api/cart/${cartId}${path}`
      const lineOf = (cart: Cart, variantId: string) => cart.items.find((line) => line.variantId === variantId)

      const ontario = {
        name: "Grace Hopper",
        line1: "1 Front St W",
        city: "Toronto",
        region: "ON",
        postalCode: "m5v 2t6",
        country: "CA"
      }

      it("creates an empty guest cart with a zero summary", async () => {
        const cart = await newCart()
        expect(cart.cartId).toMatch(/^cart_[A-Za-z0-9]{24}$/)
        expect(cart).toMatchObject({ userId: null, items: [], address: null, shippingMethod: null, coupon: null })
        expect(cart.checkout).toBeNull()
        expect(cart.summary.total).toEqual({ amount: 0, currency: "USD" })
        expect(Date.parse(cart.expiresAt)).toBeGreaterThan(Date.now())
        const again = cartOf(await api("GET", `/api/cart/${cart.cartId}`))
        expect(again).toEqual(cart)
      })

      it("adds a line at the catalog's price, merges the same variant, and refuses client-sent prices", async () => {
        const product = await shop.createProduct(admin.token, { title: "Cart Mug", price: usd(1250), stock: 20 })
        const variantId = product.variants[0].variantId
        const cart = await newCart()
        const added = cartOf(
          await api("POST", on(cart.cartId, "/add"), { body: { productId: product.productId, quantity: 2 } })
        )
        expect(added.items).toEqual([
          {
            productId: product.productId,
            variantId,
            title: "Cart Mug",
            quantity: 2,
            unitPrice: { amount: 1250, currency: "USD" },
            lineTotal: { amount: 2500, currency: "USD" }
          }
        ])
        const merged = cartOf(
          await api("POST", on(cart.cartId, "/add"), { body: { productId: product.productId, variantId, quantity: 3 } })
        )
        expect(merged.items.map((line) => line.quantity)).toEqual([5])
        expect(merged.summary.subtotal.amount).toBe(6250)
        for (const body of [
          { productId: product.productId, quantity: 1, unitPrice: { amount: 1, currency: "USD" } },
          { productId: product.productId, qty: 1 },
          { productId: product.productId, quantity: 0 },
          { productId: product.productId, quantity: 1000 },
          { productId: product.productId, quantity: 1.5 },
          { productId: "not-an-id", quantity: 1 },
          {}
        ]) {
          expectError(await api("POST", on(cart.cartId, "/add"), { body }), 400, "validation_error")
        }
        expectError(await api("POST", on(cart.cartId, "/add"), { raw: "{not json" }), 400, "validation_error")
        // Nothing was written by the refused calls.
        expect(cartOf(await api("GET", `/api/cart/${cart.cartId}`)).items.map((line) => line.quantity)).toEqual([5])
      })

      it("needs variantId for a product with several variants; unknown products and variants are 404", async () => {
        const product = await shop.createProductWithVariants(admin.token, {
          title: "Cart Shirt",
          variants: [
            { sku: uniqueSku("S"), title: "Small", price: usd(2000), stock: 5 },
            { sku: uniqueSku("L"), title: "Large", price: usd(2200), stock: 5 }
          ]
        })
        const cart = await newCart()
        const missing = await api("POST", on(cart.cartId, "/add"), {
          body: { productId: product.productId, quantity: 1 }
        })
        expectError(missing, 400, "validation_error")
        expect(JSON.stringify(errorBody(missing).details)).toContain("variantId")
        const large = product.variants[1].variantId
        const added = cartOf(
          await api("POST", on(cart.cartId, "/add"), {
            body: { productId: product.productId, variantId: large, quantity: 1 }
          })
        )
        expect(added.items).toMatchObject([
          { variantId: large, title: "Cart Shirt (Large)", unitPrice: { amount: 2200 } }
        ])
        expectError(
          await api("POST", on(cart.cartId, "/add"), {
            body: { productId: "prd_0000000000000000000000", quantity: 1 }
          }),
          404,
          "product_not_found"
        )
        expectError(
          await api("POST", on(cart.cartId, "/add"), {
            body: { productId: product.productId, variantId: "var_0000000000000000000000", quantity: 1 }
          }),
          404,
          "product_not_found"
        )
      })

      it("checks stock on add and update, updates, removes and clears lines", async () => {
        const product = await shop.createProduct(admin.token, { title: "Scarce", price: usd(999), stock: 3 })
        const variantId = product.variants[0].variantId
        const cart = await newCart()
        cartOf(await api("POST", on(cart.cartId, "/add"), { body: { productId: product.productId, quantity: 2 } }))
        const over = await api("POST", on(cart.cartId, "/add"), { body: { productId: product.productId, quantity: 2 } })
        expectError(over, 409, "insufficient_stock")
        expect(errorBody(over).details).toEqual({ variantId, available: 3, requested: 4 })
        const overUpdate = await api("POST", on(cart.cartId, "/update"), { body: { variantId, quantity: 5 } })
        expectError(overUpdate, 409, "insufficient_stock")
        expect(errorBody(overUpdate).details).toEqual({ variantId, available: 3, requested: 5 })
        const updated = cartOf(await api("POST", on(cart.cartId, "/update"), { body: { variantId, quantity: 3 } }))
        expect(lineOf(updated, variantId)?.quantity).toBe(3)
        const other = await shop.createProduct(admin.token, { title: "Plenty", price: usd(100), stock: 50 })
        const otherVariant = other.variants[0].variantId
        cartOf(await api("POST", on(cart.cartId, "/add"), { body: { productId: other.productId, quantity: 1 } }))
        const unknown = "var_0000000000000000000000"
        expectError(
          await api("POST", on(cart.cartId, "/update"), { body: { variantId: unknown, quantity: 1 } }),
          404,
          "item_not_found"
        )
        expectError(
          await api("POST", on(cart.cartId, "/remove"), { body: { variantId: unknown } }),
          404,
          "item_not_found"
        )
        const zeroed = cartOf(await api("POST", on(cart.cartId, "/update"), { body: { variantId, quantity: 0 } }))
        expect(zeroed.items.map((line) => line.variantId)).toEqual([otherVariant])
        const removed = cartOf(await api("POST", on(cart.cartId, "/remove"), { body: { variantId: otherVariant } }))
        expect(removed.items).toEqual([])
        cartOf(await api("POST", on(cart.cartId, "/add"), { body: { productId: other.productId, quantity: 4 } }))
        const cleared = cartOf(await api("POST", on(cart.cartId, "/clear")))
        expect(cleared.items).toEqual([])
        expect(cleared.summary.total.amount).toBe(0)
      })

      it("keeps a line's price until the next change, then shows today's; a deleted product leaves, reported", async () => {
        const product = await shop.createProduct(admin.token, { title: "Drifting", price: usd(1000), stock: 10 })
        const doomed = await shop.createProduct(admin.token, { title: "Doomed", price: usd(500), stock: 10 })
        const cart = await newCart()
        cartOf(await api("POST", on(cart.cartId, "/add"), { body: { productId: product.productId, quantity: 1 } }))
        cartOf(await api("POST", on(cart.cartId, "/add"), { body: { productId: doomed.productId, quantity: 1 } }))
        const repriced = await api("PUT", `/api/admin/products/${product.productId}`, {
          token: admin.token,
          body: { price: usd(1500) }
        })
        expect(repriced.status).toBe(200)
        const before = cartOf(await api("GET", `/api/cart/${cart.cartId}`))
        expect(lineOf(before, product.variants[0].variantId)?.unitPrice.amount).toBe(1000)
        expect((await api("DELETE", `/api/admin/products/${doomed.productId}`, { token: admin.token })).status).toBe(
          204
        )
        const after = cartOf(
          await api("POST", on(cart.cartId, "/update"), {
            body: { variantId: product.variants[0].variantId, quantity: 2 }
          })
        )
        expect(after.items).toMatchObject([{ productId: product.productId, quantity: 2, unitPrice: { amount: 1500 } }])
        expect(after.removedItems).toEqual([
          {
            productId: doomed.productId,
            variantId: doomed.variants[0].variantId,
            title: "Doomed",
            reason: "product_unavailable"
          }
        ])
        expect(after.summary.subtotal.amount).toBe(3000)
      })

      it("a signed-in user's cart answers only that user; a guest cart whoever holds its id", async () => {
        const mine = await newCart(user.token)
        expect(mine.userId).toBe(user.userId)
        expect((await api("GET", `/api/cart/${mine.cartId}`, { token: user.token })).status).toBe(200)
        expectError(await api("GET", `/api/cart/${mine.cartId}`, { token: other.token }), 404, "cart_not_found")
        expectError(await api("GET", `/api/cart/${mine.cartId}`), 404, "cart_not_found")
        expectError(await api("POST", on(mine.cartId, "/clear"), { token: other.token }), 404, "cart_not_found")
        const guest = await newCart()
        expect((await api("GET", `/api/cart/${guest.cartId}`, { token: other.token })).status).toBe(200)
        expect((await api("GET", `/api/cart/${guest.cartId}`)).status).toBe(200)
        for (const id of [
          "nope",
          "cart_short",
          `cart_${"a".repeat(24)}`,
          mine.cartId.toLowerCase().replace("cart_", "CART_")
        ]) {
          expectError(await api("GET", `/api/cart/${id}`), 404, "cart_not_found")
          expectError(
            await api("POST", on(id, "/add"), { body: { productId: "prd_0000000000000000000000", quantity: 1 } }),
            404,
            "cart_not_found"
          )
        }
        expectError(await api("GET", `/api/cart/${guest.cartId}`, { token: "not.a.token" }), 401, "unauthorized")
        expectError(
          await api("GET", `/api/cart/${guest.cartId}`, { headers: { authorization: "Basic abc" } }),
          401,
          "unauthorized"
        )
      })

      it("sets an address inline (validated, normalized) or by the caller's saved addressId", async () => {
        const cart = await newCart(user.token)
        const bad = await api("POST", on(cart.cartId, "/address"), {
          token: user.token,
          body: { address: { ...ontario, postalCode: "12345" } }
        })
        expectError(bad, 400, "validation_error")
        expect(JSON.stringify(errorBody(bad).details)).toContain("postalCode")
        const missing = await api("POST", on(cart.cartId, "/address"), {
          token: user.token,
          body: { address: { ...ontario, city: undefined } }
        })
        expectError(missing, 400, "validation_error")
        expect(JSON.stringify(errorBody(missing).details)).toContain("city")
        expectError(
          await api("POST", on(cart.cartId, "/address"), { token: user.token, body: { address: ontario, extra: 1 } }),
          400,
          "validation_error"
        )
        expect(cartOf(await api("GET", `/api/cart/${cart.cartId}`, { token: user.token })).address).toBeNull()
        const inline = cartOf(
          await api("POST", on(cart.cartId, "/address"), { token: user.token, body: { address: ontario } })
        )
        expect(inline.address).toMatchObject({ country: "CA", region: "ON", postalCode: "M5V 2T6", city: "Toronto" })
        const saved = await shop.addAddress(user.token, address)
        const bySaved = cartOf(
          await api("POST", on(cart.cartId, "/address"), { token: user.token, body: { addressId: saved.addressId } })
        )
        expect(bySaved.address).toMatchObject({ country: "GB", postalCode: "N1 9GU", city: "London" })
        const othersAddress = await shop.addAddress(other.token, address)
        expectError(
          await api("POST", on(cart.cartId, "/address"), {
            token: user.token,
            body: { addressId: othersAddress.addressId }
          }),
          404,
          "address_not_found"
        )
        const guest = await newCart()
        expectError(
          await api("POST", on(guest.cartId, "/address"), { body: { addressId: saved.addressId } }),
          404,
          "address_not_found"
        )
      })

      it("quotes shipping options for the address, chooses one, refuses unknown methods", async () => {
        const product = await shop.createProduct(admin.token, {
          title: "Parcel",
          price: usd(2000),
          stock: 10,
          weightGrams: 800
        })
        const cart = await newCart()
        expectError(await api("GET", on(cart.cartId, "/shipping-options")), 400, "address_required")
        expectError(
          await api("POST", on(cart.cartId, "/shipping"), { body: { methodId: "standard" } }),
          400,
          "address_required"
        )
        cartOf(await api("POST", on(cart.cartId, "/add"), { body: { productId: product.productId, quantity: 1 } }))
        cartOf(
          await api("POST", on(cart.cartId, "/address"), {
            body: { address: { ...ontario, region: "QC", postalCode: "H2X 1Y4", city: "Montreal" } }
          })
        )
        const options = await api("GET", on(cart.cartId, "/shipping-options"))
        expect(options.status).toBe(200)
        const quoted = json(options, ShippingOptions).shippingOptions
        expect(quoted.map((option) => option.methodId)).toEqual(["standard", "express", "priority"])
        for (const option of quoted) {
          expect(option.cost.currency).toBe("USD")
          expect(option.eta).toMatch(/^\d{4}-\d{2}-\d{2}$/)
          expect(option.transitDays).toBeGreaterThan(0)
        }
        const refused = await api("POST", on(cart.cartId, "/shipping"), { body: { methodId: "teleport" } })
        expectError(refused, 400, "invalid_shipping_method")
        expect(cartOf(await api("GET", `/api/cart/${cart.cartId}`)).shippingMethod).toBeNull()
        const express = quoted.find((option) => option.methodId === "express")
        const chosen = cartOf(await api("POST", on(cart.cartId, "/shipping"), { body: { methodId: "express" } }))
        expect(chosen.shippingMethod).toEqual(express)
        expect(chosen.summary.shipping).toEqual(express?.cost)
        // Heavier: re-quoted on the change.
        const heavier = cartOf(
          await api("POST", on(cart.cartId, "/update"), {
            body: { variantId: product.variants[0].variantId, quantity: 4 }
          })
        )
        expect(heavier.shippingMethod?.methodId).toBe("express")
        expect(heavier.shippingMethod?.cost.amount).toBeGreaterThan(express?.cost.amount ?? 0)
      })

      it("charges tax by destination (region over country), per line on discounted amounts, plus taxable shipping", async () => {
        expect((await api("PUT", "/api/admin/tax-rates/CA", { token: admin.token, body: { rate: 500 } })).status).toBe(
          200
        )
        expect(
          (
            await api("PUT", "/api/admin/tax-rates/CA-ON", {
              token: admin.token,
              body: { rate: 1300, shippingTaxable: true }
            })
          ).status
        ).toBe(200)
        const a = await shop.createProduct(admin.token, { title: "Taxed A", price: usd(1005), stock: 10 })
        const b = await shop.createProduct(admin.token, { title: "Taxed B", price: usd(333), stock: 10 })
        const code = uniqueSku("TEN")
        await api("POST", "/api/admin/coupons", { token: admin.token, body: { code, type: "percent", value: 10 } })
        const cart = await newCart()
        cartOf(await api("POST", on(cart.cartId, "/add"), { body: { productId: a.productId, quantity: 1 } }))
        cartOf(await api("POST", on(cart.cartId, "/add"), { body: { productId: b.productId, quantity: 3 } }))
        cartOf(await api("POST", on(cart.cartId, "/coupon/apply"), { body: { code } }))
        cartOf(await api("POST", on(cart.cartId, "/address"), { body: { address: ontario } }))
        const taxed = cartOf(await api("POST", on(cart.cartId, "/shipping"), { body: { methodId: "standard" } }))
        // Lines 1005 and 999; 10% off per line, half away from zero: 101 and 100.
        expect(taxed.summary.discount.amount).toBe(201)
        const shipping = taxed.summary.shipping.amount
        const round = (n: number, d: number) => Math.sign(n) * Math.floor((Math.abs(n) * 2 + d) / (2 * d))
        const expected =
          round((1005 - 101) * 1300, 10_000) + round((999 - 100) * 1300, 10_000) + round(shipping * 1300, 10_000)
        expect(taxed.summary.tax.amount).toBe(expected)
        // Quebec: the country's 5%, shipping not taxable.
        const quebec = cartOf(
          await api("POST", on(cart.cartId, "/address"), {
            body: { address: { ...ontario, region: "QC", postalCode: "H2X 1Y4", city: "Montreal" } }
          })
        )
        expect(quebec.summary.tax.amount).toBe(round(904 * 500, 10_000) + round(899 * 500, 10_000))
      })

      it("applies coupons: percent, fixed, shipping; keeps one that stops applying, with its reason", async () => {
        const product = await shop.createProduct(admin.token, { title: "Coupon Lamp", price: usd(3000), stock: 50 })
        const variantId = product.variants[0].variantId
        const min = uniqueSku("MIN")
        const fixed = uniqueSku("FIX")
        const free = uniqueSku("FREE")
        await api("POST", "/api/admin/coupons", {
          token: admin.token,
          body: { code: min, type: "percent", value: 20, minCart: { amount: 5000, currency: "USD" } }
        })
        await api("POST", "/api/admin/coupons", {
          token: admin.token,
          body: { code: fixed, type: "fixed", value: 1000 }
        })
        await api("POST", "/api/admin/coupons", { token: admin.token, body: { code: free, type: "free_shipping" } })
        const cart = await newCart()
        cartOf(await api("POST", on(cart.cartId, "/add"), { body: { productId: product.productId, quantity: 1 } }))
        const below = await api("POST", on(cart.cartId, "/coupon/apply"), { body: { code: min.toLowerCase() } })
        expectError(below, 400, "min_cart_not_met")
        expect(errorBody(below).details).toEqual({ min: { amount: 5000, currency: "USD" } })
        expect(cartOf(await api("GET", `/api/cart/${cart.cartId}`)).coupon).toBeNull()
        expectError(
          await api("POST", on(cart.cartId, "/coupon/apply"), { body: { code: "NO-SUCH-CODE" } }),
          404,
          "invalid_coupon"
        )
        cartOf(await api("POST", on(cart.cartId, "/update"), { body: { variantId, quantity: 2 } }))
        const applied = cartOf(
          await api("POST", on(cart.cartId, "/coupon/apply"), { body: { code: min.toLowerCase() } })
        )
        expect(applied.coupon).toEqual({ code: min, applicable: true })
        expect(applied.summary.discount.amount).toBe(1200)
        const fell = cartOf(await api("POST", on(cart.cartId, "/update"), { body: { variantId, quantity: 1 } }))
        expect(fell.coupon).toEqual({ code: min, applicable: false, reason: "min_cart_not_met" })
        expect(fell.summary.discount.amount).toBe(0)
        const back = cartOf(await api("POST", on(cart.cartId, "/update"), { body: { variantId, quantity: 3 } }))
        expect(back.coupon).toEqual({ code: min, applicable: true })
        expect(back.summary.discount.amount).toBe(1800)
        const replaced = cartOf(await api("POST", on(cart.cartId, "/coupon/apply"), { body: { code: fixed } }))
        expect(replaced.coupon).toEqual({ code: fixed, applicable: true })
        expect(replaced.summary.discount.amount).toBe(1000)
        expect((await api("DELETE", `/api/admin/coupons/${fixed}`, { token: admin.token })).status).toBe(204)
        const gone = cartOf(await api("POST", on(cart.cartId, "/update"), { body: { variantId, quantity: 2 } }))
        expect(gone.coupon).toEqual({ code: fixed, applicable: false, reason: "invalid_coupon" })
        const removed = cartOf(await api("POST", on(cart.cartId, "/coupon/remove")))
        expect(removed.coupon).toBeNull()
        // Free standard shipping: below the free threshold, standard costs something until the coupon.
        const small = await newCart()
        const cheap = await shop.createProduct(admin.token, { title: "Coupon Pin", price: usd(500), stock: 5 })
        cartOf(await api("POST", on(small.cartId, "/add"), { body: { productId: cheap.productId, quantity: 1 } }))
        cartOf(await api("POST", on(small.cartId, "/address"), { body: { address: ontario } }))
        const paid = cartOf(await api("POST", on(small.cartId, "/shipping"), { body: { methodId: "standard" } }))
        expect(paid.summary.shipping.amount).toBeGreaterThan(0)
        const shipped = cartOf(await api("POST", on(small.cartId, "/coupon/apply"), { body: { code: free } }))
        expect(shipped.summary.shipping.amount).toBe(0)
        expect(shipped.summary.discount.amount).toBe(0)
        const options = json(await api("GET", on(small.cartId, "/shipping-options")), ShippingOptions).shippingOptions
        expect(options.find((option) => option.methodId === "standard")?.cost.amount).toBe(0)
      })

      it("throttles repeated bad codes from one cart: 429 with Retry-After, then even a good code", async () => {
        const good = uniqueSku("GOOD")
        await api("POST", "/api/admin/coupons", { token: admin.token, body: { code: good, type: "percent", value: 5 } })
        const cart = await newCart()
        for (let attempt = 0; attempt < 5; attempt++) {
          const reply = await api("POST", on(cart.cartId, "/coupon/apply"), { body: { code: `NOPE-${attempt}` } })
          expectError(reply, 404, "invalid_coupon")
        }
        const throttled = await api("POST", on(cart.cartId, "/coupon/apply"), { body: { code: "NOPE-6" } })
        expectError(throttled, 429, "rate_limited")
        const retryAfter = Number(throttled.headers.get("retry-after"))
        expect(retryAfter).toBeGreaterThan(0)
        expect(errorBody(throttled).details).toEqual({ retryAfter })
        expectError(await api("POST", on(cart.cartId, "/coupon/apply"), { body: { code: good } }), 429, "rate_limited")
        expect(cartOf(await api("GET", `/api/cart/${cart.cartId}`)).coupon).toBeNull()
        // Another cart (same client, well under its own limit) is not held up.
        const other = await newCart()
        const fine = cartOf(await api("POST", on(other.cartId, "/coupon/apply"), { body: { code: good } }))
        expect(fine.coupon).toEqual({ code: good, applicable: true })
      })

      it("an expiring coupon stops applying once expired: coupon_expired", async () => {
        const product = await shop.createProduct(admin.token, { title: "Brief Deal", price: usd(1000), stock: 5 })
        const code = uniqueSku("SOON")
        const created = await api("POST", "/api/admin/coupons", {
          token: admin.token,
          body: { code, type: "percent", value: 50, expiresAt: new Date(Date.now() + 1500).toISOString() }
        })
        expect(created.status).toBe(201)
        const cart = await newCart()
        cartOf(await api("POST", on(cart.cartId, "/add"), { body: { productId: product.productId, quantity: 1 } }))
        expect(cartOf(await api("POST", on(cart.cartId, "/coupon/apply"), { body: { code } })).coupon?.applicable).toBe(
          true
        )
        await new Promise((resolve) => setTimeout(resolve, 1600))
        const later = cartOf(
          await api("POST", on(cart.cartId, "/add"), { body: { productId: product.productId, quantity: 1 } })
        )
        expect(later.coupon).toEqual({ code, applicable: false, reason: "coupon_expired" })
        expect(later.summary.discount.amount).toBe(0)
        const other = await newCart()
        cartOf(await api("POST", on(other.cartId, "/add"), { body: { productId: product.productId, quantity: 1 } }))
        expectError(await api("POST", on(other.cartId, "/coupon/apply"), { body: { code } }), 400, "coupon_expired")
      })

      it("answers every malformed body on every cart route with a 4xx and the standard error body", async () => {
        const cart = await newCart()
        const routes = ["/add", "/update", "/remove", "/address", "/shipping", "/coupon/apply"]
        const bodies = [
          "null",
          "[]",
          '"text"',
          "1",
          "{}",
          '{"quantity":-1,"productId":"prd_x"}',
          '{"variantId":{"nested":[1,2,3]},"quantity":"1"}',
          '{"address":{"country":"ZZ","line1":"\u0000"}}',
          '{"addressId":""}',
          '{"methodId":""}',
          '{"code":"' + "x".repeat(100) + '"}',
          '{"code":"\ud800"}'
        ]
        for (const route of routes) {
          for (const raw of bodies) {
            const reply = await api("POST", on(cart.cartId, route), { raw })
            expect(reply.status, `${route} ${raw}`).toBeGreaterThanOrEqual(400)
            expect(reply.status, `${route} ${raw}`).toBeLessThan(500)
            errorBody(reply)
          }
        }
        expect(cartOf(await api("GET", `/api/cart/${cart.cartId}`))).toEqual(cart)
      })

      it("50 parallel adds to one cart end at quantity 50, while 50 other carts take adds in parallel", async () => {
        const product = await shop.createProduct(admin.token, { title: "Busy", price: usd(100), stock: 1000 })
        const body = { productId: product.productId, quantity: 1 }
        const hot = await newCart()
        const others = await Promise.all(Array.from({ length: 50 }, () => newCart()))
        const replies = await Promise.all([
          ...Array.from({ length: 50 }, () => api("POST", on(hot.cartId, "/add"), { body })),
          ...others.map((cart) => api("POST", on(cart.cartId, "/add"), { body }))
        ])
        expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200))
        const final = cartOf(await api("GET", `/api/cart/${hot.cartId}`))
        expect(final.items.map((line) => line.quantity)).toEqual([50])
        expect(final.summary.subtotal.amount).toBe(5000)
        const quantities = await Promise.all(
          others.map(async (cart) => cartOf(await api("GET", `/api/cart/${cart.cartId}`)).items.map((l) => l.quantity))
        )
        expect(quantities).toEqual(others.map(() => [1]))
      })
    })

    describe("product images", () => {
      imageScenarios({
        target: () => target,
        api: (method, path, call) => api(method, path, call),
        shop: () => shop,
        admin: () => admin,
        user: () => user
      })
    })

    describe("http caching", () => {
      httpCacheScenarios({
        target: () => target,
        api: (method, path, call) => api(method, path, call),
        shop: () => shop,
        admin: () => admin,
        user: () => user
      })
    })

    describe("checkout, payments and orders", () => {
      checkoutScenarios({
        target: () => target,
        api: (method, path, call) => api(method, path, call),
        shop: () => shop,
        admin: () => admin
      })
    })

    describe("idempotency keys", () => {
      // The raw exchange: the replay must be byte for byte the first body.
      const send = async (method: string, path: string, call: { body?: unknown; key?: string; token?: string }) => {
        const headers: Record<string, string> = { "content-type": "application/json" }
        if (call.key !== undefined) headers["idempotency-key"] = call.key
        if (call.token !== undefined) headers["authorization"] = `Bearer ${call.token}`
        const response = await target.fetch(
          new Request(`http://shop.test${path}`, {
            method,
            headers,
            body: call.body === undefined ? null : JSON.stringify(call.body)
          })
        )
        return { status: response.status, headers: response.headers, text: await response.text() }
      }
      const uniqueKey = () => `key-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`
      const newCart = async () => json(await api("POST", "/api/cart/init"), Cart)
      const quantityIn = async (cartId: string) =>
        json(await api("GET", `/api/cart/${cartId}`), Cart).items.reduce((sum, line) => sum + line.quantity, 0)

      it("a repeated add with the same key adds once and replays the same body, marked replayed", async () => {
        const product = await shop.createProduct(admin.token, { title: "Once Mug", price: usd(800), stock: 50 })
        const cart = await newCart()
        const key = uniqueKey()
        const body = { productId: product.productId, quantity: 2 }
        const first = await send("POST", `/api/cart/${cart.cartId}/add`, { body, key })
        expect(first.status).toBe(200)
        expect(first.headers.get("idempotent-replayed")).toBeNull()
        const again = await send("POST", `/api/cart/${cart.cartId}/add`, { body, key })
        expect(again.status).toBe(200)
        expect(again.headers.get("idempotent-replayed")).toBe("true")
        expect(again.headers.get("content-type")).toBe(first.headers.get("content-type"))
        expect(again.headers.get("x-request-id")).not.toBe(first.headers.get("x-request-id"))
        expect(again.text).toBe(first.text)
        expect(await quantityIn(cart.cartId)).toBe(2)
        // Without a key, the same request runs again.
        expect((await send("POST", `/api/cart/${cart.cartId}/add`, { body })).status).toBe(200)
        expect(await quantityIn(cart.cartId)).toBe(4)
      })

      it("the same key with another body is 422 idempotency_key_reused, and changes nothing", async () => {
        const product = await shop.createProduct(admin.token, { title: "Reuse Mug", price: usd(800), stock: 50 })
        const cart = await newCart()
        const key = uniqueKey()
        const path = `/api/cart/${cart.cartId}/add`
        expect((await send("POST", path, { body: { productId: product.productId, quantity: 1 }, key })).status).toBe(
          200
        )
        const reused = await send("POST", path, { body: { productId: product.productId, quantity: 3 }, key })
        expect(reused.status).toBe(422)
        expect(JSON.parse(reused.text)).toMatchObject({ error: "idempotency_key_reused" })
        expect(await quantityIn(cart.cartId)).toBe(1)
      })

      it("one user's key is independent of another user's same key on the same route", async () => {
        const [first, second] = [await shop.newUser("idem"), await shop.newUser("idem")]
        const key = uniqueKey()
        const mine = await send("POST", "/api/addresses", { body: address, key, token: first.token })
        const theirs = await send("POST", "/api/addresses", { body: address, key, token: second.token })
        expect([mine.status, theirs.status]).toEqual([201, 201])
        expect(theirs.headers.get("idempotent-replayed")).toBeNull()
        const ids = [mine, theirs].map(
          (reply) => json({ body: JSON.parse(reply.text) }, AddressReply).address.addressId
        )
        expect(ids[0]).not.toBe(ids[1])
        expect(json(await api("GET", "/api/addresses", { token: second.token }), Addresses).addresses).toHaveLength(1)
      })

      it("a refusal (4xx) is replayed even after the cause is gone", async () => {
        const product = await shop.createProduct(admin.token, { title: "Short Mug", price: usd(800), stock: 1 })
        const cart = await newCart()
        const key = uniqueKey()
        const body = { productId: product.productId, quantity: 2 }
        const refused = await send("POST", `/api/cart/${cart.cartId}/add`, { body, key })
        expect(refused.status).toBe(409)
        await shop.setStock(admin.token, product.variants[0].variantId, 10)
        const replayed = await send("POST", `/api/cart/${cart.cartId}/add`, { body, key })
        expect(replayed.status).toBe(409)
        expect(replayed.headers.get("idempotent-replayed")).toBe("true")
        expect(replayed.text).toBe(refused.text)
        // A new key runs the request on today's stock.
        expect((await send("POST", `/api/cart/${cart.cartId}/add`, { body, key: uniqueKey() })).status).toBe(200)
      })

      it("a malformed key is 400 validation_error, before anything runs", async () => {
        const product = await shop.createProduct(admin.token, { title: "Bad Key Mug", price: usd(800), stock: 5 })
        const cart = await newCart()
        const body = { productId: product.productId, quantity: 1 }
        for (const key of ["", "a".repeat(256), "has space", "caf\u00e9"]) {
          const reply = await send("POST", `/api/cart/${cart.cartId}/add`, { body, key })
          expect(reply.status, JSON.stringify(key)).toBe(400)
          expect(JSON.parse(reply.text)).toMatchObject({ error: "validation_error", details: { in: "headers" } })
        }
        expect(await quantityIn(cart.cartId)).toBe(0)
        expect((await send("POST", `/api/cart/${cart.cartId}/add`, { body, key: "a".repeat(255) })).status).toBe(200)
      })

      it("10 concurrent requests with one key: the effect happens once, the rest replay or are told 409", async () => {
        const product = await shop.createProduct(admin.token, { title: "Race Mug", price: usd(800), stock: 50 })
        const cart = await newCart()
        const key = uniqueKey()
        const body = { productId: product.productId, quantity: 1 }
        const replies = await Promise.all(
          Array.from({ length: 10 }, () => send("POST", `/api/cart/${cart.cartId}/add`, { body, key }))
        )
        const ran = replies.filter((r) => r.status === 200 && r.headers.get("idempotent-replayed") === null)
        expect(ran).toHaveLength(1)
        for (const reply of replies) {
          if (reply === ran[0]) continue
          if (reply.status === 409) {
            expect(JSON.parse(reply.text)).toMatchObject({ error: "idempotency_key_in_use" })
            expect(Number(reply.headers.get("retry-after"))).toBeGreaterThan(0)
          } else {
            expect(reply.status).toBe(200)
            expect(reply.headers.get("idempotent-replayed")).toBe("true")
            expect(reply.text).toBe(ran[0]?.text)
          }
        }
        expect(await quantityIn(cart.cartId)).toBe(1)
      })
    })

    describe("authorization matrix", () => {
      // Refused calls aim at real things, so that a check made after a write
      // would show up as a changed product, stock level, address or role.
      const target = {
        productId: "",
        variantId: "",
        addressId: "",
        promotable: "",
        promotableToken: "",
        couponCode: ""
      }
      beforeAll(async () => {
        const product = await shop.createProduct(admin.token, { title: "Authz target", stock: 5 })
        target.productId = product.productId
        target.variantId = product.variants[0].variantId
        target.addressId = (await shop.addAddress(user.token, address)).addressId
        const promotable = await shop.newUser("authz")
        target.promotable = promotable.email
        target.promotableToken = promotable.token
        target.couponCode = uniqueSku("AUTHZ")
        await api("POST", "/api/admin/coupons", {
          token: admin.token,
          body: { code: target.couponCode, type: "percent", value: 5 }
        })
      })

      // [method, path, body, who may call it]
      const routes: ReadonlyArray<readonly [string, () => string, () => unknown, "user" | "admin"]> = [
        ["GET", () => "/api/auth/me", () => undefined, "user"],
        ["POST", () => "/api/auth/logout", () => undefined, "user"],
        ["GET", () => "/api/addresses", () => undefined, "user"],
        ["POST", () => "/api/addresses", () => address, "user"],
        ["PUT", () => `/api/addresses/${target.addressId}`, () => ({ city: "Changed" }), "user"],
        ["DELETE", () => `/api/addresses/${target.addressId}`, () => undefined, "user"],
        ["POST", () => "/api/auth/admin/promote", () => ({ email: target.promotable }), "admin"],
        [
          "POST",
          () => "/api/admin/products",
          () => ({ sku: "AUTHZ-1", title: "X", price: { amount: 1, currency: "USD" } }),
          "admin"
        ],
        ["PUT", () => `/api/admin/products/${target.productId}`, () => ({ title: "Changed" }), "admin"],
        ["DELETE", () => `/api/admin/products/${target.productId}`, () => undefined, "admin"],
        ["GET", () => `/api/admin/inventory/${target.variantId}`, () => undefined, "admin"],
        ["PUT", () => `/api/admin/inventory/${target.variantId}`, () => ({ stock: 1 }), "admin"],
        ["GET", () => "/api/admin/tax-rates", () => undefined, "admin"],
        ["PUT", () => "/api/admin/tax-rates/FR", () => ({ rate: 2000 }), "admin"],
        ["POST", () => "/api/admin/coupons", () => ({ code: "AUTHZ-COUPON", type: "percent", value: 5 }), "admin"],
        ["GET", () => "/api/admin/coupons", () => undefined, "admin"],
        ["DELETE", () => `/api/admin/coupons/${target.couponCode}`, () => undefined, "admin"]
      ]

      for (const [method, path, body, who] of routes) {
        const name = path().replace(/\/$/, "/:id")
        it(`${method} ${name}: anonymous 401${who === "admin" ? ", user 403" : ""}`, async () => {
          const payload = body()
          expectError(await api(method, path(), payload === undefined ? {} : { body: payload }), 401, "unauthorized")
          if (who === "admin") {
            const reply = await api(
              method,
              path(),
              payload === undefined ? { token: other.token } : { body: payload, token: other.token }
            )
            expectError(reply, 403, "forbidden")
          }
        })
      }

      it("nothing was written by refused calls", async () => {
        expect(json(await api("GET", "/api/products?q=AUTHZ-1"), ProductPage).total).toBe(0)
        const product = await api("GET", `/api/products/${target.productId}`)
        expect(product.status).toBe(200)
        expect(json(product, Product).title).toBe("Authz target")
        const stock = await api("GET", `/api/admin/inventory/${target.variantId}`, { token: admin.token })
        expect(json(stock, StockLevel).stock).toBe(5)
        const addresses = json(await api("GET", "/api/addresses", { token: user.token }), Addresses).addresses
        expect(addresses.find((a) => a.addressId === target.addressId)).toMatchObject({ city: address.city })
        expect(json(await api("GET", "/api/auth/me", { token: target.promotableToken }), Me).role).toBe("user")
        const rates = json(await api("GET", "/api/admin/tax-rates", { token: admin.token }), TaxRates).rates
        expect(rates.find((r) => r.country === "FR")).toBeUndefined()
        const coupons = json(await api("GET", "/api/admin/coupons", { token: admin.token }), Coupons).coupons
        expect(coupons.map((c) => c.code)).toContain(target.couponCode)
        expect(coupons.map((c) => c.code)).not.toContain("AUTHZ-COUPON")
      })

      it("another user cannot touch the address either", async () => {
        expectError(
          await api("PUT", `/api/addresses/${target.addressId}`, { token: other.token, body: { city: "X" } }),
          404,
          "address_not_found"
        )
        expectError(
          await api("DELETE", `/api/addresses/${target.addressId}`, { token: other.token }),
          404,
          "address_not_found"
        )
      })
    })
  })
}
