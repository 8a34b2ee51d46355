import { DurableObject } from "cloudflare:workers"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import { Catalog } from "@shop/catalog/Catalog"
import { Inventory } from "@shop/inventory/Inventory"
import { bumpWaitMillis, VersionLease } from "./VersionLease.ts"

// The version of everything a catalog read shows (products and their
// availability), for the gateway's edge cache (EdgeCache.ts): the cache keys
// carry it, every committed catalog or stock write bumps it, so the entries
// stored before a write can no longer be reached the moment the write answers
// (docs/ARCHITECTURE.md, "The edge cache of catalog reads").
//
// Why a Durable Object: the gateway needs the version for every anonymous
// catalog read, and a read after a write must see its bump. One object has exactly one
// instance in the world and answers from memory, so a read after a bump sees
// it (KV is eventually consistent: up to a minute of stale answers).
//
// Why one version for the whole catalog and not one per product: a stock
// write knows only variant ids (inventory does not know products), and the
// list pages show availability too. The cost: any write empties the cached
// catalog, so under a steady stream of checkouts the hit rate falls.
//
// The version is a random epoch drawn when the object starts plus a counter
// in memory; nothing is stored. If the object is evicted or restarted it comes
// back with a new epoch: every key from before is unreachable (a cold cache,
// never a stale one), which is what persisting the counter would buy, minus
// a storage write per bump.
//
// Readers hold the version on a short lease (VersionLease.ts): an isolate
// asks the object at most once per `trustMillis` instead of on every read,
// and a bump answers only after `bumpWaitMillis`, by when every lease on the
// version before it has run out. So a read that starts after a write has
// answered still sees that write; the price is that every catalog or stock
// write answers `bumpWaitMillis` later.
export class CatalogVersion extends DurableObject {
  private epoch: string | undefined
  private counter = 0

  private version(): string {
    this.epoch ??= crypto.randomUUID().slice(0, 8)
    return `${this.epoch}.${this.counter.toString(36)}`
  }

  current(): string {
    return this.version()
  }

  // The new version is what every `current()` gives from now on, including
  // while this waits (a timer, not storage: other calls are not held up).
  async bump(): Promise<string> {
    this.counter += 1
    const version = this.version()
    await new Promise((resolve) => setTimeout(resolve, bumpWaitMillis))
    return version
  }
}

// The one instance every Worker addresses.
export const instanceName = "catalog"

// What a caller sees of the object through its binding (Workers RPC).
export interface CatalogVersionStub {
  readonly current: () => Promise<string>
  readonly bump: () => Promise<string>
}

export const stubOf = (namespace: DurableObjectNamespace): CatalogVersionStub =>
  namespace.getByName(instanceName) as unknown as CatalogVersionStub

// The isolate's lease: shared by every reader of this isolate (the gateway's
// edge cache, the catalog Worker's records, every cart object of the cart
// Worker's isolate), since there is one version in the world. It holds a
// string and a time, never a stub or a promise of another request.
const lease = new VersionLease()
const ids = new WeakMap<DurableObjectNamespace, DurableObjectId>()

/**
 * The current version under the isolate's lease (VersionLease.ts): the object
 * is asked only when the lease has run out. Rejects when it cannot be asked.
 * The object's id is derived once per namespace; a stub is made per ask,
 * since workerd ties a stub to the request that made it.
 */
export const currentVersion = (namespace: DurableObjectNamespace): Promise<string> =>
  lease.current(Date.now(), () => {
    let id = ids.get(namespace)
    if (id === undefined) ids.set(namespace, (id = namespace.idFromName(instanceName)))
    return (namespace.get(id) as unknown as CatalogVersionStub).current()
  })

/**
 * The current version under the isolate's lease (`currentVersion`), for a
 * cache keyed by it (CatalogRecordCache.ts, CatalogProducts.ts), or none when
 * it cannot be read (the caller then reads the source and keeps nothing).
 */
export const reader = (namespace: DurableObjectNamespace): Effect.Effect<Option.Option<string>> =>
  Effect.tryPromise(() => currentVersion(namespace)).pipe(
    Effect.map(Option.some),
    Effect.catchCause((cause) =>
      Effect.as(Effect.logWarning("Could not read the catalog version; read without the cache", cause), Option.none())
    )
  )

/**
 * Values kept under the version they were read with, in an isolate's memory:
 * one is found only under that same version, and for `ttlMillis` at most
 * (which bounds how long a value outlives a bump that failed). Entries of any
 * other version go as soon as a newer one is seen (memory, not correctness).
 */
export class VersionedCache<K, V> {
  // A Map iterates in insertion order: the first key is the oldest entry.
  private readonly entries = new Map<K, { readonly version: string; readonly value: V; readonly expiresAt: number }>()
  private latest: string | undefined
  private readonly options: { readonly ttlMillis: number; readonly maxEntries: number }

  constructor(options: { readonly ttlMillis: number; readonly maxEntries: number }) {
    this.options = options
  }

  // Called with every version read, before the lookups.
  seen(version: string): void {
    if (version === this.latest) return
    this.latest = version
    for (const [key, entry] of this.entries) if (entry.version !== version) this.entries.delete(key)
  }

  get(key: K, version: string, now: number): V | undefined {
    const entry = this.entries.get(key)
    return entry !== undefined && entry.version === version && entry.expiresAt > now ? entry.value : undefined
  }

  // A value read under a version that is already old would never be found again: not kept.
  set(key: K, version: string, value: V, now: number): void {
    if (version !== this.latest) return
    this.entries.delete(key)
    this.entries.set(key, { version, value, expiresAt: now + this.options.ttlMillis })
    if (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next()
      if (oldest.done !== true) this.entries.delete(oldest.value)
    }
  }

  delete(key: K): void {
    this.entries.delete(key)
  }
}

// Bumps after a write. A failure is logged, not returned: the write itself has
// been committed and its caller must hear so; the edge cache may then serve
// the old answer until EDGE_CACHE_TTL_SECONDS, the backstop.
const bump = (namespace: DurableObjectNamespace | undefined): Effect.Effect<void> =>
  namespace === undefined
    ? Effect.void
    : Effect.tryPromise(() => stubOf(namespace).bump()).pipe(
        Effect.retry({ times: 2 }),
        Effect.asVoid,
        Effect.catchCause((cause) =>
          Effect.logError("Could not bump the catalog version; the edge cache may be stale until its TTL", cause)
        ),
        Effect.withSpan("CatalogVersion.bump")
      )

// A typed failure means nothing was written (the services fail before they
// write); a success, a defect or an interruption may have written something,
// so those bump.
const mayHaveWritten = <A, E>(exit: Exit.Exit<A, E>) =>
  Exit.isSuccess(exit) || Cause.hasDies(exit.cause) || Cause.hasInterrupts(exit.cause)

const afterWrite =
  (namespace: DurableObjectNamespace | undefined) =>
  <I, A, E, R>(method: (input: I) => Effect.Effect<A, E, R>) =>
  (input: I): Effect.Effect<A, E, R> =>
    method(input).pipe(Effect.onExit((exit) => (mayHaveWritten(exit) ? bump(namespace) : Effect.void)))

/**
 * Catalog with every write bumping the version after it committed: create,
 * update, remove and the image changes (they change `images`). The reads
 * (list, get, getImage) are the service's own.
 */
export const catalog = (namespace: DurableObjectNamespace | undefined) =>
  Layer.effect(
    Catalog,
    Effect.gen(function* () {
      const service = yield* Catalog
      const write = afterWrite(namespace)
      return Catalog.of({
        ...service,
        create: write(service.create),
        update: write(service.update),
        remove: write(service.remove),
        addImage: write(service.addImage),
        removeImage: write(service.removeImage),
        reorderImages: write(service.reorderImages)
      })
    })
  )

/**
 * Inventory with every stock write bumping the version: admin set/adjust,
 * rows of new or removed variants, and every step of a hold (reserve, commit,
 * release, restock, expiry), whoever calls it (the cart's objects, orders,
 * the catalog, this Worker's own cron). The cron's expiry bumps only when it
 * expired something, or a quiet minute would empty the cache every minute.
 */
export const inventory = (namespace: DurableObjectNamespace | undefined) =>
  Layer.effect(
    Inventory,
    Effect.gen(function* () {
      const service = yield* Inventory
      const write = afterWrite(namespace)
      return Inventory.of({
        ...service,
        set: write(service.set),
        adjust: write(service.adjust),
        initialize: write(service.initialize),
        remove: write(service.remove),
        reserve: write(service.reserve),
        commit: write(service.commit),
        release: write(service.release),
        restock: write(service.restock),
        expireHolds: (input) =>
          service.expireHolds(input).pipe(Effect.tap(({ expired }) => (expired > 0 ? bump(namespace) : Effect.void)))
      })
    })
  )
