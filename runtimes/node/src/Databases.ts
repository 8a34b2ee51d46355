import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Context, Effect, Layer } from "effect"
import * as InventoryRepositorySql from "@shop/inventory/InventoryRepositorySql"
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

// How each file trades durability for write speed (SqliteClientOptions.synchronous). All of
// them are WAL files: `"full"` has every commit on the disk before the commit's statement, or any
// statement that could see it, completes, so a commit survives a power cut; `"normal"` syncs it at checkpoints only, so a commit survives a crash of
// the process (the kernel has the write) but a power cut may lose the last commits since the
// last checkpoint, never half of one, and always a suffix (a later commit is never kept while an
// earlier one of the same file is lost). A sync cost 2.5 to 12 ms on this project's VM disk
// (measured under load, 2026-12-02). SQLite's own FULL runs it on the calling thread, the event
// loop, so every request of the process waited for it; "full" here runs it on libuv's thread
// pool instead, and the commits made while one sync runs share the next (group commit,
// SqliteClient.ts `makeGroupCommit`). A checkout still waits for its own 6 syncs (inventory 2,
// payments 3, orders 1; the two webhook events add 2 more in payments), one after another.
// Per file (docs/CHECKOUT.md, "Durability"):
export const synchronous: Record<StoreName, "full" | "normal"> = {
  auth: "full",
  catalog: "full",
  // Stock and holds stay synced on every commit. With "normal", a power cut
  // could lose a hold's commit: the sold hold would be active again and its
  // units return to stock at expiry although the (durable) order sold them,
  // an oversell (docs/CHECKOUT.md, "Durability on node").
  inventory: "full",
  fulfillment: "full",
  coupons: "full",
  // A cart changes on every click and is worth far less than a sync per
  // change (about 1 ms on a common disk, with the connection held, which
  // capped add-to-cart near 300 a second); a lost change of a checkout's
  // cart makes its capture refuse and give the money back.
  cart: "normal",
  // A completed response lost to a power cut would let a retry run the
  // request a second time.
  idempotency: "full",
  // Money: a payment lost to a power cut after PayPal captured it would be
  // money the shop cannot see, settle or refund. Every payment write is
  // synced before the next call to PayPal, so the reconciliation can always
  // finish from the shop's record (PayPal replays a capture by request id).
  payments: "full",
  // An order lost after its payment was settled (payments is synced) would
  // be a buyer charged with no order and nothing left to make it.
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
    ),
    // This process owns the file and runs every caller in one runtime, so
    // reads made at the same moment may share one statement (read by the
    // inventory store only: a cart's re-pricing reads stock once, not once
    // per line).
    Layer.provideMerge(Layer.succeed(InventoryRepositorySql.SharedReads, true))
  )
