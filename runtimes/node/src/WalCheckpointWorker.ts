// The WAL checkpointer's thread (started by WalCheckpointer.ts). node:sqlite is synchronous, so
// a checkpoint run by a connection on the event loop (SQLite's automatic one, every 1000 pages,
// inside whichever commit crosses the mark) stalled every request of the process for its page
// copies and its two fsyncs: measured at 1 to 41 ms, once per ~1000 pages of each file, the tail
// of a one-buyer checkout. Here a connection of its own, on this thread, copies the log into the
// database instead, while the event loop goes on.
//
// Plain Node (node: modules only, erasable TypeScript): a worker runs this file with Node's own
// type stripping, outside whatever loaded the main thread's code, and without loading effect.
import { closeSync, openSync, readSync } from "node:fs"
import { DatabaseSync } from "node:sqlite"
import { parentPort, workerData } from "node:worker_threads"

/** How far a WAL database's log has grown and how much of it is already in the database file. */
export interface WalIndex {
  /** Frames (pages) in the log: the last valid commit's frame, 0 for an empty or reset log. */
  readonly frames: number
  /** Frames of it already copied into the database file by a checkpoint. */
  readonly backfilled: number
}

// The wal-index header, as sqlite.org/walformat.html documents it: the first 136 bytes of the
// `-shm` file, in native byte order. Two copies of WalIndexHdr (48 bytes each; mxFrame at byte
// 16), then WalCkptInfo (nBackfill at byte 96). Read without SQLite's locks, so a read may race
// a commit: when the two copies differ, a writer is mid-update and the read says nothing. It
// only decides when to checkpoint, never what is durable or what a checkpoint copies.
const headerBytes = 136
const header = new Uint32Array(headerBytes / 4)
const headerView = new Uint8Array(header.buffer)
const empty: WalIndex = { frames: 0, backfilled: 0 }

/**
 * The log's size in frames and how much of it is checkpointed, from `<filename>-shm`; zeros when
 * SQLite has not created it yet. `undefined` when a writer was updating it at that moment.
 */
export const readWalIndex = (filename: string): WalIndex | undefined => {
  let fd: number
  try {
    fd = openSync(`${filename}-shm`, "r")
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return empty
    throw error
  }
  try {
    if (readSync(fd, headerView, 0, headerBytes, 0) < headerBytes) return empty
  } finally {
    closeSync(fd)
  }
  for (let i = 0; i < 12; i++) if (header[i] !== header[12 + i]) return undefined
  return { frames: header[4]!, backfilled: header[24]! }
}

/** Main thread to checkpointer. */
export type Command =
  | {
      readonly type: "open"
      readonly id: number
      readonly filename: string
      readonly intervalMillis: number
      readonly minFrames: number
    }
  | { readonly type: "close"; readonly id: number }

/** Checkpointer to main thread. */
export type Report =
  | { readonly type: "failed"; readonly id: number; readonly message: string }
  | { readonly type: "closed"; readonly id: number }

// Only a checkpoint needs this connection, and a checkpoint copies frames that were committed
// (SQLite never copies past the last commit), so it can make no commit less durable. With
// NORMAL (or FULL; never OFF, which would skip both syncs) the checkpointing connection syncs the
// log before it writes a page into the database file and syncs the database file before it
// marks those frames copied, so after a power cut at any point either the database file holds a
// page or the synced log still replays it.
const busyTimeoutMillis = 5000

interface Watched {
  readonly db: DatabaseSync
  readonly timer: ReturnType<typeof setInterval>
}

const run = (port: NonNullable<typeof parentPort>) => {
  const watched = new Map<number, Watched>()
  const report = (message: Report) => port.postMessage(message)
  const describe = (error: unknown) => (error instanceof Error ? error.message : String(error))

  const checkpoint = (db: DatabaseSync, mode: "PASSIVE" | "TRUNCATE") => {
    db.exec(`PRAGMA wal_checkpoint(${mode})`)
  }

  const open = (command: Extract<Command, { type: "open" }>) => {
    const { filename, id, intervalMillis, minFrames } = command
    let db: DatabaseSync
    try {
      db = new DatabaseSync(filename)
      db.exec(`PRAGMA busy_timeout = ${busyTimeoutMillis}; PRAGMA synchronous = NORMAL`)
    } catch (error) {
      report({ type: "failed", id, message: `open: ${describe(error)}` })
      return
    }
    // PASSIVE copies what no reader still needs and never waits for, nor blocks, the main
    // thread's writers and readers: they keep going while the pages are copied and synced. A
    // checkpoint stopped short by a reader resumes at the next tick.
    // A failure is told once, not at every tick, until a checkpoint succeeds again.
    let failing = false
    const timer = setInterval(() => {
      try {
        const index = readWalIndex(filename)
        if (index !== undefined && index.frames - index.backfilled >= minFrames) checkpoint(db, "PASSIVE")
        failing = false
      } catch (error) {
        if (!failing) report({ type: "failed", id, message: describe(error) })
        failing = true
      }
    }, intervalMillis)
    watched.set(id, { db, timer })
  }

  // The database is closing: everything in the log goes into the database file, and the log is
  // cut to zero bytes, so the file stands on its own (copied, backed up) and the next start
  // replays nothing. The main connection, closed right after, then finds nothing to copy.
  const close = (id: number) => {
    const entry = watched.get(id)
    watched.delete(id)
    if (entry !== undefined) {
      clearInterval(entry.timer)
      try {
        checkpoint(entry.db, "TRUNCATE")
      } catch (error) {
        report({ type: "failed", id, message: `close: ${describe(error)}` })
      } finally {
        entry.db.close()
      }
    }
    report({ type: "closed", id })
  }

  port.on("message", (command: Command) => {
    if (command.type === "open") open(command)
    else close(command.id)
  })
}

/** Marks the worker this file is the entry of (a test runner's own worker threads import it too). */
export const workerMarker = "shop-wal-checkpointer"

if (parentPort !== null && workerData === workerMarker) run(parentPort)
