import { type FileHandle, open } from "node:fs/promises"
import { dirname } from "node:path"
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite"
import { Context, Effect, Layer, Option, type Scope, Semaphore, Stream } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient, SqlConnection, SqlError, Statement } from "effect/sql"

// No published Node SQLite driver works with effect 4.1 yet (STACK.md), so this one is ours.
// Replace it with the official package once a 4.1-compatible version appears.

/**
 * A `SqlClient` over Node's built-in `node:sqlite`, plus `exec` for SQL text that holds several
 * statements (migration files): a prepared statement only ever runs the first one.
 */
export interface SqliteClientService extends SqlClient.SqlClient {
  readonly exec: (sql: string) => Effect.Effect<void, SqlError.SqlError>
}

// A class key, so that requiring it stays distinct from requiring `SqlClient`: with the shape
// as its own key, `SqliteClient | SqlClient` would collapse to `SqlClient` by subtyping.
export class SqliteClient extends Context.Service<SqliteClient, SqliteClientService>()(
  "@shop/runtime-node/SqliteClient"
) {}

export interface SqliteClientOptions {
  /** A file path, or `":memory:"` for a private in-memory database. */
  readonly filename: string
  /**
   * Called with the text of every statement about to reach SQLite (queries, writes, transaction
   * control, `exec`), before it runs. For tests that count what a request costs; leave it unset
   * otherwise, and the connection is used as it is.
   */
  readonly onStatement?: ((sql: string) => void) | undefined
  /**
   * When a commit reaches the disk, for a file database. `"full"` (the default): each commit is
   * on the disk before its statement's effect, or that of any statement that could see it,
   * completes, so it survives a power cut (group commit, see `makeGroupCommit`). `"normal"`: synced at checkpoints only, so a commit survives
   * the process crashing but the last ones may be lost, never half-written, if the machine loses
   * power. A sync cost 2.5 to 12 ms on this project's VM disk.
   */
  readonly synchronous?: "full" | "normal" | undefined
  /**
   * How `"full"` puts a commit's log on the disk: by default an `fdatasync` of the `-wal` file
   * on libuv's thread pool. Tests replace it to hold a sync open or make it fail.
   */
  readonly syncLog?: ((walPath: string) => Promise<void>) | undefined
}

const statementCacheSize = 200

// Other processes (a CLI, a second server) may hold the write lock for a moment.
const busyTimeoutMillis = 5000

// node:sqlite reads a plain object in first position as named parameters, so a stray object
// (a Date, a record) would be bound as a name map and its `?` silently left NULL. Passing an
// empty name map first keeps every value positional, and unbindable values throw instead.
const noNamedParameters: Record<string, SQLInputValue> = Object.freeze({})

// node:sqlite checks each value when binding and throws on one it cannot store; that error
// becomes a SqlError like any other.
const positional = (params: ReadonlyArray<unknown>): Array<SQLInputValue> => params as Array<SQLInputValue>

const isMemory = (filename: string) => filename === ":memory:" || filename === ""

const nativeCode = (cause: unknown): number | undefined =>
  typeof cause === "object" && cause !== null && "errcode" in cause && typeof cause.errcode === "number"
    ? cause.errcode
    : undefined

const nativeMessage = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

// effect's `classifySqliteError` reads `code`/`errno`, but node:sqlite puts the generic
// "ERR_SQLITE_ERROR" in `code` and SQLite's extended result code in `errcode`, so everything
// would come out as UnknownError. Classified here so that logged and traced errors say what
// failed; the repositories do not rely on it, since D1 reports every failure as UnknownError.
const classify = (cause: unknown, operation: string): SqlError.SqlErrorReason => {
  const props = { cause, message: nativeMessage(cause), operation }
  const code = nativeCode(cause)
  if (code === undefined) return new SqlError.UnknownError(props)
  // SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY
  if (code === 2067 || code === 1555) {
    const match = /constraint failed: (.+)$/.exec(props.message)
    return new SqlError.UniqueViolation({ ...props, constraint: match?.[1]?.trim() ?? "unknown" })
  }
  switch (code & 0xff) {
    case 3:
      return new SqlError.AuthorizationError(props)
    case 5:
    case 6:
      return new SqlError.LockTimeoutError(props)
    case 14:
      return new SqlError.ConnectionError(props)
    case 19:
      return new SqlError.ConstraintError(props)
    case 23:
      return new SqlError.AuthenticationError(props)
    case 1:
      return /syntax error/.test(props.message) ? new SqlError.SqlSyntaxError(props) : new SqlError.UnknownError(props)
    default:
      return new SqlError.UnknownError(props)
  }
}

const attempt = <A>(operation: string, f: () => A): Effect.Effect<A, SqlError.SqlError> =>
  Effect.try({
    try: f,
    catch: (cause) => new SqlError.SqlError({ reason: classify(cause, operation) })
  })

const openDatabase = (filename: string) =>
  attempt("open", () => {
    const db = new DatabaseSync(filename)
    try {
      // WAL and busy_timeout only mean something for a file shared with other connections.
      // SQLite's own FULL would sync every commit on the calling thread, which here is the event
      // loop: every request of the process would wait for the disk. So SQLite is told NORMAL
      // (WAL commits unsynced, checkpoints still synced first) and "full" syncs the log itself,
      // off the event loop (`makeGroupCommit`).
      if (!isMemory(filename)) {
        db.exec(`PRAGMA journal_mode = WAL; PRAGMA busy_timeout = ${busyTimeoutMillis}; PRAGMA synchronous = NORMAL`)
      }
      db.exec("PRAGMA foreign_keys = ON")
      return db
    } catch (cause) {
      db.close()
      throw cause
    }
  })

// A statement with its result column names, read once when it is prepared.
interface Prepared {
  readonly statement: StatementSync
  readonly columns: ReadonlyArray<string>
}

const prepare = (db: DatabaseSync, sql: string): Prepared => {
  const statement = db.prepare(sql)
  // Rows come back as arrays and are turned into objects here: node:sqlite's own row objects
  // have a null prototype (callers expect ordinary objects, so each had to be copied), and
  // building each row from its column list gives every row of a statement the same shape.
  statement.setReturnArrays(true)
  return { statement, columns: statement.columns().map((column) => column.name) }
}

// @types/node types `all()` as objects whatever `setReturnArrays` says, so the filter narrows
// the type; it drops nothing.
const arrays = ({ statement }: Prepared, params: ReadonlyArray<unknown>): Array<Array<unknown>> => {
  const result: ReadonlyArray<unknown> = statement.all(noNamedParameters, ...positional(params))
  return result.filter(Array.isArray)
}

// A later column of the same name wins, as it did in node:sqlite's row objects. A column named
// `__proto__` stays a column (defineProperty), never the row's prototype.
const rows = (prepared: Prepared, params: ReadonlyArray<unknown>) => {
  const { columns } = prepared
  const result: Array<Record<string, unknown>> = []
  for (const values of arrays(prepared, params)) {
    const row: Record<string, unknown> = {}
    for (let i = 0; i < columns.length; i++) {
      const name = columns[i]!
      if (name === "__proto__") Object.defineProperty(row, name, { value: values[i], enumerable: true, writable: true })
      else row[name] = values[i]
    }
    result.push(row)
  }
  return result
}

const makeConnection = (db: DatabaseSync): SqlConnection.Connection => {
  // Statements are prepared once per SQL text; a Map iterates in insertion order, so
  // re-inserting on use keeps the least recently used entry first.
  const cache = new Map<string, Prepared>()
  const prepared = (sql: string): Prepared => {
    const hit = cache.get(sql)
    if (hit !== undefined) {
      cache.delete(sql)
      cache.set(sql, hit)
      return hit
    }
    const statement = prepare(db, sql)
    cache.set(sql, statement)
    if (cache.size > statementCacheSize) {
      const oldest = cache.keys().next()
      if (oldest.done !== true) cache.delete(oldest.value)
    }
    return statement
  }

  const execute = (
    sql: string,
    params: ReadonlyArray<unknown>,
    transformRows: (<A extends object>(row: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined
  ) =>
    attempt("execute", () => {
      const result = rows(prepared(sql), params)
      return transformRows === undefined ? result : transformRows(result)
    })

  return {
    execute,
    executeUnprepared: (sql, params, transformRows) =>
      attempt("execute", () => {
        const result = rows(prepare(db, sql), params)
        return transformRows === undefined ? result : transformRows(result)
      }),
    // The driver's own result: rows for a query, `{ changes, lastInsertRowid }` for a write.
    executeRaw: (sql, params) =>
      attempt("execute", () => {
        const statement = prepared(sql)
        return statement.columns.length > 0
          ? rows(statement, params)
          : statement.statement.run(noNamedParameters, ...positional(params))
      }),
    executeValues: (sql, params) => attempt("execute", () => arrays(prepared(sql), params)),
    executeValuesUnprepared: (sql, params) => attempt("execute", () => arrays(prepare(db, sql), params)),
    // Results are local and synchronous, so a stream over the whole result costs nothing extra.
    executeStream: (sql, params, transformRows) => Stream.fromIterableEffect(execute(sql, params, transformRows))
  }
}

// Every statement of effect/sql reaches SQLite through one of these methods, so reporting here
// counts them all, whichever API the caller used. Reported when the statement runs, not when
// its effect is built.
const observed = (
  connection: SqlConnection.Connection,
  onStatement: (sql: string) => void
): SqlConnection.Connection => {
  const report = (sql: string) => Effect.sync(() => onStatement(sql))
  return {
    execute: (sql, params, transformRows) =>
      Effect.andThen(report(sql), connection.execute(sql, params, transformRows)),
    executeUnprepared: (sql, params, transformRows) =>
      Effect.andThen(report(sql), connection.executeUnprepared(sql, params, transformRows)),
    executeRaw: (sql, params) => Effect.andThen(report(sql), connection.executeRaw(sql, params)),
    executeValues: (sql, params) => Effect.andThen(report(sql), connection.executeValues(sql, params)),
    executeValuesUnprepared: (sql, params) =>
      Effect.andThen(report(sql), connection.executeValuesUnprepared(sql, params)),
    executeStream: (sql, params, transformRows) =>
      Stream.unwrap(Effect.as(report(sql), connection.executeStream(sql, params, transformRows)))
  }
}

/**
 * A statement that may have changed the database: anything that writes, and the ends of a
 * transaction. Only reads are left out (a SELECT cannot write in SQLite), and a false positive
 * costs one needless sync, never a lost one. Outside a transaction, such a statement is a commit.
 */
export const mayWrite =
  /\b(?:insert|update|delete|replace|create|drop|alter|vacuum|reindex|analyze|pragma|commit|end|release)\b/i

// The log of a file database, synced with `fdatasync` on libuv's thread pool. The handle is kept:
// SQLite creates the log at the first write and only deletes it when the last connection to the
// file closes, and this one stays open until the client's scope closes. The log's directory
// entry is synced once, when it is first opened, since a new file's name is only on the disk
// once its folder is.
const walSync = () => {
  let handle: Promise<FileHandle> | undefined
  const openLog = async (walPath: string) => {
    const log = await open(walPath, "r")
    const folder = await open(dirname(walPath), "r")
    try {
      await folder.sync()
    } finally {
      await folder.close()
    }
    return log
  }
  return {
    sync: async (walPath: string) => {
      handle ??= openLog(walPath).catch((error: unknown) => {
        handle = undefined
        throw error
      })
      try {
        await (await handle).datasync()
      } catch (error) {
        // SQLite creates the log at the first transaction, so with no log yet nothing was
        // committed to one (a PRAGMA read, say): there is nothing to sync.
        if (error instanceof Error && "code" in error && error.code === "ENOENT") return
        throw error
      }
    },
    close: async () => {
      const log = handle
      handle = undefined
      if (log !== undefined) await (await log).close()
    }
  }
}

// Group commit: "full" durability without blocking the event loop, and one sync for the commits
// of many requests. SQLite runs with NORMAL (a commit is in the log, not yet on the disk) and
// this client syncs the log itself, with `fdatasync` on libuv's thread pool. The rule: no effect
// of this client completes while a commit that its statement could see is not on the disk yet.
// A statement runs, gives the connection back, and then waits until every commit made so far
// (its own included) is synced; a transaction waits the same way after its COMMIT or ROLLBACK
// has given the connection back. So the caller goes on (answers, calls PayPal, writes another
// file) only once what it saw and did is durable, exactly as with SQLite's FULL. Meanwhile other
// statements run, and the commits made while one sync is under way share the next one.
//
// A log only grows by appending commits, so a sync covers every commit made before it started,
// and a commit after one that a power cut loses is lost too: waiting for the commits so far is
// enough. A transaction body sees others' commits before their sync; like every repository's,
// it must not act outside the database (call out, answer), and its result leaves only after
// the wait. A failed sync stays failed: after it the commits since the last good sync may or may
// not be on the disk (Linux may drop the pages it could not write), so every later statement of
// the file dies, as PostgreSQL stops on a failed fsync; a restart recovers from the log.
const makeGroupCommit = (syncLog: () => Promise<void>) => {
  let committed = 0
  let synced = 0
  let failure: { readonly cause: unknown } | undefined
  let inFlight: Promise<void> | undefined
  const syncTo = async (target: number): Promise<void> => {
    while (synced < target) {
      if (failure !== undefined) throw failure.cause
      if (inFlight === undefined) {
        // Covers the commits made before it starts, not those made while it runs.
        const covers = committed
        inFlight = syncLog().then(
          () => {
            synced = Math.max(synced, covers)
          },
          (cause: unknown) => {
            failure = { cause }
          }
        )
        void inFlight.finally(() => {
          inFlight = undefined
        })
      }
      // The `finally` above was registered first, so it has cleared `inFlight` by the time this
      // resumes: the next turn starts a new sync if this one did not cover `target`.
      await inFlight
    }
  }
  const durable: Effect.Effect<void> = Effect.suspend(() =>
    failure === undefined && synced >= committed
      ? Effect.void
      : Effect.orDie(Effect.tryPromise({ try: () => syncTo(committed), catch: (cause) => cause }))
  )
  return {
    commit: () => {
      committed++
    },
    durable
  }
}

// Counts the commits: a statement that may write, run outside a transaction, or the end of one.
const countingCommits = (
  connection: SqlConnection.Connection,
  isTransaction: () => boolean,
  commit: () => void,
  durable: Effect.Effect<void>
): SqlConnection.Connection => {
  const countCommit = Effect.sync(() => {
    if (!isTransaction()) commit()
  })
  const counted = <A, E, R>(sql: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    mayWrite.test(sql) ? Effect.tap(effect, () => countCommit) : effect
  return {
    execute: (sql, params, transformRows) => counted(sql, connection.execute(sql, params, transformRows)),
    executeUnprepared: (sql, params, transformRows) =>
      counted(sql, connection.executeUnprepared(sql, params, transformRows)),
    executeRaw: (sql, params) => counted(sql, connection.executeRaw(sql, params)),
    executeValues: (sql, params) => counted(sql, connection.executeValues(sql, params)),
    executeValuesUnprepared: (sql, params) => counted(sql, connection.executeValuesUnprepared(sql, params)),
    // A stream hands rows out while it holds the connection, so it waits for the disk before its
    // statement runs. A writing one is counted once it has run; the wait after its connection is
    // given back (the acquirer's, in `make`) then covers it.
    executeStream: (sql, params, transformRows) => {
      const stream = connection.executeStream(sql, params, transformRows)
      return Stream.unwrap(Effect.as(durable, mayWrite.test(sql) ? Stream.ensuring(stream, countCommit) : stream))
    }
  }
}

/**
 * Opens the database and builds the client. The database closes when the scope closes.
 *
 * One connection serves every fiber. A semaphore lends it to one statement at a time, and a
 * transaction holds it until COMMIT or ROLLBACK, so statements from other fibers wait rather
 * than land inside someone else's transaction.
 */
export const make = Effect.fnUntraced(function* (options: SqliteClientOptions) {
  const db = yield* Effect.acquireRelease(openDatabase(options.filename), (db) =>
    Effect.sync(() => {
      if (db.isOpen) db.close()
    })
  )
  const onStatement = options.onStatement
  const base = onStatement === undefined ? makeConnection(db) : observed(makeConnection(db), onStatement)
  const walPath = `${options.filename}-wal`
  const log = yield* Effect.acquireRelease(Effect.sync(walSync), (log) => Effect.promise(log.close))
  const { syncLog } = options
  const group =
    !isMemory(options.filename) && (options.synchronous ?? "full") === "full"
      ? makeGroupCommit(syncLog === undefined ? () => log.sync(walPath) : () => syncLog(walPath))
      : undefined
  const connection =
    group === undefined ? base : countingCommits(base, () => db.isTransaction, group.commit, group.durable)
  const semaphore = yield* Semaphore.make(1)
  const acquirers = SqlClient.makeSqliteAcquirers({
    connection: Effect.succeed(connection),
    semaphore,
    isTransaction: () => db.isTransaction
  })
  // The wait for the disk comes after the connection is given back (makeGroupCommit). A
  // finalizer added before the lease runs after the lease's own release.
  const borrower: SqlConnection.Borrower =
    group === undefined ? acquirers.borrower : (f) => Effect.tap(acquirers.borrower(f), () => group.durable)
  const durableLease = <A, E>(lease: Effect.Effect<A, E, Scope.Scope>): Effect.Effect<A, E, Scope.Scope> =>
    group === undefined
      ? lease
      : Effect.andThen(
          Effect.addFinalizer(() => group.durable),
          lease
        )

  const client = yield* SqlClient.make({
    driver: "node-sqlite",
    compiler: Statement.makeCompilerSqlite(),
    spanAttributes: [["db.system.name", "sqlite"]],
    acquirer: durableLease(acquirers.acquirer),
    borrower,
    transactionAcquirer: durableLease(acquirers.transactionAcquirer),
    onCommitFailure: acquirers.onCommitFailure,
    isTransaction: acquirers.isTransaction,
    // A deferred BEGIN takes the write lock at the first write, and in WAL mode that upgrade
    // fails at once with SQLITE_BUSY when another connection wrote meanwhile, without waiting
    // for busy_timeout. IMMEDIATE takes the lock up front, where busy_timeout applies.
    beginTransaction: "BEGIN IMMEDIATE",
    // Without RELEASE a savepoint stays on SQLite's stack even after ROLLBACK TO.
    releaseSavepoint: (name) => `RELEASE SAVEPOINT ${name}`,
    prepareTransactionControls: true
  })

  const execNow = (sql: string) =>
    attempt("exec", () => {
      onStatement?.(sql)
      db.exec(sql)
      if (!db.isTransaction) group?.commit()
    })
  // Inside one of this client's transactions the fiber already holds the connection, and
  // waiting for the semaphore again would deadlock.
  const exec = (sql: string) =>
    Effect.serviceOption(client.transactionService).pipe(
      Effect.flatMap(
        Option.match({
          onNone: () => borrower(() => execNow(sql)),
          onSome: () => execNow(sql)
        })
      ),
      Effect.withSpan("SqliteClient.exec", { attributes: { "db.system.name": "sqlite" } })
    )

  return SqliteClient.of(Object.assign(client, { exec }))
})

/** Provides both `SqliteClient` and the generic `SqlClient` over the same connection. */
export const layer = (
  options: SqliteClientOptions
): Layer.Layer<SqliteClient | SqlClient.SqlClient, SqlError.SqlError> =>
  Layer.effectContext(
    Effect.map(make(options), (client) =>
      Context.make(SqliteClient, client).pipe(Context.add(SqlClient.SqlClient, client))
    )
  ).pipe(Layer.provide(Reactivity.layer))
