import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { migrate } from "../src/Migrations.ts"
import * as SqliteClient from "../src/SqliteClient.ts"

// A temporary folder removed when the test's scope closes.
const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "shop-sqlite-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const writeFiles = (dir: string, files: Record<string, string>) =>
  Effect.sync(() => {
    for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body)
  })

layer(SqliteClient.layer({ filename: ":memory:" }))("SqliteClient", (it) => {
  it.effect("binds parameters and returns rows as plain objects", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE params (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL)`
      yield* sql`INSERT INTO params (name, price) VALUES (${"tea"}, ${300}), (${"it's"}, ${450})`

      const rows = yield* sql<{ id: number; name: string; price: number }>`
        SELECT id, name, price FROM params WHERE price > ${100} ORDER BY id`
      assert.deepStrictEqual(rows, [
        { id: 1, name: "tea", price: 300 },
        { id: 2, name: "it's", price: 450 }
      ])
      assert.strictEqual(Object.getPrototypeOf(rows[0]), Object.prototype)

      const some = yield* sql`SELECT name FROM params WHERE ${sql.in("id", [2, 3])}`
      assert.deepStrictEqual(some, [{ name: "it's" }])
    })
  )

  it.effect("inserts records with sql.insert and returns them", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE products (sku TEXT PRIMARY KEY, title TEXT NOT NULL, stock INTEGER NOT NULL)`
      const inserted = yield* sql`INSERT INTO products ${sql
        .insert([
          { sku: "a-1", title: "Mug", stock: 3 },
          { sku: "b-2", title: "Pot", stock: 0 }
        ])
        .returning("*")}`
      assert.deepStrictEqual(inserted, [
        { sku: "a-1", title: "Mug", stock: 3 },
        { sku: "b-2", title: "Pot", stock: 0 }
      ])
      const titles = yield* sql`SELECT title FROM products ORDER BY sku`.values
      assert.deepStrictEqual(titles, [["Mug"], ["Pot"]])
    })
  )

  it.effect("exposes driver results through raw, values and stream", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      assert.strictEqual(sql.driver, "node-sqlite")
      yield* sql`CREATE TABLE raw (id INTEGER PRIMARY KEY, v TEXT)`
      const result = yield* sql`INSERT INTO raw (v) VALUES (${"x"}), (${"y"})`.raw
      assert.deepStrictEqual(result, { changes: 2, lastInsertRowid: 2 })
      // Columns sharing a name survive as separate values.
      const pairs = yield* sql`SELECT a.id, b.id FROM raw a JOIN raw b ON b.id = a.id + 1`.values
      assert.deepStrictEqual(pairs, [[1, 2]])
      const streamed = yield* Stream.runCollect(sql<{ v: string }>`SELECT v FROM raw ORDER BY id`.stream)
      assert.deepStrictEqual(Array.from(streamed), [{ v: "x" }, { v: "y" }])
    })
  )

  it.effect("fails with a classified SqlError", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE uniq (email TEXT PRIMARY KEY)`
      yield* sql`INSERT INTO uniq ${sql.insert({ email: "a@example.com" })}`
      const duplicate = yield* Effect.flip(sql`INSERT INTO uniq ${sql.insert({ email: "a@example.com" })}`)
      assert.strictEqual(duplicate.reason._tag, "UniqueViolation")

      const syntax = yield* Effect.flip(sql`SELEC 1`)
      assert.strictEqual(syntax.reason._tag, "SqlSyntaxError")

      // node:sqlite would bind an object in first position as a name map and leave `?` NULL.
      const date = yield* Effect.flip(sql`SELECT ${new Date(0)} AS d`)
      assert.strictEqual(date._tag, "SqlError")
    })
  )

  it.effect("enforces foreign keys", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE parents (id INTEGER PRIMARY KEY)`
      yield* sql`CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents (id))`
      const error = yield* Effect.flip(sql`INSERT INTO children (parent_id) VALUES (${42})`)
      assert.strictEqual(error.reason._tag, "ConstraintError")
    })
  )

  it.effect("commits a transaction", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE committed (id INTEGER PRIMARY KEY)`
      yield* sql`INSERT INTO committed (id) VALUES (${1}), (${2})`.pipe(
        Effect.andThen(sql`INSERT INTO committed (id) VALUES (${3})`),
        sql.withTransaction
      )
      const rows = yield* sql`SELECT count(*) AS n FROM committed`
      assert.deepStrictEqual(rows, [{ n: 3 }])
    })
  )

  it.effect("rolls a failed transaction back", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE rolled_back (id INTEGER PRIMARY KEY)`
      const error = yield* sql`INSERT INTO rolled_back (id) VALUES (${1})`.pipe(
        Effect.andThen(Effect.fail("out of stock" as const)),
        sql.withTransaction,
        Effect.flip
      )
      assert.strictEqual(error, "out of stock")
      const rows = yield* sql`SELECT id FROM rolled_back`
      assert.deepStrictEqual(rows, [])
    })
  )

  it.effect("rolls a nested transaction back to its savepoint only", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE nested (id INTEGER PRIMARY KEY)`
      yield* Effect.gen(function* () {
        yield* sql`INSERT INTO nested (id) VALUES (${1})`
        yield* sql`INSERT INTO nested (id) VALUES (${2})`.pipe(
          Effect.andThen(Effect.fail("inner")),
          sql.withTransaction,
          Effect.ignore
        )
        yield* sql`INSERT INTO nested (id) VALUES (${3})`.pipe(sql.withTransaction)
      }).pipe(sql.withTransaction)
      const rows = yield* sql`SELECT id FROM nested ORDER BY id`.values
      assert.deepStrictEqual(rows, [[1], [3]])
    })
  )

  it.effect("runs concurrent transactions one after another", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`
      yield* sql`INSERT INTO counter (id, n) VALUES (1, 0)`
      const log: Array<string> = []

      // A read-modify-write that gives way to other fibers halfway: if two transactions
      // shared the connection at once, increments would be lost and the log would interleave.
      const increment = Effect.fn("increment")(function* (i: number) {
        log.push(`begin ${i}`)
        const [row] = yield* sql<{ n: number }>`SELECT n FROM counter WHERE id = 1`
        yield* Effect.yieldNow
        yield* sql`UPDATE counter SET n = ${(row?.n ?? 0) + 1} WHERE id = 1`
        log.push(`end ${i}`)
      }, sql.withTransaction)

      yield* Effect.forEach([1, 2, 3, 4, 5, 6, 7, 8], increment, { concurrency: "unbounded", discard: true })

      const rows = yield* sql`SELECT n FROM counter`
      assert.deepStrictEqual(rows, [{ n: 8 }])
      for (let i = 0; i < log.length; i += 2) {
        assert.strictEqual(log[i]?.replace("begin", "end"), log[i + 1])
      }
    })
  )

  it.effect("keeps statements from other fibers out of an open transaction", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE isolated (id INTEGER PRIMARY KEY)`
      const inside = yield* Deferred.make<void>()
      const writer = yield* sql`INSERT INTO isolated (id) VALUES (${1})`.pipe(
        Effect.andThen(Deferred.succeed(inside, undefined)),
        Effect.andThen(Effect.yieldNow),
        Effect.andThen(Effect.fail("abort")),
        sql.withTransaction,
        Effect.forkChild
      )
      yield* Deferred.await(inside)
      // Waits for the writer's ROLLBACK instead of reading its uncommitted row.
      const rows = yield* sql`SELECT id FROM isolated`
      assert.deepStrictEqual(rows, [])
      yield* Fiber.await(writer)
    })
  )

  it.effect("exec runs several statements, inside a transaction too", () =>
    Effect.gen(function* () {
      const sqlite = yield* SqliteClient.SqliteClient
      yield* sqlite.exec(`
        -- two statements in one text
        CREATE TABLE execd (id INTEGER PRIMARY KEY);
        INSERT INTO execd (id) VALUES (1);
      `)
      const error = yield* sqlite
        .exec("INSERT INTO execd (id) VALUES (2); INSERT INTO execd (id) VALUES (3)")
        .pipe(Effect.andThen(Effect.fail("undo")), sqlite.withTransaction, Effect.flip)
      assert.strictEqual(error, "undo")
      const rows = yield* sqlite`SELECT id FROM execd`.values
      assert.deepStrictEqual(rows, [[1]])
    })
  )
})

describe("SqliteClient onStatement", () => {
  it.effect("reports every statement when it runs: queries, raw, values, streams, transactions and exec", () => {
    const seen: Array<string> = []
    return Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const client = yield* SqliteClient.SqliteClient
      yield* client.exec("CREATE TABLE seen (n INTEGER)")
      const insert = sql`INSERT INTO seen (n) VALUES (${1})`
      // Built is not run: nothing is reported until the statement executes.
      assert.deepStrictEqual(seen, ["CREATE TABLE seen (n INTEGER)"])
      yield* sql.withTransaction(insert)
      yield* sql`SELECT n FROM seen`.raw
      yield* sql`SELECT n FROM seen`.values
      yield* Stream.runDrain(sql`SELECT n FROM seen`.stream)
      assert.deepStrictEqual(seen, [
        "CREATE TABLE seen (n INTEGER)",
        "BEGIN IMMEDIATE",
        "INSERT INTO seen (n) VALUES (?)",
        "COMMIT",
        "SELECT n FROM seen",
        "SELECT n FROM seen",
        "SELECT n FROM seen"
      ])
    }).pipe(Effect.provide(SqliteClient.layer({ filename: ":memory:", onStatement: (text) => seen.push(text) })))
  })
})

describe("SqliteClient lifecycle", () => {
  it.effect("opens a file database in WAL mode and closes it with its scope", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const filename = join(dir, "shop.db")
      const [sql, settings] = yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const [journal] = yield* sql`PRAGMA journal_mode`.values
        const [foreignKeys] = yield* sql`PRAGMA foreign_keys`.values
        const [busy] = yield* sql`PRAGMA busy_timeout`.values
        const [synchronous] = yield* sql`PRAGMA synchronous`.values
        yield* sql`CREATE TABLE kept (id INTEGER PRIMARY KEY)`
        yield* sql`INSERT INTO kept (id) VALUES (${7})`
        return [sql, { journal, foreignKeys, busy, synchronous }] as const
      }).pipe(Effect.provide(SqliteClient.layer({ filename })))
      // synchronous 1 = NORMAL for SQLite itself: the client syncs each commit's log on its own,
      // off the event loop ("SqliteClient durable commits" below).
      assert.deepStrictEqual(settings, { journal: ["wal"], foreignKeys: [1], busy: [5000], synchronous: [1] })

      const closed = yield* Effect.flip(sql`SELECT 1`)
      assert.strictEqual(closed._tag, "SqlError")

      const reopened = yield* SqlClient.SqlClient.pipe(
        Effect.flatMap((sql) => sql`SELECT id FROM kept`),
        Effect.provide(SqliteClient.layer({ filename }))
      )
      assert.deepStrictEqual(reopened, [{ id: 7 }])

      // 1 = NORMAL: synced at checkpoints, for files that choose speed over the last commits.
      const normal = yield* SqlClient.SqlClient.pipe(
        Effect.flatMap((sql) => sql`PRAGMA synchronous`.values),
        Effect.provide(SqliteClient.layer({ filename, synchronous: "normal" }))
      )
      assert.deepStrictEqual(normal, [[1]])
    })
  )

  it.effect("fails to open a database it cannot create", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const error = yield* SqlClient.SqlClient.pipe(
        Effect.provide(SqliteClient.layer({ filename: join(dir, "missing", "shop.db") })),
        Effect.flip
      )
      assert.strictEqual(error.reason._tag, "ConnectionError")
    })
  )
})

describe("SqliteClient durable commits", () => {
  // A file client whose log syncs are counted; `holdNext` keeps the next sync waiting until the
  // deferred it returns is resolved, `failNext` makes the syncs fail from then on.
  const counted = (options: { readonly synchronous?: "full" | "normal"; readonly fail?: boolean } = {}) =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const syncs: Array<string> = []
      let hold: { readonly started: Deferred.Deferred<void>; readonly release: Deferred.Deferred<void> } | undefined
      let fail = options.fail === true
      const layer = SqliteClient.layer({
        filename: join(dir, "shop.db"),
        synchronous: options.synchronous,
        syncLog: async (walPath) => {
          syncs.push(walPath)
          if (fail) throw new Error("EIO: the disk refused the sync")
          const held = hold
          hold = undefined
          if (held !== undefined) {
            Deferred.doneUnsafe(held.started, Effect.void)
            await Effect.runPromise(Deferred.await(held.release))
          }
        }
      })
      return {
        dir,
        syncs,
        layer,
        failNext: () => {
          fail = true
        },
        holdNext: Effect.gen(function* () {
          const next = { started: yield* Deferred.make<void>(), release: yield* Deferred.make<void>() }
          hold = next
          return next
        })
      }
    })

  it.effect("syncs the log after each commit and never after a read or a rollback", () =>
    Effect.gen(function* () {
      const { dir, layer, syncs } = yield* counted()
      const count = () => syncs.length
      const seen = yield* Effect.gen(function* () {
        const sql = yield* SqliteClient.SqliteClient
        const steps: Record<string, number> = {}
        const step = <A, E, R>(name: string, effect: Effect.Effect<A, E, R>) =>
          Effect.gen(function* () {
            const before = count()
            yield* effect
            steps[name] = count() - before
          })
        yield* step("create", sql`CREATE TABLE kept (id INTEGER PRIMARY KEY, note TEXT)`)
        yield* step("insert", sql`INSERT INTO kept (id) VALUES (${1})`)
        yield* step("select", sql`SELECT id FROM kept`)
        yield* step("values", sql`SELECT id FROM kept WHERE note IS NULL`.values)
        yield* step("update returning", sql`UPDATE kept SET note = ${"updated"} WHERE id = ${1} RETURNING id`)
        yield* step(
          "transaction",
          sql.withTransaction(
            Effect.gen(function* () {
              yield* sql`INSERT INTO kept (id) VALUES (${2})`
              yield* sql`INSERT INTO kept (id) VALUES (${3})`
              yield* sql`DELETE FROM kept WHERE id = ${1}`
            })
          )
        )
        yield* step(
          "rollback",
          Effect.ignore(
            sql.withTransaction(
              Effect.andThen(sql`INSERT INTO kept (id) VALUES (${4})`, Effect.fail("refused" as const))
            )
          )
        )
        yield* step("exec", sql.exec("INSERT INTO kept (id) VALUES (5); INSERT INTO kept (id) VALUES (6)"))
        yield* step("stream", Stream.runCollect(sql`SELECT id FROM kept`.stream))
        return steps
      }).pipe(Effect.provide(layer))
      assert.deepStrictEqual(seen, {
        create: 1,
        insert: 1,
        select: 0,
        values: 0,
        "update returning": 1,
        transaction: 1,
        rollback: 0,
        exec: 1,
        stream: 0
      })
      assert.isTrue(syncs.every((walPath) => walPath === join(dir, "shop.db-wal")))
    })
  )

  it.live("completes neither a commit nor a read of it before the commit is synced", () =>
    Effect.gen(function* () {
      const { layer, holdNext } = yield* counted()
      yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE TABLE kept (id INTEGER PRIMARY KEY)`
        const hold = yield* holdNext
        const writer = yield* Effect.forkChild(sql`INSERT INTO kept (id) VALUES (${1})`)
        yield* Deferred.await(hold.started)
        const reader = yield* Effect.forkChild(sql<{ readonly n: number }>`SELECT count(*) AS n FROM kept`)
        // The event loop is free while the sync waits: timers fire and other work runs, but
        // neither the write nor a read that could see it completes before the disk has it.
        yield* Effect.sleep("20 millis")
        assert.isUndefined(writer.pollUnsafe())
        assert.isUndefined(reader.pollUnsafe())
        yield* Deferred.succeed(hold.release, undefined)
        yield* Fiber.join(writer)
        assert.deepStrictEqual(yield* Fiber.join(reader), [{ n: 1 }])
      }).pipe(Effect.provide(layer))
    })
  )

  it.live("lets commits made during one sync share the next, and none completes before its sync", () =>
    Effect.gen(function* () {
      const { layer, holdNext, syncs } = yield* counted()
      yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE TABLE kept (id INTEGER PRIMARY KEY)`
        const first = yield* holdNext
        const writer = yield* Effect.forkChild(sql`INSERT INTO kept (id) VALUES (${1})`)
        yield* Deferred.await(first.started)
        // Counted when a sync starts: the held first one is in `before`.
        const before = syncs.length
        // Five more writes (two of them transactions) while the first sync is held: each
        // commits and gives the connection back, none completes.
        const second = yield* holdNext
        const others = yield* Effect.forkChild(
          Effect.all(
            [
              sql`INSERT INTO kept (id) VALUES (${2})`,
              sql`INSERT INTO kept (id) VALUES (${3})`,
              sql.withTransaction(Effect.andThen(sql`INSERT INTO kept (id) VALUES (${4})`, sql`SELECT 1`)),
              sql.withTransaction(sql`INSERT INTO kept (id) VALUES (${5})`),
              sql`INSERT INTO kept (id) VALUES (${6})`
            ],
            { concurrency: "unbounded" }
          )
        )
        yield* Effect.sleep("20 millis")
        assert.isUndefined(writer.pollUnsafe())
        assert.isUndefined(others.pollUnsafe())
        assert.strictEqual(syncs.length, before)
        // The first sync covers only the first write; one more starts for the other five, and
        // they wait for it.
        yield* Deferred.succeed(first.release, undefined)
        yield* Fiber.join(writer)
        yield* Effect.sleep("20 millis")
        assert.isUndefined(others.pollUnsafe())
        assert.strictEqual(syncs.length, before + 1)
        yield* Deferred.succeed(second.release, undefined)
        yield* Fiber.join(others)
        assert.strictEqual(syncs.length, before + 1)
        const rows = yield* sql<{ readonly n: number }>`SELECT count(*) AS n FROM kept`
        assert.deepStrictEqual(rows, [{ n: 6 }])
      }).pipe(Effect.provide(layer))
    })
  )

  it.effect("makes a failed sync a defect: the disk may not keep the commit", () =>
    Effect.gen(function* () {
      const { layer } = yield* counted({ fail: true })
      const exit = yield* SqlClient.SqlClient.pipe(
        Effect.flatMap((sql) => sql`CREATE TABLE kept (id INTEGER PRIMARY KEY)`),
        Effect.provide(layer),
        Effect.exit
      )
      assert.isTrue(exit._tag === "Failure" && exit.cause.reasons.some((reason) => reason._tag === "Die"))
    })
  )

  it.effect("stays failed after a failed sync: every later statement of the file dies", () =>
    Effect.gen(function* () {
      const { layer, failNext } = yield* counted()
      yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE TABLE kept (id INTEGER PRIMARY KEY)`
        failNext()
        const dies = (effect: Effect.Effect<unknown, unknown>) =>
          Effect.map(
            Effect.exit(effect),
            (exit) => exit._tag === "Failure" && exit.cause.reasons.some((reason) => reason._tag === "Die")
          )
        assert.isTrue(yield* dies(sql`INSERT INTO kept (id) VALUES (${1})`))
        // The disk may have dropped what it could not write: no later sync can vouch for it.
        assert.isTrue(yield* dies(sql`INSERT INTO kept (id) VALUES (${2})`))
        assert.isTrue(yield* dies(sql`SELECT id FROM kept`))
      }).pipe(Effect.provide(layer))
    })
  )

  it.effect('leaves the syncs to checkpoints for a "normal" file', () =>
    Effect.gen(function* () {
      const { layer, syncs } = yield* counted({ synchronous: "normal" })
      yield* SqlClient.SqlClient.pipe(
        Effect.flatMap((sql) =>
          Effect.andThen(sql`CREATE TABLE kept (id INTEGER PRIMARY KEY)`, sql`INSERT INTO kept (id) VALUES (${1})`)
        ),
        Effect.provide(layer)
      )
      assert.deepStrictEqual(syncs, [])
    })
  )

  it.effect("syncs with fdatasync by default, and the commits are there when reopened", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const filename = join(dir, "shop.db")
      const write = SqlClient.SqlClient.pipe(
        Effect.flatMap((sql) =>
          Effect.andThen(
            sql`CREATE TABLE IF NOT EXISTS kept (id INTEGER PRIMARY KEY)`,
            Effect.forEach([1, 2, 3], (id) => sql`INSERT INTO kept (id) VALUES (${id})`, { concurrency: 3 })
          )
        ),
        Effect.provide(SqliteClient.layer({ filename }))
      )
      yield* write
      const rows = yield* SqlClient.SqlClient.pipe(
        Effect.flatMap((sql) => sql`SELECT id FROM kept ORDER BY id`),
        Effect.provide(SqliteClient.layer({ filename }))
      )
      assert.deepStrictEqual(rows, [{ id: 1 }, { id: 2 }, { id: 3 }])
    })
  )
})

describe("Migrations", () => {
  const files = {
    // Lexical order would run 10 before 2; the migrator sorts numerically.
    "10_seed.sql": "INSERT INTO items (name, price) VALUES ('mug', 300);\n",
    "2_add_price.sql":
      "-- D1 style: comments and several statements\nALTER TABLE items ADD COLUMN price INTEGER NOT NULL DEFAULT 0;\nCREATE INDEX items_price ON items (price);\n",
    "1_create_items.sql": "CREATE TABLE items (\n  id INTEGER PRIMARY KEY,\n  name TEXT NOT NULL -- display name\n);\n",
    "README.md": "not a migration"
  }

  it.effect("applies pending files once, in numeric order", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* writeFiles(dir, files)
      const sql = yield* SqlClient.SqlClient

      const first = yield* migrate(dir)
      assert.deepStrictEqual(first, [
        [1, "create_items"],
        [2, "add_price"],
        [10, "seed"]
      ])
      const second = yield* migrate(dir)
      assert.deepStrictEqual(second, [])

      const items = yield* sql`SELECT name, price FROM items`
      assert.deepStrictEqual(items, [{ name: "mug", price: 300 }])

      yield* writeFiles(dir, { "11_more.sql": "INSERT INTO items (name, price) VALUES ('pot', 900);" })
      const third = yield* migrate(dir)
      assert.deepStrictEqual(third, [[11, "more"]])
      const count = yield* sql`SELECT count(*) AS n FROM items`
      assert.deepStrictEqual(count, [{ n: 2 }])
    }).pipe(Effect.provide(SqliteClient.layer({ filename: ":memory:" })))
  )

  it.effect("leaves the database untouched when a file fails", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* writeFiles(dir, {
        "0001_create.sql": "CREATE TABLE things (id INTEGER PRIMARY KEY);",
        "0002_broken.sql": "INSERT INTO things (id) VALUES (1); INSERT INTO nowhere (id) VALUES (1);"
      })
      const sql = yield* SqlClient.SqlClient

      const error = yield* Effect.flip(migrate(dir))
      assert.strictEqual(error._tag, "MigrationError")
      const tables = yield* sql`SELECT name FROM sqlite_master WHERE name = 'things'`
      assert.deepStrictEqual(tables, [])
      const applied = yield* sql`SELECT migration_id FROM effect_sql_migrations`
      assert.deepStrictEqual(applied, [])
    }).pipe(Effect.provide(SqliteClient.layer({ filename: ":memory:" })))
  )

  it.effect("fails with a MigrationError when the folder is missing", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const error = yield* Effect.flip(migrate(join(dir, "nope")))
      assert.strictEqual(error._tag, "MigrationError")
    }).pipe(Effect.provide(SqliteClient.layer({ filename: ":memory:" })))
  )
})
