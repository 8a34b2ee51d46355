// What one durable commit costs on this disk, measured in the same run as
// the checkouts: small appends to a file in the bench's temp folder (where
// the node runtime keeps its SQLite files), each followed by fdatasync, one
// after another, as SQLite's log is written and synced at a commit. A
// checkout waits for its syncs one after another (docs/CHECKOUT.md,
// "Durability on node"), so their sum is a floor under its latency that no
// code change can go below while every commit is kept durable.
import { open, rm } from "node:fs/promises"
import { join } from "node:path"
import { summarize } from "./stats.ts"

export interface DiskSyncResult {
  readonly syncs: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly meanMs: number
}

export const measureDiskSync = async (dir: string, syncs = 200): Promise<DiskSyncResult> => {
  const path = join(dir, "disk-sync.probe")
  const file = await open(path, "w")
  // A WAL frame is a page (4 KiB) plus a 24-byte header; a commit of a
  // checkout step writes one to a few of them.
  const frame = Buffer.alloc(4096 + 24, 7)
  const times: Array<number> = []
  try {
    for (let i = 0; i < syncs; i++) {
      const start = performance.now()
      await file.write(frame, 0, frame.length, i * frame.length)
      await file.datasync()
      times.push(performance.now() - start)
    }
  } finally {
    await file.close()
    await rm(path, { force: true })
  }
  const { p50, p99, mean } = summarize(times)
  return { syncs, p50Ms: p50, p99Ms: p99, meanMs: mean }
}
