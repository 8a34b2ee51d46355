import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ConfigProvider, Effect, Layer } from "effect"
import { Auth } from "@shop/auth/Auth"
import { Carts } from "@shop/cart/Carts"
import { Catalog } from "@shop/catalog/Catalog"
import { CartId } from "@shop/domain/Ids"
import { Payments } from "@shop/payments/Payments"
import * as PaypalFake from "@shop/paypal-fake/PaypalFake"
import * as Databases from "../src/Databases.ts"
import * as PaypalFakeServer from "../src/PaypalFake.ts"
import * as Seed from "../src/Seed.ts"
import * as Services from "../src/Services.ts"
import * as Settings from "../src/Settings.ts"
import { mayWrite } from "../src/SqliteClient.ts"

// The SQL statements of one full checkout on node, through the same service
// graph `npm start` builds (Services.ts), each database reporting what it
// runs (Databases.StatementObserver). What is counted is what the gateway
// asks of the services for the two requests of a checkout:
//
//   POST /api/checkout/start    authenticate, Carts.startCheckout
//   (the buyer approves at PayPal: no SQL)
//   POST /api/checkout/capture  authenticate, Payments.findByProviderOrder, Carts.capture
//
// PayPal is the fake, served on loopback by this process and configured as a
// real PayPal (PAYPAL_CLIENT_ID...), with no webhook URL: a webhook's capture
// racing the buyer's would be counted with it and make the count vary.
// One checkout runs first, uncounted, so that what is counted is the steady
// state (product cache and PayPal token warm), then a second one is counted.
// Used by NodeCheckout.test.ts, and run as a script by `npm run bench`
// (prints one JSON line).

export interface Statement {
  readonly database: Databases.StoreName
  readonly step: Step
  readonly sql: string
}

export type Step = "authenticate" | "start" | "capture"

export interface CheckoutCount {
  readonly total: number
  readonly byDatabase: Partial<Record<Databases.StoreName, number>>
  readonly byStep: Record<Step, number>
  readonly statements: ReadonlyArray<Statement>
  /**
   * The commits the checkout waits for the disk on, one after another: those of the files
   * that sync every commit (Databases.synchronous "full"). Each costs a disk sync.
   */
  readonly syncs: { readonly total: number; readonly byDatabase: Partial<Record<Databases.StoreName, number>> }
}

// A commit is a statement that may write outside a transaction, or the end of one, as the
// client decides when to sync (SqliteClient.ts, `countingCommits`); transactions are followed per
// database from the BEGIN, COMMIT and ROLLBACK each reports (a ROLLBACK TO a savepoint keeps its
// transaction open).
const syncsOf = (statements: ReadonlyArray<Statement>): CheckoutCount["syncs"] => {
  const open = new Set<Databases.StoreName>()
  const byDatabase: Partial<Record<Databases.StoreName, number>> = {}
  for (const { database, sql } of statements) {
    let commits = false
    if (/^begin\b/i.test(sql)) open.add(database)
    else if (/^rollback\b(?!\s+to\b)/i.test(sql)) open.delete(database)
    else if (/^(?:commit|end)\b/i.test(sql)) {
      open.delete(database)
      commits = true
    } else commits = !open.has(database) && mayWrite.test(sql)
    if (commits && Databases.synchronous[database] === "full") byDatabase[database] = (byDatabase[database] ?? 0) + 1
  }
  return { total: Object.values(byDatabase).reduce((sum, n) => sum + n, 0), byDatabase }
}

const texas = {
  name: "Count Buyer",
  line1: "500 Congress Ave",
  city: "Austin",
  region: "TX",
  postalCode: "78701",
  country: "US"
}

const secret = () => randomBytes(24).toString("hex")

const newCartId = () => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
  return CartId.make(`cart_${Array.from(randomBytes(24), (b) => alphabet[b % alphabet.length]).join("")}`)
}

/** Counts one checkout's statements on a fresh shop in `dataDir`. */
export const countCheckout = (dataDir: string) =>
  Effect.gen(function* () {
    const fake = PaypalFake.make({
      clientId: `count-${secret().slice(0, 12)}`,
      clientSecret: secret(),
      webhookId: `WH-${secret().slice(0, 16)}`,
      webhookSecret: secret()
    })
    const { url } = yield* PaypalFakeServer.serve(fake.handler)

    const recorded: Array<Statement> = []
    let step: Step | undefined
    const env = {
      DATA_DIR: dataDir,
      JWT_SECRET: secret(),
      LOG_LEVEL: process.env["LOG_LEVEL"] ?? "warn",
      PASSWORD_ITERATIONS: "1000",
      PAYPAL_CLIENT_ID: fake.options.clientId,
      PAYPAL_CLIENT_SECRET: fake.options.clientSecret,
      PAYPAL_WEBHOOK_ID: fake.options.webhookId,
      PAYPAL_API_BASE: url
    }
    const services = Services.layer.pipe(
      Layer.provideMerge(Settings.layer),
      Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env }))),
      Layer.provide(
        Layer.succeed(Databases.StatementObserver, (database, sql) => {
          if (step !== undefined) recorded.push({ database, step, sql: sql.replace(/\s+/g, " ").trim() })
        })
      )
    )

    return yield* Effect.gen(function* () {
      yield* Seed.seedIfEmpty()
      const auth = yield* Auth
      const carts = yield* Carts
      const catalog = yield* Catalog
      const payments = yield* Payments

      const email = "count-buyer@example.com"
      const password = "count buyer password"
      const { userId } = yield* auth.signup({ email, password, name: "Count Buyer" })
      const { accessToken } = yield* auth.login({ email, password, client: "127.0.0.1" })
      const page = yield* catalog.list({ limit: 100, offset: 0, sort: "newest" })
      const product = page.items.find((p) => p.variants.length === 1 && (p.variants[0]?.available ?? 0) >= 5)
      if (product === undefined) return yield* Effect.die(new Error("no demo product with stock to buy"))

      const counted = <A, E, R>(name: Step, effect: Effect.Effect<A, E, R>) =>
        Effect.acquireUseRelease(
          Effect.sync(() => {
            step = name
          }),
          () => effect,
          () =>
            Effect.sync(() => {
              step = undefined
            })
        )

      // What the gateway does for one buyer's checkout (Handlers.ts, CheckoutHandlers).
      const checkout = Effect.gen(function* () {
        const cartId = newCartId()
        yield* carts.create({ cartId, userId })
        yield* carts.add({ cartId, caller: userId, productId: product.productId, quantity: 1 })
        yield* carts.setAddress({ cartId, caller: userId, address: texas })
        yield* carts.chooseShipping({ cartId, caller: userId, methodId: "standard" })

        yield* counted("authenticate", auth.authenticate({ token: accessToken }))
        const started = yield* counted(
          "start",
          carts.startCheckout({
            cartId,
            caller: userId,
            returnUrl: "http://127.0.0.1/checkout/return",
            cancelUrl: "http://127.0.0.1/checkout/cancel"
          })
        )
        const approval = yield* Effect.promise(() => fetch(started.approveUrl, { redirect: "manual" }))
        yield* Effect.promise(() => approval.arrayBuffer())
        if (approval.status !== 302) return yield* Effect.die(new Error(`approve: HTTP ${approval.status}`))

        yield* counted("authenticate", auth.authenticate({ token: accessToken }))
        return yield* counted(
          "capture",
          Effect.gen(function* () {
            const payment = yield* payments.findByProviderOrder({ providerOrderId: started.paypalOrderId })
            if (payment === null) return yield* Effect.die(new Error("the started payment is not found"))
            return yield* carts.capture({ cartId: payment.cartId, paymentId: payment.paymentId, caller: userId })
          })
        )
      })

      yield* checkout
      recorded.splice(0)
      const captured = yield* checkout
      if (captured.status !== "paid") return yield* Effect.die(new Error(`capture answered ${captured.status}`))

      const statements = [...recorded]
      const byDatabase: Partial<Record<Databases.StoreName, number>> = {}
      const byStep: Record<Step, number> = { authenticate: 0, start: 0, capture: 0 }
      for (const statement of statements) {
        byDatabase[statement.database] = (byDatabase[statement.database] ?? 0) + 1
        byStep[statement.step] += 1
      }
      const count: CheckoutCount = {
        total: statements.length,
        byDatabase,
        byStep,
        statements,
        syncs: syncsOf(statements)
      }
      return count
    }).pipe(Effect.provide(services))
  }).pipe(Effect.scoped)

/** The count on a temporary DATA_DIR, removed afterwards. */
export const countInTempDir = async (): Promise<CheckoutCount> => {
  const dataDir = mkdtempSync(join(tmpdir(), "shop-checkout-count-"))
  try {
    return await Effect.runPromise(countCheckout(dataDir))
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

// `node runtimes/node/test/CheckoutStatements.ts`: the bench's count, as one JSON line.
if (import.meta.main) {
  countInTempDir().then(
    (count) => {
      process.stdout.write(`${JSON.stringify(count)}\n`)
      process.exit(0)
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      process.exit(1)
    }
  )
}
