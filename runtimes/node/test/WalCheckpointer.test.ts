import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import * as SqliteClient from "../src/SqliteClient.ts"
import { runningThreads } from "../src/WalCheckpointer.ts"
import { readWalIndex } from "../src/WalCheckpointWorker.ts"

// A temporary folder removed when the test's scope closes.
const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "shop-checkpoint-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

// A checkpointer that never gets round to looking: what the main connection does on its own.
const paused = { intervalMillis: 3_600_000 }

// One commit of `pages` pages or so: rows of 3000 bytes, one to a 4096-byte page. SQLite's own
// automatic checkpoint runs after a commit that leaves 1000 frames or more in the log.
const writePages = (pages: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE IF NOT EXISTS pages (id INTEGER PRIMARY KEY, body BLOB NOT NULL)`
    yield* sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${pages})
      INSERT INTO pages (body) SELECT randomblob(3000) FROM n`
  })

const countRows = (filename: string) => {
  const db = new DatabaseSync(filename)
  try {
    return Number(db.prepare("SELECT count(*) AS n FROM pages").get()?.["n"])
  } finally {
    db.close()
  }
}

describe("WAL checkpoints", () => {
  it.effect("the main connection does not checkpoint a log below maxFrames by itself", () =>
    Effect.gen(function* () {
      const filename = join(yield* tempDir, "shop.db")
      yield* Effect.gen(function* () {
        yield* writePages(1200)
        yield* writePages(10)
        const index = readWalIndex(filename)
        assert.isDefined(index)
        // SQLite's default would have copied the 1200 frames into the database at the first commit.
        assert.isAtLeast(index.frames, 1200)
        assert.strictEqual(index.backfilled, 0)
      }).pipe(Effect.provide(SqliteClient.layer({ filename, synchronous: "normal", checkpoint: paused })))
    })
  )

  // Live: the thread works on the real clock.
  it.live("the checkpointer thread copies the log into the database file", () =>
    Effect.gen(function* () {
      const filename = join(yield* tempDir, "shop.db")
      yield* Effect.gen(function* () {
        yield* writePages(1200)
        const written = readWalIndex(filename)?.frames ?? 0
        assert.isAtLeast(written, 1200)
        // The commit returned with the log still uncopied; the thread copies it shortly after.
        const index = yield* Effect.sync(() => readWalIndex(filename)).pipe(
          Effect.repeat({
            schedule: Schedule.spaced("20 millis"),
            until: (index) => index !== undefined && index.backfilled >= written
          }),
          Effect.timeout("10 seconds")
        )
        assert.isAtLeast(index?.backfilled ?? 0, written)
        assert.isAbove(statSync(filename).size, 1200 * 3000)
      }).pipe(
        Effect.provide(
          SqliteClient.layer({ filename, synchronous: "normal", checkpoint: { intervalMillis: 20, minFrames: 100 } })
        )
      )
    })
  )

  it.effect("past maxFrames the main connection checkpoints by itself, so the log stays bounded", () =>
    Effect.gen(function* () {
      const filename = join(yield* tempDir, "shop.db")
      yield* Effect.gen(function* () {
        yield* writePages(600)
        const index = readWalIndex(filename)
        assert.isDefined(index)
        assert.isAtLeast(index.frames, 600)
        assert.strictEqual(index.backfilled, index.frames)
      }).pipe(
        Effect.provide(
          SqliteClient.layer({ filename, synchronous: "normal", checkpoint: { ...paused, maxFrames: 500 } })
        )
      )
    })
  )

  it.effect("closing copies the whole log into the database file and stops the thread", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const filename = join(dir, "shop.db")
      yield* Effect.gen(function* () {
        yield* writePages(300)
        assert.strictEqual(runningThreads(), 1)
        assert.strictEqual(readWalIndex(filename)?.backfilled, 0)
      }).pipe(Effect.provide(SqliteClient.layer({ filename, checkpoint: paused })))
      assert.strictEqual(runningThreads(), 0)
      assert.isTrue(!existsSync(`${filename}-wal`) || statSync(`${filename}-wal`).size === 0)
      // The database file alone, without its log, holds every commit.
      const alone = join(dir, "alone.db")
      copyFileSync(filename, alone)
      assert.strictEqual(countRows(alone), 300)
    })
  )

  it.effect("one thread serves every file database and stops with the last; none for :memory:", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const second = SqliteClient.layer({ filename: join(dir, "b.db"), checkpoint: paused })
      yield* Effect.gen(function* () {
        yield* Effect.gen(function* () {
          yield* writePages(5)
          assert.strictEqual(runningThreads(), 1)
        }).pipe(Effect.provide(second))
        // b.db closed; a.db still has it.
        assert.strictEqual(runningThreads(), 1)
        yield* writePages(5)
      }).pipe(Effect.provide(SqliteClient.layer({ filename: join(dir, "a.db"), checkpoint: paused })))
      assert.strictEqual(runningThreads(), 0)
      assert.strictEqual(countRows(join(dir, "a.db")), 5)
      assert.strictEqual(countRows(join(dir, "b.db")), 5)
      yield* writePages(5).pipe(
        Effect.andThen(Effect.sync(() => assert.strictEqual(runningThreads(), 0))),
        Effect.provide(SqliteClient.layer({ filename: ":memory:" }))
      )
    })
  )
})
