// Child processes of a bench run: started in their own process group so that
// stopping one also stops anything it spawned, and tracked so that every one
// of them is stopped on success, failure and Ctrl-C alike.
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createServer } from "node:net"
import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"

export interface Child {
  readonly name: string
  readonly pid: number
  // Resolves when the process has exited, with its exit code (null when killed by a signal).
  readonly exited: Promise<number | null>
  readonly hasExited: () => boolean
  readonly stdout: () => string
  // The last lines of stdout and stderr, for error messages.
  readonly tail: () => string
  readonly stop: () => Promise<void>
}

export interface StartOptions {
  readonly name: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd?: string
  readonly env?: Record<string, string>
  // Keep the whole stdout (the load worker's result) rather than only its tail.
  readonly keepStdout?: boolean
}

const live = new Set<Child>()
const TAIL_CHARS = 4000
const STOP_GRACE_MS = 5000

const signalGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    // A negative pid addresses the whole process group the child leads.
    process.kill(-pid, signal)
  } catch {
    // ESRCH: the group is already gone.
  }
}

export const startProcess = (options: StartOptions): Child => {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: Ctrl-C in the terminal reaches only the
    // orchestrator, which then stops the children in order.
    detached: true
  })
  const pid = child.pid
  if (pid === undefined) throw new Error(`${options.name}: could not spawn ${options.command}`)

  let stdout = ""
  let tail = ""
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString("utf8")).slice(-TAIL_CHARS)
  }
  child.stdout.on("data", (chunk: Buffer) => {
    if (options.keepStdout === true) stdout += chunk.toString("utf8")
    keep(chunk)
  })
  child.stderr.on("data", keep)

  let exitedFlag = false
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      exitedFlag = true
      resolve(code)
    })
  })

  let stopping: Promise<void> | undefined
  const handle: Child = {
    name: options.name,
    pid,
    exited,
    hasExited: () => exitedFlag,
    stdout: () => stdout,
    tail: () => tail.trim(),
    stop: () => {
      stopping ??= (async () => {
        if (!exitedFlag) {
          signalGroup(pid, "SIGTERM")
          const graceful = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS, false)])
          if (!graceful) {
            process.stderr.write(`bench: ${options.name} ignored SIGTERM for ${STOP_GRACE_MS} ms, killing it\n`)
          }
        }
        // Whatever the leader left behind in its group goes too.
        signalGroup(pid, "SIGKILL")
        await exited
        live.delete(handle)
      })()
      return stopping
    }
  }
  live.add(handle)
  void exited.then(() => {
    if (stopping === undefined) signalGroup(pid, "SIGKILL")
  })
  return handle
}

export const stopAll = async () => {
  // Newest first: a load run is stopped before the server it is loading.
  await Promise.all([...live].reverse().map((child) => child.stop()))
}

// Last resort for an exit that skipped the async clean-up: no waiting is
// possible in an "exit" handler, so the groups get SIGKILL straight away.
export const killAllNow = () => {
  for (const child of live) signalGroup(child.pid, "SIGKILL")
  live.clear()
}

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port)
        else reject(new Error("no port assigned"))
      })
    })
  })

// Polls until `url` answers 2xx. Fails early when the child dies, so a broken
// server shows its own error output instead of a timeout.
export const waitForHttp = async (url: string, child: Child, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  let last = "no answer yet"
  while (Date.now() < deadline) {
    if (child.hasExited()) {
      throw new Error(`${child.name} exited before answering ${url}:\n${child.tail() || "(no output)"}`)
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
      await response.arrayBuffer()
      if (response.ok) return
      last = `HTTP ${response.status}`
    } catch (error) {
      last = error instanceof Error ? error.message : String(error)
    }
    await sleep(100)
  }
  throw new Error(
    `${child.name} did not answer ${url} within ${timeoutMs} ms (last: ${last}):\n${child.tail() || "(no output)"}`
  )
}

export interface NodeRuntimeOptions {
  readonly rootDir: string
  // The Node 24 binary.
  readonly node: string
  readonly dataDir: string
  // Node flags before the entry point (`--cpu-prof`, ...).
  readonly nodeArgs?: ReadonlyArray<string>
  // Added to the settings below, or replacing them.
  readonly env?: Record<string, string>
  readonly timeoutMs?: number
}

export interface NodeRuntime {
  readonly child: Child
  readonly baseUrl: string
  readonly adminSecret: string
}

// The node runtime (`npm start`'s entry point) on a free loopback port over
// `dataDir`, with fresh secrets, warnings-only logs and its own fake PayPal on
// another free port (no PAYPAL_CLIENT_ID: the process serves the fake itself,
// and its webhooks come back to the same process, racing the buyer's capture
// as PayPal's do); resolves once /health answers.
export const startNodeRuntime = async (options: NodeRuntimeOptions): Promise<NodeRuntime> => {
  const port = await freePort()
  const adminSecret = randomBytes(16).toString("hex")
  const child = startProcess({
    name: "node runtime",
    command: options.node,
    args: [...(options.nodeArgs ?? []), join(options.rootDir, "runtimes", "node", "src", "main.ts")],
    cwd: options.rootDir,
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATA_DIR: options.dataDir,
      JWT_SECRET: randomBytes(32).toString("hex"),
      LOG_LEVEL: "warn",
      ADMIN_SECRET: adminSecret,
      // Only the setup's signups and logins hash passwords; no request measured does.
      PASSWORD_ITERATIONS: "1000",
      PAYPAL_FAKE_PORT: String(await freePort()),
      ...options.env
    }
  })
  const baseUrl = `http://127.0.0.1:${port}`
  await waitForHttp(`${baseUrl}/health`, child, options.timeoutMs ?? 60_000)
  return { child, baseUrl, adminSecret }
}
