// Top frames of a V8 CPU profile (`node --cpu-prof`), by self and by
// inclusive time, aggregated by function name + script URL + line (all the
// call sites of one function count as one frame; a recursive function's
// inclusive time is counted once per sample).
//
//   node bench/profile-top.ts <file.cpuprofile> [top=15] [--by-file]
//
// --by-file aggregates by script instead (which package the time is spent in).
import { readFileSync } from "node:fs"

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}

interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly startTime: number
  readonly endTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const args = process.argv.slice(2)
const byFile = args.includes("--by-file")
const [file, topText] = args.filter((a) => !a.startsWith("--"))
if (file === undefined) {
  process.stderr.write("usage: node bench/profile-top.ts <file.cpuprofile> [top] [--by-file]\n")
  process.exit(2)
}
const top = Number(topText ?? 15)
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile

const shortUrl = (url: string) => {
  const modules = url.lastIndexOf("/node_modules/")
  if (modules !== -1) return url.slice(modules + "/node_modules/".length)
  const packages = url.indexOf("/packages/")
  if (packages !== -1) return url.slice(packages + 1)
  const runtimes = url.indexOf("/runtimes/")
  if (runtimes !== -1) return url.slice(runtimes + 1)
  return url.replace(/^file:\/\//, "")
}

const keyOf = (frame: CallFrame) => {
  const url = shortUrl(frame.url)
  // Native and V8 frames have no script: (idle), (garbage collector), writev.
  if (byFile) return url === "" ? frame.functionName || "(native)" : url
  const name = frame.functionName || "(anonymous)"
  return url === "" ? name : `${name}  ${url}:${frame.lineNumber + 1}`
}

const byId = new Map<number, ProfileNode>()
const parent = new Map<number, number>()
for (const node of profile.nodes) {
  byId.set(node.id, node)
  for (const child of node.children ?? []) parent.set(child, node.id)
}

// Each sample's time is the delta to the next sample (the last gets the mean).
const { samples, timeDeltas } = profile
const total = profile.endTime - profile.startTime
const self = new Map<string, number>()
const inclusive = new Map<string, number>()
const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us)
for (let i = 0; i < samples.length; i++) {
  const us = i + 1 < timeDeltas.length ? timeDeltas[i + 1]! : total / samples.length
  let id: number | undefined = samples[i]!
  const leaf = byId.get(id)!
  add(self, keyOf(leaf.callFrame), us)
  const seen = new Set<string>()
  while (id !== undefined) {
    const key = keyOf(byId.get(id)!.callFrame)
    if (!seen.has(key)) {
      seen.add(key)
      add(inclusive, key, us)
    }
    id = parent.get(id)
  }
}

const idle = self.get("(idle)") ?? 0
const busy = total - idle
const print = (title: string, map: Map<string, number>) => {
  const rows = [...map.entries()].filter(([key]) => key !== "(idle)" && key !== "(root)")
  rows.sort((a, b) => b[1] - a[1])
  process.stdout.write(`\n${title} (ms, % of non-idle time)\n`)
  for (const [key, us] of rows.slice(0, top)) {
    process.stdout.write(
      `${(us / 1000).toFixed(0).padStart(7)}  ${((us / busy) * 100).toFixed(1).padStart(5)}%  ${key}\n`
    )
  }
}

process.stdout.write(
  `${file}: ${(total / 1e6).toFixed(1)} s, ${samples.length} samples, ` +
    `non-idle ${(busy / 1000).toFixed(0)} ms (${((busy / total) * 100).toFixed(0)}%)\n`
)
print("by self time", self)
print("by inclusive time", inclusive)
