import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Context, Effect, Layer } from "effect"
import { DataDir } from "./DataDir.ts"
import { migrate } from "./Migrations.ts"
import * as SqliteClient from "./SqliteClient.ts"

// Found from this file rather than the working directory, so `npm start` works
// from any folder.
const migrationsRoot = fileURLToPath(new URL("../../../migrations/", import.meta.url))

/** The stateful services, each of which owns one SQLite file and one migrations folder. */
export type StoreName =
  | "auth"
  | "catalog"
  | "inventory"
  | "fulfillment"
  | "coupons"
  | "cart"
  | "idempotency"
  | "payments"
  | "orders"

// How each file trades durability for write speed (SqliteClientOptions.synchronous). Every
// store commits each write to disk before answering, except the carts': a cart changes on every
// click and is worth far less than a sync per change (about 1 ms on a common disk, with the
// connection held, which capped add-to-cart near 300 a second). A crash of the process loses
// no cart change; a power cut may lose the last second of them, never half of one.
const synchronous: Record<StoreName, "full" | "normal"> = {
  auth: "full",
  catalog: "full",
  inventory: "full",
  fulfillment: "full",
  coupons: "full",
  cart: "normal",
  // A completed response lost to a power cut would let a retry run the
  // request a second time.
  idempotency: "full",
  // Money and sales: nothing acknowledged may be lost.
  payments: "full",
  orders: "full"
}

/**
 * Told of every SQL statement each database runs (see `SqliteClientOptions.onStatement`), for
 * tests that count what a request costs across the whole service graph. Unset in the runtime.
 */
export const StatementObserver = Context.Reference<((database: StoreName, sql: string) => void) | undefined>(
  "@shop/runtime-node/Databases/StatementObserver",
  { defaultValue: () => undefined }
)

/**
 * The database of one service: `<DATA_DIR>/<name>.sqlite`, migrated from
 * `migrations/<name>/` before anything uses it, closed when the layer is released.
 *
 * Each call builds a distinct layer, so each service gets its own connection;
 * provide it locally to that service's repository, never to the whole app.
 */
export const layer = (name: StoreName) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const applied = yield* migrate(join(migrationsRoot, name))
      if (applied.length > 0) {
        yield* Effect.logInfo("Applied migrations").pipe(
          Effect.annotateLogs({ database: name, migrations: applied.map(([id, migration]) => `${id}_${migration}`) })
        )
      }
    })
  ).pipe(
    Layer.provideMerge(
      Layer.unwrap(
        Effect.gen(function* () {
          const dir = yield* DataDir
          const observer = yield* StatementObserver
          return SqliteClient.layer({
            filename: join(dir, `${name}.sqlite`),
            synchronous: synchronous[name],
            onStatement: observer === undefined ? undefined : (sql) => observer(name, sql)
          })
        })
      )
    )
  )
