// `node runtimes/cloudflare/scripts/profile-workerd.ts <inspector port> <seconds> [out dir]`:
// CPU profiles of every isolate of a local workerd at once (its V8 inspector,
// `--inspector-addr`, lists them at /json/list), while something else loads
// it. Prints, per isolate, the sampled busy time and its top functions by
// self time; writes each profile as <out dir>/<isolate>.cpuprofile for
// Chrome DevTools. A diagnostic: it measures where the Workers set's CPU goes.
// Read with care: the samples are wall-clock ticks of each isolate's thread,
// so on a machine shared with other loads a preempted function collects time
// it did not use (compare with cpu-per-request.ts), and workerd has crashed
// once (and restarted) under many profiled isolates: profile a few at a time
// (ISOLATES=core:user:shop-gateway,d1:db).
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const [portText, secondsText, outDir] = process.argv.slice(2)
const port = Number(portText)
const seconds = Number(secondsText ?? "10")
const only = process.env["ISOLATES"]?.split(",")

interface Target {
  readonly id: string
  readonly webSocketDebuggerUrl: string
}
interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const targets = ((await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<Target>).filter((t) =>
  only === undefined ? t.id.startsWith("core:user:") || t.id.startsWith("d1:") : only.includes(t.id)
)

const session = (target: Target) =>
  new Promise<{ send: (method: string, params?: object) => Promise<unknown>; close: () => void }>((resolve, reject) => {
    const ws = new WebSocket(target.webSocketDebuggerUrl)
    let nextId = 1
    const pending = new Map<number, (result: unknown) => void>()
    ws.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown }
      if (message.id !== undefined) pending.get(message.id)?.(message.result)
    }
    ws.onerror = reject
    ws.onopen = () =>
      resolve({
        send: (method, params = {}) =>
          new Promise((done) => {
            const id = nextId++
            pending.set(id, done)
            ws.send(JSON.stringify({ id, method, params }))
            // An isolate that never answers (not started yet) is skipped.
            setTimeout(() => done(undefined), 15_000)
          }),
        close: () => ws.close()
      })
  })

const sessions = await Promise.all(targets.map(async (t) => ({ target: t, session: await session(t) })))
for (const { session } of sessions) {
  await session.send("Profiler.enable")
  await session.send("Profiler.start")
}
process.stdout.write(`profiling ${sessions.length} isolates for ${seconds} s\n`)
await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
for (const { target, session } of sessions) {
  const stopped = (await session.send("Profiler.stop")) as { profile: Profile } | undefined
  session.close()
  if (stopped === undefined) {
    process.stdout.write(`\n== ${target.id}: no answer\n`)
    continue
  }
  const profile = stopped.profile
  if (outDir !== undefined) {
    mkdirSync(outDir, { recursive: true })
    writeFileSync(join(outDir, `${target.id.replace(/[^A-Za-z0-9_-]/g, "_")}.cpuprofile`), JSON.stringify(profile))
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  let busy = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000
    const name = node.callFrame.functionName
    if (name === "(idle)" || name === "(program)") continue
    busy += dt
    const file = node.callFrame.url.split("/").slice(-2).join("/")
    const key = `${name || "(anonymous)"} ${file}:${node.callFrame.lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + dt)
  }
  if (busy < 1) continue
  process.stdout.write(`\n== ${target.id}: busy ${busy.toFixed(0)} ms\n`)
  for (const [key, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env["TOP"] ?? "15"))) {
    process.stdout.write(`  ${ms.toFixed(1).padStart(8)} ms  ${key}\n`)
  }
}
