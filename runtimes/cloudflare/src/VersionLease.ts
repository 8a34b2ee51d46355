// A lease on the catalog version (CatalogVersion.ts): an isolate keeps using
// the version it was last given for `trustMillis`, counted from BEFORE it
// asked, instead of asking the version's Durable Object on every read. It
// stays exact because the object answers a bump only after `bumpWaitMillis`
// (longer than `trustMillis`): a version served before a bump was asked for
// before it, so every lease on it has run out by the time the write that
// bumped answers, and a read that starts after a write has answered asks
// again and sees the bump. Only durations are compared, each on one clock,
// so clocks that disagree between machines do not matter. The margin between
// the two covers Date.now() in a Worker, which stands still between I/O
// events: a reader's "now" may be a little behind the real time.
// No `cloudflare:*` import, so that the tests can run it in Node.

/** How long a bump waits before it answers. */
export const bumpWaitMillis = 100

/** How long a reader keeps a version, from before it asked; less than bumpWaitMillis. */
export const trustMillis = 75

export class VersionLease {
  private held: { readonly version: string; readonly until: number } | undefined
  private readonly trust: number

  constructor(trust: number = trustMillis) {
    this.trust = trust
  }

  /**
   * The version: the one held while its lease runs (`now` before `until`),
   * else `ask()`'s answer, held from `now` on. Of two asks in flight, the one
   * asked later decides how long its answer is held.
   */
  current(now: number, ask: () => Promise<string>): Promise<string> {
    const held = this.held
    if (held !== undefined && now < held.until) return Promise.resolve(held.version)
    return ask().then((version) => {
      const until = now + this.trust
      if (this.held === undefined || until > this.held.until) this.held = { version, until }
      return version
    })
  }
}
