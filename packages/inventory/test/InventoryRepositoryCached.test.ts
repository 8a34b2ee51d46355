import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import { VariantId } from "@shop/domain/Ids"
import { HoldId } from "@shop/domain/Inventory"
import { Inventory } from "../src/Inventory.ts"
import * as InventoryConfig from "../src/InventoryConfig.ts"
import * as InventoryLive from "../src/InventoryLive.ts"
import { InventoryRepository } from "../src/InventoryRepository.ts"
import * as InventoryRepositoryCached from "../src/InventoryRepositoryCached.ts"
import * as InventoryRepositoryMemory from "../src/InventoryRepositoryMemory.ts"

const a = VariantId.make("var_cacheaaaaaaaa")
const b = VariantId.make("var_cachebbbbbbbb")
const c = VariantId.make("var_cachecccccccc")
const hold = (n: number) => HoldId.make(`res_cache${String(n).padStart(6, "0")}`)

type Repository = InventoryRepository["Service"]

// The store under the cache, with its reads counted and optional hooks that
// run after a read reached the store, before a write does or after it did
// (to overlap another operation there, or to make a write fail once it has
// written).
interface Hooks {
  afterRead?: Effect.Effect<void>
  beforeWrite?: Effect.Effect<void>
  afterWrite?: Effect.Effect<void>
}
const counted = (inner: Repository, hooks: Hooks) => {
  const reads = { count: 0 }
  const read = <A>(effect: Effect.Effect<A>) =>
    Effect.suspend(() => {
      reads.count++
      return Effect.tap(effect, () => hooks.afterRead ?? Effect.void)
    })
  const write = <A>(effect: Effect.Effect<A>) =>
    Effect.suspend(() => hooks.beforeWrite ?? Effect.void).pipe(
      Effect.andThen(effect),
      Effect.tap(() => hooks.afterWrite ?? Effect.void)
    )
  const store: Repository = {
    ...inner,
    find: (variantId) => read(inner.find(variantId)),
    findMany: (variantIds) => read(inner.findMany(variantIds)),
    setStock: (variantId, stock, now) => write(inner.setStock(variantId, stock, now)),
    adjustStock: (variantId, delta, now) => write(inner.adjustStock(variantId, delta, now)),
    insertMany: (levels, now) => write(inner.insertMany(levels, now)),
    deleteMany: (variantIds) => write(inner.deleteMany(variantIds)),
    reserve: (hold) => write(inner.reserve(hold)),
    settle: (holdId, to, now) => write(inner.settle(holdId, to, now)),
    expireDue: (now, limit) => write(inner.expireDue(now, limit)),
    restock: (holdId, now) => write(inner.restock(holdId, now))
  }
  return { store, reads }
}

// A memory store (`store`, read directly: the truth), the counted view of it
// and the cache in front of that (`cached`).
const setup = Effect.fnUntraced(function* (options = InventoryRepositoryCached.defaultCacheOptions) {
  const store = yield* Effect.provide(Effect.service(InventoryRepository), InventoryRepositoryMemory.layer)
  const hooks: Hooks = {}
  const { reads, store: counting } = counted(store, hooks)
  const cache = yield* Effect.provideService(
    InventoryRepositoryCached.make(options),
    InventoryRepository,
    InventoryRepository.of(counting)
  )
  return { store, cached: cache.repository, size: cache.size, reads, hooks }
})

// The cache answers exactly what the store holds, row by row and for find.
const agrees = Effect.fnUntraced(function* (store: Repository, cached: Repository, message: string) {
  const ids = [a, b, c]
  assert.deepStrictEqual(yield* cached.findMany(ids), yield* store.findMany(ids), message)
  for (const id of ids) assert.deepStrictEqual(yield* cached.find(id), yield* store.find(id), `${message} (${id})`)
})

describe("InventoryRepositoryCached", () => {
  it.effect("answers a row read once from memory, in the order asked, until a write", () =>
    Effect.gen(function* () {
      const { cached, reads, store } = yield* setup()
      yield* store.insertMany(
        [
          { variantId: a, stock: 5 },
          { variantId: b, stock: 7 }
        ],
        1
      )
      assert.deepStrictEqual(yield* cached.findMany([b, a, c]), [
        { variantId: b, stock: 7, reserved: 0 },
        { variantId: a, stock: 5, reserved: 0 }
      ])
      const after = reads.count
      assert.deepStrictEqual(yield* cached.findMany([a, b]), [
        { variantId: a, stock: 5, reserved: 0 },
        { variantId: b, stock: 7, reserved: 0 }
      ])
      assert.deepStrictEqual(yield* cached.find(b), Option.some({ variantId: b, stock: 7, reserved: 0 }))
      assert.strictEqual(reads.count, after, "hits need no read of the store")
      // A variant with no row is not kept: asked again, it is read again.
      yield* cached.findMany([c])
      yield* cached.findMany([c])
      assert.strictEqual(reads.count, after + 2)
      yield* cached.adjustStock(a, -1, 2)
      assert.deepStrictEqual(yield* cached.findMany([a]), [{ variantId: a, stock: 4, reserved: 0 }])
      assert.strictEqual(reads.count, after + 3)
    })
  )

  it.effect("agrees with the store after every kind of write", () =>
    Effect.gen(function* () {
      const { cached, store } = yield* setup()
      const step = Effect.fnUntraced(function* (name: string, write: Effect.Effect<unknown>) {
        // Every row is in memory before the write, so a row it left stale would show.
        yield* cached.findMany([a, b, c])
        yield* write
        yield* agrees(store, cached, `after ${name}`)
      })
      yield* step(
        "insertMany",
        cached.insertMany(
          [
            { variantId: a, stock: 10 },
            { variantId: b, stock: 10 }
          ],
          1
        )
      )
      yield* step("insertMany of a new row", cached.insertMany([{ variantId: c, stock: 3 }], 1))
      yield* step("setStock", cached.setStock(a, 20, 2))
      yield* step("adjustStock", cached.adjustStock(b, -4, 2))
      yield* step("a refused adjustStock", cached.adjustStock(b, -100, 2))
      const placed = (n: number, expiresAt: number) =>
        cached.reserve({
          holdId: hold(n),
          lines: [
            { variantId: a, quantity: 2 },
            { variantId: b, quantity: 1 }
          ],
          createdAt: 3,
          expiresAt
        })
      yield* step("reserve", placed(1, 100))
      yield* step("reserve", placed(2, 100))
      yield* step("reserve", placed(3, 50))
      yield* step("reserve", placed(4, 100))
      yield* step(
        "a refused reserve",
        cached.reserve({ holdId: hold(9), lines: [{ variantId: c, quantity: 99 }], createdAt: 3, expiresAt: 100 })
      )
      yield* step("settle committed", cached.settle(hold(1), "committed", 10))
      yield* step("settle released", cached.settle(hold(2), "released", 10))
      yield* step("expireDue", cached.expireDue(60, 10))
      yield* step("settle expired", cached.settle(hold(4), "expired", 200))
      yield* step("restock", cached.restock(hold(1), 300))
      yield* step("deleteMany", cached.deleteMany([c]))
    })
  )

  // What a read answers is the stored row: a hold past its expiry still
  // counts in `reserved` until something expires it, and that is a write.
  it.effect("through the service: availability is the store's before and after a hold's expiry", () =>
    Effect.gen(function* () {
      const store = yield* Effect.provide(Effect.service(InventoryRepository), InventoryRepositoryMemory.layer)
      const config = InventoryConfig.layer({ holdTtlSeconds: 60 })
      const direct = InventoryRepository.of(store)
      const plain = yield* Effect.provide(
        Effect.service(Inventory),
        InventoryLive.layer.pipe(Layer.provide(Layer.succeed(InventoryRepository, direct)), Layer.provide(config))
      )
      const withCache = yield* Effect.provide(
        Effect.service(Inventory),
        InventoryLive.layer.pipe(
          Layer.provide(InventoryRepositoryCached.layer),
          Layer.provide(Layer.succeed(InventoryRepository, direct)),
          Layer.provide(config)
        )
      )
      const same = Effect.fnUntraced(function* (message: string) {
        const cachedView = yield* withCache.availability({ variantIds: [a, b] })
        assert.deepStrictEqual(cachedView, yield* plain.availability({ variantIds: [a, b] }), message)
        return cachedView
      })
      yield* withCache.initialize({
        levels: [
          { variantId: a, stock: 5 },
          { variantId: b, stock: 5 }
        ]
      })
      yield* same("initialised")
      yield* withCache.reserve({ holdId: hold(1), lines: [{ variantId: a, quantity: 2 }] })
      yield* withCache.reserve({ holdId: hold(2), lines: [{ variantId: b, quantity: 1 }], ttlSeconds: 120 })
      assert.deepStrictEqual(yield* same("held"), [
        { variantId: a, available: 3 },
        { variantId: b, available: 4 }
      ])
      yield* TestClock.adjust("61 seconds")
      // Due, not yet expired by anyone: still reserved in the store.
      yield* same("hold 1 due")
      // A read of the hold expires it (a settlement, through the cache).
      assert.strictEqual((yield* withCache.getHold({ holdId: hold(1) })).status, "expired")
      assert.deepStrictEqual((yield* same("hold 1 expired on touch"))[0], { variantId: a, available: 5 })
      yield* TestClock.adjust("60 seconds")
      yield* same("hold 2 due")
      assert.deepStrictEqual(yield* withCache.expireHolds({}), { expired: 1 })
      assert.deepStrictEqual((yield* same("hold 2 swept"))[1], { variantId: b, available: 5 })
    })
  )

  it.effect("a read that a write overlaps keeps nothing, whichever started first", () =>
    Effect.gen(function* () {
      const { cached, hooks, store } = yield* setup()
      yield* store.insertMany([{ variantId: a, stock: 5 }], 1)

      // The read reached the store first and answers after the write.
      const readDone = yield* Deferred.make<void>()
      const reading = yield* Deferred.make<void>()
      hooks.afterRead = Effect.andThen(Deferred.succeed(reading, undefined), Deferred.await(readDone))
      const read = yield* Effect.forkChild(cached.findMany([a]))
      yield* Deferred.await(reading)
      hooks.afterRead = undefined
      yield* cached.adjustStock(a, -1, 2)
      yield* Deferred.succeed(readDone, undefined)
      assert.deepStrictEqual(yield* Fiber.join(read), [{ variantId: a, stock: 5, reserved: 0 }])
      yield* agrees(store, cached, "after a read that started before the write")

      // The write began first, and reaches the store after the read.
      const writeGo = yield* Deferred.make<void>()
      const writing = yield* Deferred.make<void>()
      hooks.beforeWrite = Effect.andThen(Deferred.succeed(writing, undefined), Deferred.await(writeGo))
      const write = yield* Effect.forkChild(cached.adjustStock(a, -1, 3))
      yield* Deferred.await(writing)
      hooks.beforeWrite = undefined
      assert.deepStrictEqual(yield* cached.findMany([a]), [{ variantId: a, stock: 4, reserved: 0 }])
      yield* Deferred.succeed(writeGo, undefined)
      yield* Fiber.join(write)
      yield* agrees(store, cached, "after a read during a write")
    })
  )

  it.effect("a write that fails or is interrupted once it has written still drops its rows", () =>
    Effect.gen(function* () {
      const { cached, hooks, reads, store } = yield* setup()
      yield* store.insertMany([{ variantId: a, stock: 5 }], 1)
      yield* cached.findMany([a])
      hooks.afterWrite = Effect.die(new Error("the store failed after writing"))
      yield* Effect.exit(cached.setStock(a, 9, 2))
      hooks.afterWrite = undefined
      yield* agrees(store, cached, "after a failed write")

      yield* cached.findMany([a])
      const writing = yield* Deferred.make<void>()
      hooks.afterWrite = Effect.andThen(Deferred.succeed(writing, undefined), Effect.never)
      const write = yield* Effect.forkChild(cached.setStock(a, 11, 2))
      // The stock is written; the write hangs until interrupted.
      yield* Deferred.await(writing)
      hooks.afterWrite = undefined
      yield* Fiber.interrupt(write)
      yield* agrees(store, cached, "after an interrupted write")
      // And neither left the cache believing a write is still in flight.
      const before = reads.count
      yield* cached.findMany([a])
      assert.strictEqual(reads.count, before, "rows are kept again")
    })
  )

  it.effect("keeps at most maxEntries rows", () =>
    Effect.gen(function* () {
      const { cached, size, store } = yield* setup({ maxEntries: 2 })
      yield* store.insertMany(
        [a, b, c].map((variantId) => ({ variantId, stock: 1 })),
        1
      )
      yield* cached.findMany([a, b, c])
      assert.strictEqual(size(), 2)
      yield* agrees(store, cached, "bounded")
    })
  )
})
