import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Target } from "@shop/testing/Scenarios"

// Starts `npm start`'s entry point as a real process, the way people run it.

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))
// The project's Node 24: the machine's own may be too old for node:sqlite.
const nodeBin = join(repoRoot, "node_modules", ".bin", "node")

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface ShopProcess {
  readonly origin: string
  readonly pid: number
  /** Every stdout line so far. */
  readonly lines: () => ReadonlyArray<string>
  readonly output: () => string
  readonly exited: Promise<Exit>
  /** Sends SIGTERM (once) and waits for the process to end. */
  readonly stop: () => Promise<Exit>
}

/** A port nobody listens on right now: bind port 0 on loopback, read it, release it. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port"))))
    })
  })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const tail = (text: string) => text.split("\n").slice(-20).join("\n")

/**
 * Spawns the shop with exactly `env` (plus PATH, PORT and HOST): nothing leaks
 * in from the developer's environment. Resolves once GET /health answers 200.
 */
export const startShop = async (env: Record<string, string>, timeoutMs = 30_000): Promise<ShopProcess> => {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const child: ChildProcess = spawn(nodeBin, ["runtimes/node/src/main.ts"], {
    cwd: repoRoot,
    env: { PATH: process.env["PATH"] ?? "", HOST: "127.0.0.1", PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk
  })
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }))
  })
  let done: Exit | undefined
  void exited.then((exit) => {
    done = exit
  })
  const output = () => `${stdout}${stderr.length > 0 ? `\n[stderr]\n${stderr}` : ""}`

  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (done !== undefined) {
      throw new Error(`The shop exited (${JSON.stringify(done)}) before it was ready:\n${tail(output())}`)
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL")
      throw new Error(`The shop was not ready within ${timeoutMs} ms:\n${tail(output())}`)
    }
    const healthy = await fetch(`${origin}/health`).then(
      (response) => response.status === 200,
      () => false
    )
    if (healthy) break
    await sleep(100)
  }

  let stopping: Promise<Exit> | undefined
  return {
    origin,
    pid: child.pid ?? -1,
    lines: () => stdout.split("\n").filter((line) => line.length > 0),
    output,
    exited,
    stop: () => {
      if (stopping === undefined) {
        if (done === undefined) child.kill("SIGTERM")
        stopping = exited
      }
      return stopping
    }
  }
}

/**
 * A `fetch` for the scenario suite: the same request (method, headers, body,
 * path and query) sent to the process, whatever origin the suite wrote.
 */
export const forwardTo =
  (origin: string): Target["fetch"] =>
  async (request) => {
    const url = new URL(request.url)
    const body = request.body === null ? undefined : await request.arrayBuffer()
    return fetch(new URL(`${url.pathname}${url.search}`, origin), {
      method: request.method,
      headers: request.headers,
      body,
      redirect: "manual",
      signal: request.signal
    })
  }

/** Waits until a stdout line satisfies `predicate` (logs are written a moment after the response). */
export const waitForLine = async (
  shop: ShopProcess,
  predicate: (entry: Record<string, unknown>) => boolean,
  timeoutMs = 5_000
): Promise<Record<string, unknown>> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    for (const line of shop.lines()) {
      const entry: unknown = JSON.parse(line)
      if (typeof entry === "object" && entry !== null && predicate(entry as Record<string, unknown>)) {
        return entry as Record<string, unknown>
      }
    }
    if (Date.now() > deadline) throw new Error(`No matching log line in:\n${tail(shop.output())}`)
    await sleep(50)
  }
}
