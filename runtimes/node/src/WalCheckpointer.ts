import { Worker } from "node:worker_threads"
import { Effect, type Scope } from "effect"
import { type Command, type Report, workerMarker } from "./WalCheckpointWorker.ts"

/**
 * When a file database's log is copied into the database file. A checkpoint on the event loop
 * (SQLite's automatic one, inside a commit) stalls every request of the process for its page
 * copies and two fsyncs, so the main connection leaves them to a thread of their own
 * (WalCheckpointWorker.ts) and only checkpoints itself past `maxFrames`.
 */
export interface CheckpointOptions {
  /** How often the checkpointer looks at the log's size (a read of 136 bytes). Default 100 ms. */
  readonly intervalMillis?: number | undefined
  /**
   * Frames (pages) of log not yet in the database file that make the checkpointer copy them.
   * Default 1000, the mark of SQLite's own automatic checkpoint.
   */
  readonly minFrames?: number | undefined
  /**
   * The bound on the log should the checkpointer fall behind (a slow disk, a reader holding it
   * back) or die: past this many frames the main connection checkpoints by itself after a
   * commit, on the event loop, as SQLite would by default. Default 10000 (about 40 MB of log).
   */
  readonly maxFrames?: number | undefined
}

export const defaultCheckpoint = { intervalMillis: 100, minFrames: 1000, maxFrames: 10_000 } as const

// One thread checkpoints every file database of the process: a worker thread is a whole V8
// isolate (about 20 MB and tens of ms to start, measured), and one per file would cost nine of
// them for work that is nearly all waiting on the disk. It starts with the first database that
// registers and stops when the last one has closed, so no thread outlives the layers using it.
interface Shared {
  readonly worker: Worker
  readonly listeners: Map<number, (report: Report) => void>
  users: number
  nextId: number
  exited: boolean
}

let shared: Shared | undefined
// Threads started and not yet exited, whether or not they still serve a database.
let alive = 0

const start = (): Shared => {
  // No flags from the main thread: the thread needs none, and `--cpu-prof` would write it a
  // profile of its own next to the process's (bench/profile.ts reads the first one it finds).
  const worker = new Worker(new URL("./WalCheckpointWorker.ts", import.meta.url), {
    workerData: workerMarker,
    execArgv: []
  })
  // Never what keeps a process alive: the databases' scopes stop it.
  worker.unref()
  const state: Shared = { worker, listeners: new Map(), users: 0, nextId: 0, exited: false }
  alive++
  worker.on("message", (report: Report) => state.listeners.get(report.id)?.(report))
  // An uncaught error ends the thread ("exit" follows "error"). The databases it served keep
  // working, with checkpoints back on the event loop past `maxFrames`; a database opened later
  // gets a new thread.
  let error = "it exited"
  worker.on("error", (cause) => {
    error = cause.message
  })
  worker.on("exit", () => {
    alive--
    state.exited = true
    if (shared === state) shared = undefined
    // Only the databases still open hear of it: a closed one has left `listeners` already.
    for (const [id, listener] of state.listeners) {
      listener({ type: "failed", id, message: `the checkpointer thread stopped: ${error}` })
      listener({ type: "closed", id })
    }
  })
  return state
}

/** Checkpointer threads that have not exited yet; for tests that check nothing is left running. */
export const runningThreads = (): number => alive

/**
 * Has the checkpointer thread watch `filename` while the scope is open, telling `onFailure` what
 * went wrong (the database goes on; its log is then bounded by `maxFrames` only). When the scope
 * closes, the thread copies the whole log into the database file and cuts the log to zero
 * (`PRAGMA wal_checkpoint(TRUNCATE)`) before it lets go of the file; the last one to close
 * stops the thread.
 */
export const watch = (
  filename: string,
  options: CheckpointOptions,
  onFailure: (message: string) => void
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const state = shared ?? start()
      shared = state
      state.users++
      const id = state.nextId++
      let resolveClosed = () => {}
      const closed = new Promise<void>((resolve) => {
        resolveClosed = resolve
      })
      state.listeners.set(id, (report) => {
        if (report.type === "failed") onFailure(report.message)
        else if (report.type === "closed") resolveClosed()
      })
      const command: Command = {
        type: "open",
        id,
        filename,
        intervalMillis: options.intervalMillis ?? defaultCheckpoint.intervalMillis,
        minFrames: options.minFrames ?? defaultCheckpoint.minFrames
      }
      state.worker.postMessage(command)
      return { state, id, closed }
    }),
    ({ closed, id, state }) =>
      Effect.promise(async () => {
        if (!state.exited) {
          const command: Command = { type: "close", id }
          state.worker.postMessage(command)
          await closed
        }
        state.listeners.delete(id)
        if (--state.users === 0) {
          if (shared === state) shared = undefined
          await state.worker.terminate()
        }
      })
  )
