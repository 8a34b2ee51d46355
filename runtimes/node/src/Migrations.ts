import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { Migrator } from "effect/sql"
import * as Traced from "@shop/domain/Traced"
import { SqliteClient } from "./SqliteClient.ts"

// The same `NNNN_name.sql` files that `wrangler d1 migrations apply` reads, so D1 and the Node
// runtime build one schema from one source.
const migrationFile = /^(\d+)_(.+)\.sql$/

const readMigrations = (dir: string) =>
  Effect.try({
    try: () =>
      readdirSync(dir)
        .filter((file) => migrationFile.test(file))
        .map((file) => ({ key: file.slice(0, -".sql".length), body: readFileSync(join(dir, file), "utf8") })),
    catch: (cause) =>
      new Migrator.MigrationError({
        kind: "ImportError",
        message: `Could not read migrations from ${dir}`,
        cause
      })
  })

const run = Migrator.make({})

/**
 * Applies, in numeric order, every migration in `dir` not yet recorded in the migrations table,
 * and returns the ones it applied. All pending files run in one transaction, so a failing file
 * leaves the database as it was.
 *
 * A file is handed whole to SQLite, which runs its statements in order: it may hold several
 * statements and `--` comments, as D1 migrations do.
 */
export const migrate = Traced.fn("Migrations.migrate")(function* (dir: string) {
  const client = yield* SqliteClient
  const files = yield* readMigrations(dir)
  const migrations = Object.fromEntries(files.map(({ body, key }) => [key, client.exec(body)]))
  return yield* run({ loader: Migrator.fromRecord(migrations) })
})
