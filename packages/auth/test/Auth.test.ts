import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { SessionId, UserId } from "@shop/domain/Ids"
import { Auth } from "../src/Auth.ts"
import { AuthConfig, defaultThrottle } from "../src/AuthConfig.ts"
import * as AuthLive from "../src/AuthLive.ts"
import { AuthRepository } from "../src/AuthRepository.ts"
import * as AuthRepositoryMemory from "../src/AuthRepositoryMemory.ts"
import { hash, verify } from "../src/Passwords.ts"

// Fewer iterations keep the unit tests fast (layerTest); the stored
// parameters make the count a per-hash property (see the Passwords tests).
const config = (adminSecret: string | null, jwtSecret = "unit-test-secret-0123456789abcdef") =>
  AuthConfig.layerTest({
    jwtSecret: Redacted.make(jwtSecret),
    adminSecret: adminSecret === null ? Option.none() : Option.some(Redacted.make(adminSecret)),
    tokenTtlSeconds: 3600,
    throttle: { ...defaultThrottle, maxFailuresPerEmail: 3, maxFailuresPerClient: 5 }
  })

const authLayer = (adminSecret: string | null, jwtSecret?: string) =>
  AuthLive.layerMemory.pipe(Layer.provide(config(adminSecret, jwtSecret)))

// A fresh store per test: each test builds its own service.
// null: no admin secret configured at all.
const withAuth = (adminSecret: string | null = "let-me-in-please-now") => Effect.provide(authLayer(adminSecret))

const credentials = { email: "Ada@Example.com", password: "correct horse battery", name: "Ada" }

describe("Auth", () => {
  it.effect("signs up with a normalised email and refuses duplicates in any case", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      const user = yield* auth.signup(credentials)
      assert.strictEqual(user.email, "ada@example.com")
      assert.match(user.userId, /^usr_/)
      const dup = yield* Effect.flip(auth.signup({ ...credentials, email: "ADA@example.com" }))
      assert.strictEqual(dup._tag, "EmailExists")
    }).pipe(withAuth())
  )

  it.effect("issues a token whose session authenticates until logout", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      const { userId } = yield* auth.signup(credentials)
      const { accessToken, expiresIn } = yield* auth.login({ ...credentials, client: "c1" })
      assert.strictEqual(expiresIn, 3600)
      const principal = yield* auth.authenticate({ token: accessToken })
      assert.strictEqual(principal.userId, userId)
      assert.strictEqual(principal.role, "user")
      yield* auth.logout({ sessionId: principal.sessionId })
      const error = yield* Effect.flip(auth.authenticate({ token: accessToken }))
      assert.strictEqual(error._tag, "Unauthorized")
    }).pipe(withAuth())
  )

  it.effect("a token stops working when it expires (TestClock)", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      yield* auth.signup(credentials)
      const { accessToken } = yield* auth.login({ ...credentials, client: "c1" })
      yield* TestClock.adjust("59 minutes")
      yield* auth.authenticate({ token: accessToken })
      yield* TestClock.adjust("2 minutes")
      const error = yield* Effect.flip(auth.authenticate({ token: accessToken }))
      assert.strictEqual(error._tag, "Unauthorized")
    }).pipe(withAuth())
  )

  it.effect("wrong password and unknown email fail the same way", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      yield* auth.signup(credentials)
      const wrong = yield* Effect.flip(auth.login({ ...credentials, password: "nope nope nope", client: "c1" }))
      const unknown = yield* Effect.flip(auth.login({ ...credentials, email: "ghost@example.com", client: "c1" }))
      assert.strictEqual(wrong._tag, "InvalidCredentials")
      assert.strictEqual(unknown._tag, "InvalidCredentials")
    }).pipe(withAuth())
  )

  it.effect("throttles one email after repeated failures, then lets it in after the window", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      yield* auth.signup(credentials)
      for (let i = 0; i < 3; i++) {
        yield* Effect.flip(auth.login({ ...credentials, password: "wrong password", client: `c${i}` }))
      }
      const limited = yield* Effect.flip(auth.login({ ...credentials, client: "fresh-client" }))
      assert.strictEqual(limited._tag, "RateLimited")
      if (limited._tag === "RateLimited") assert.strictEqual(limited.details.retryAfter, 15 * 60)
      yield* TestClock.adjust("10 minutes")
      const still = yield* Effect.flip(auth.login({ ...credentials, client: "fresh-client" }))
      assert.strictEqual(still._tag, "RateLimited")
      if (still._tag === "RateLimited") assert.strictEqual(still.details.retryAfter, 5 * 60)
      yield* TestClock.adjust("5 minutes")
      const ok = yield* auth.login({ ...credentials, client: "fresh-client" })
      assert.isString(ok.accessToken)
    }).pipe(withAuth())
  )

  it.effect("concurrent wrong guesses cannot outrun the throttle", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      yield* auth.signup(credentials)
      const results = yield* Effect.all(
        Array.from({ length: 20 }, (_, i) =>
          Effect.flip(auth.login({ ...credentials, password: `wrong guess ${i}`, client: `c${i}` }))
        ),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(results.filter((e) => e._tag === "InvalidCredentials").length, 3)
      assert.strictEqual(results.filter((e) => e._tag === "RateLimited").length, 17)
    }).pipe(withAuth())
  )

  it.effect("throttles one client across many emails", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      yield* auth.signup(credentials)
      for (let i = 0; i < 5; i++) {
        yield* Effect.flip(auth.login({ email: `guess${i}@example.com`, password: "guess guess", client: "attacker" }))
      }
      const limited = yield* Effect.flip(auth.login({ ...credentials, client: "attacker" }))
      assert.strictEqual(limited._tag, "RateLimited")
      // The same account from another client is unaffected.
      yield* auth.login({ ...credentials, client: "someone-else" })
    }).pipe(withAuth())
  )

  it.effect("a success clears the failures of that email", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      yield* auth.signup(credentials)
      for (let i = 0; i < 2; i++)
        yield* Effect.flip(auth.login({ ...credentials, password: "wrong password", client: "c" }))
      yield* auth.login({ ...credentials, client: "c" })
      for (let i = 0; i < 2; i++)
        yield* Effect.flip(auth.login({ ...credentials, password: "wrong password", client: "d" }))
      yield* auth.login({ ...credentials, client: "d" })
    }).pipe(withAuth())
  )

  it.effect("admin signup requires the configured secret", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      const missing = yield* Effect.flip(auth.adminSignup({ ...credentials, secret: undefined, client: "c" }))
      const wrong = yield* Effect.flip(
        auth.adminSignup({ ...credentials, secret: "let-me-in-please-nowx", client: "c" })
      )
      assert.strictEqual(missing._tag, "Unauthorized")
      assert.strictEqual(wrong._tag, "Unauthorized")
      const admin = yield* auth.adminSignup({ ...credentials, secret: "let-me-in-please-now", client: "c" })
      assert.strictEqual(admin.role, "admin")
    }).pipe(withAuth())
  )

  it.effect("guesses at the admin secret are throttled per client", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      for (let i = 0; i < 3; i++) {
        const wrong = yield* Effect.flip(auth.adminSignup({ ...credentials, secret: `guess-${i}`, client: "x" }))
        assert.strictEqual(wrong._tag, "Unauthorized")
      }
      const limited = yield* Effect.flip(
        auth.adminSignup({ ...credentials, secret: "let-me-in-please-now", client: "x" })
      )
      assert.strictEqual(limited._tag, "RateLimited")
      const other = yield* auth.adminSignup({ ...credentials, secret: "let-me-in-please-now", client: "y" })
      assert.strictEqual(other.role, "admin")
    }).pipe(withAuth())
  )

  it.effect("refuses to start with a short JWT secret or a short admin secret", () =>
    Effect.gen(function* () {
      const build = (jwtSecret: string, adminSecret: string | null) =>
        Effect.exit(
          Effect.provide(
            Effect.gen(function* () {
              return yield* Auth
            }),
            authLayer(adminSecret, jwtSecret)
          )
        )
      assert.strictEqual((yield* build("short", null))._tag, "Failure")
      assert.strictEqual((yield* build("x".repeat(32), "short-secret"))._tag, "Failure")
      assert.strictEqual((yield* build("x".repeat(32), null))._tag, "Success")
      assert.strictEqual((yield* build("x".repeat(32), ""))._tag, "Success")
    })
  )

  it.effect("admin signup is disabled when no secret is configured", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      for (const secret of ["", "let-me-in-please-now", undefined]) {
        const error = yield* Effect.flip(auth.adminSignup({ ...credentials, secret, client: "c" }))
        assert.strictEqual(error._tag, "Unauthorized")
      }
    }).pipe(withAuth(null))
  )

  it.effect("an empty configured admin secret disables admin signup, even for an empty header", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      const error = yield* Effect.flip(auth.adminSignup({ ...credentials, secret: "", client: "c" }))
      assert.strictEqual(error._tag, "Unauthorized")
    }).pipe(withAuth(""))
  )

  it.effect("promotes once; the role change is seen by existing sessions", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      const { userId } = yield* auth.signup(credentials)
      const { accessToken } = yield* auth.login({ ...credentials, client: "c" })
      const promoted = yield* auth.promote({ email: "ADA@example.com" })
      assert.deepStrictEqual(promoted, { userId, email: "ada@example.com", role: "admin" })
      assert.strictEqual((yield* auth.authenticate({ token: accessToken })).role, "admin")
      const again = yield* Effect.flip(auth.promote({ userId }))
      assert.strictEqual(again._tag, "AlreadyAdmin")
      const missing = yield* Effect.flip(auth.promote({ email: "nobody@example.com" }))
      assert.strictEqual(missing._tag, "UserNotFound")
    }).pipe(withAuth())
  )

  it.effect("concurrent promotions of one user succeed exactly once", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      const { userId } = yield* auth.signup(credentials)
      const results = yield* Effect.all(
        Array.from({ length: 10 }, () => Effect.result(auth.promote({ userId }))),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(results.filter((r) => r._tag === "Success").length, 1)
    }).pipe(withAuth())
  )

  it.effect("addresses belong to their owner", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      const ada = yield* auth.signup(credentials)
      const bob = yield* auth.signup({ ...credentials, email: "bob@example.com" })
      const address = yield* auth.createAddress({
        userId: ada.userId,
        address: { line1: "1 Main St", city: "Springfield", postalCode: "12345", country: "US" }
      })
      const stolen = yield* Effect.flip(
        auth.updateAddress({ userId: bob.userId, addressId: address.addressId, patch: { city: "X" } })
      )
      assert.strictEqual(stolen._tag, "AddressNotFound")
      const deleted = yield* Effect.flip(auth.deleteAddress({ userId: bob.userId, addressId: address.addressId }))
      assert.strictEqual(deleted._tag, "AddressNotFound")
      const updated = yield* auth.updateAddress({
        userId: ada.userId,
        addressId: address.addressId,
        patch: { city: "Shelbyville" }
      })
      assert.strictEqual(updated.city, "Shelbyville")
      assert.strictEqual(updated.line1, "1 Main St")
      const me = yield* auth.me({ userId: ada.userId })
      assert.deepStrictEqual(me.addresses, [updated])
    }).pipe(withAuth())
  )
})

describe("Passwords", () => {
  it.effect("stores the scheme, iterations and salt with the hash", () =>
    Effect.gen(function* () {
      const salt = new Uint8Array(16).fill(7)
      const stored = yield* hash("secret password", salt, 2_000)
      const [scheme, iterations, saltText, hashText] = stored.split("$")
      assert.strictEqual(scheme, "pbkdf2-sha256")
      assert.strictEqual(iterations, "2000")
      assert.isString(saltText)
      assert.strictEqual(atob(hashText!).length, 32)
      assert.isTrue(yield* verify(stored, "secret password"))
      assert.isFalse(yield* verify(stored, "secret passwore"))
    })
  )

  it.effect("verifies hashes made with another iteration count, so it can be raised later", () =>
    Effect.gen(function* () {
      const stored = yield* hash("pw pw pw pw", new Uint8Array(16), 1_500)
      assert.isTrue(yield* verify(stored, "pw pw pw pw"))
    })
  )

  it.effect("the same password with two salts gives two hashes", () =>
    Effect.gen(function* () {
      const a = yield* hash("same password", new Uint8Array(16).fill(1), 1_000)
      const b = yield* hash("same password", new Uint8Array(16).fill(2), 1_000)
      assert.notStrictEqual(a, b)
    })
  )

  it.effect("rejects malformed stored hashes instead of throwing", () =>
    Effect.gen(function* () {
      assert.isFalse(yield* verify("md5$abc", "x"))
      assert.isFalse(yield* verify("pbkdf2-sha256$-1$AA==$AA==", "x"))
    })
  )
})

describe("AuthRepository (memory)", () => {
  it.effect("purge forgets old attempt windows and expired sessions only", () =>
    Effect.gen(function* () {
      const repo = yield* AuthRepository
      yield* repo.recordAttempt("k", 1_000, 60_000)
      yield* repo.recordAttempt("k", 1_000, 60_000)
      yield* repo.recordAttempt("fresh", 5_000, 60_000)
      const userId = UserId.make("usr_purgetest000000000000")
      yield* repo.insertUser({
        userId,
        email: "p@example.com",
        name: "P",
        role: "user",
        passwordHash: "x",
        createdAt: 0
      })
      const old = SessionId.make("ses_old000000000000000000")
      const live = SessionId.make("ses_live00000000000000000")
      yield* repo.insertSession({ sessionId: old, userId, createdAt: 0, expiresAt: 2_000 })
      yield* repo.insertSession({ sessionId: live, userId, createdAt: 0, expiresAt: 90_000 })
      yield* repo.purge(2_000, 3_000)
      // The purged window starts again at 1; the fresh one keeps counting.
      assert.strictEqual((yield* repo.recordAttempt("k", 1_000, 60_000)).count, 1)
      assert.strictEqual((yield* repo.recordAttempt("fresh", 5_000, 60_000)).count, 2)
      assert.isTrue(Option.isNone(yield* repo.findSession(old)))
      assert.isTrue(Option.isSome(yield* repo.findSession(live)))
    }).pipe(Effect.provide(AuthRepositoryMemory.layer))
  )
})
