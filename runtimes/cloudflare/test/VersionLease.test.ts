import { describe, expect, it } from "vitest"
import { bumpWaitMillis, trustMillis, VersionLease } from "../src/VersionLease.ts"

// The lease on the catalog version (src/VersionLease.ts), on a clock the test
// moves by hand. Under workerd, the edge cache tests (EdgeCache.test.ts) read
// right after writes through the gateway, which holds a lease.

// An ask whose answer the test gives when it wants.
const pending = () => {
  let answer: (version: string) => void = () => {}
  let refuse: (error: Error) => void = () => {}
  const promise = new Promise<string>((resolve, reject) => {
    answer = resolve
    refuse = reject
  })
  return { promise, answer, refuse }
}

describe("VersionLease", () => {
  it("asks once, then holds the answer until trustMillis after it asked", async () => {
    const lease = new VersionLease(30)
    let asks = 0
    const ask = () => {
      asks++
      return Promise.resolve(`v${asks}`)
    }
    expect(await lease.current(1000, ask)).toBe("v1")
    expect(await lease.current(1010, ask)).toBe("v1")
    expect(await lease.current(1029, ask)).toBe("v1")
    expect(asks).toBe(1)
    expect(await lease.current(1030, ask)).toBe("v2")
    expect(asks).toBe(2)
  })

  it("counts the lease from before the ask, however long the answer took", async () => {
    const lease = new VersionLease(30)
    const slow = pending()
    const first = lease.current(1000, () => slow.promise)
    // The answer comes late; its lease still ends at 1000 + 30.
    slow.answer("v1")
    expect(await first).toBe("v1")
    let asked = false
    expect(
      await lease.current(1030, () => {
        asked = true
        return Promise.resolve("v2")
      })
    ).toBe("v2")
    expect(asked).toBe(true)
  })

  it("of two asks in flight, the later one's answer is held, whichever comes back last", async () => {
    const lease = new VersionLease(30)
    const early = pending()
    const late = pending()
    const a = lease.current(1000, () => early.promise)
    const b = lease.current(1010, () => late.promise)
    late.answer("v2")
    expect(await b).toBe("v2")
    // The earlier ask's answer (an older version) comes back last: its lease
    // (to 1030) ends before the held one's (to 1040), so it is not held.
    early.answer("v1")
    expect(await a).toBe("v1")
    expect(await lease.current(1035, () => Promise.reject(new Error("not asked")))).toBe("v2")
  })

  it("holds nothing from a failed ask", async () => {
    const lease = new VersionLease(30)
    const failing = pending()
    const first = lease.current(1000, () => failing.promise)
    failing.refuse(new Error("unreachable"))
    await expect(first).rejects.toThrow("unreachable")
    expect(await lease.current(1001, () => Promise.resolve("v1"))).toBe("v1")
  })

  // The property the edge cache and the caches of records and products rely
  // on: a read that starts once a write has answered sees the write's bump.
  // A version object as CatalogVersion.ts is one (the new version at once,
  // the answer bumpWaitMillis later), readers asking it through a lease, and
  // every order of events within a few hundred milliseconds.
  it("a read that starts after a bump has answered sees the bump", async () => {
    expect(trustMillis).toBeLessThan(bumpWaitMillis)
    for (let readAt = 0; readAt < 200; readAt += 3) {
      for (let bumpAt = 0; bumpAt < 200; bumpAt += 7) {
        const lease = new VersionLease()
        // The object's version at a time: bumped at bumpAt.
        const versionAt = (t: number) => (t < bumpAt ? "v0" : "v1")
        // A first read, which takes the lease, then a second one after the
        // bump has answered.
        await lease.current(readAt, () => Promise.resolve(versionAt(readAt)))
        const answeredAt = bumpAt + bumpWaitMillis
        for (const later of [answeredAt, answeredAt + 1, answeredAt + 10]) {
          expect(await lease.current(later, () => Promise.resolve(versionAt(later)))).toBe("v1")
        }
      }
    }
  })
})
