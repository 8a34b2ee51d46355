import { assert, describe, it } from "@effect/vitest"
import { Clock, ConfigProvider, Effect, Layer, Result } from "effect"
import { TestClock } from "effect/testing"
import { VariantId } from "@shop/domain/Ids"
import { HoldId } from "@shop/domain/Inventory"
import { Inventory } from "../src/Inventory.ts"
import * as InventoryConfig from "../src/InventoryConfig.ts"
import * as InventoryLive from "../src/InventoryLive.ts"
import * as InventoryRepositoryMemory from "../src/InventoryRepositoryMemory.ts"

const a = VariantId.make("var_holdsaaaaaaaa")
const b = VariantId.make("var_holdsbbbbbbbb")
const unknown = VariantId.make("var_holdsunknown0")
const hold = (n: number) => HoldId.make(`res_hold${String(n).padStart(6, "0")}`)

// The inventory on a fresh memory store with HOLD_TTL_SECONDS = ttlSeconds,
// with or without the sweeper (without: only the Clock and the callers move
// holds, which isolates the expiry on touch).
const inventoryWith = (options: { readonly ttlSeconds?: number; readonly sweeper?: boolean } = {}) => {
  const service = InventoryLive.layer.pipe(Layer.provide(InventoryRepositoryMemory.layer))
  return (options.sweeper === false ? service : Layer.provideMerge(InventoryLive.layerSweeper, service)).pipe(
    Layer.provide(InventoryConfig.layer({ holdTtlSeconds: options.ttlSeconds ?? 60 }))
  )
}
const withInventory = Effect.provide(inventoryWith())

const stock = (levels: ReadonlyArray<readonly [VariantId, number]>) =>
  Effect.flatMap(Effect.service(Inventory), (inventory) =>
    inventory.initialize({ levels: levels.map(([variantId, stock]) => ({ variantId, stock })) })
  )

// A clock that moves 1 ms on every read, so that concurrent operations see
// different times: a hold can fall due between one fiber's read and another's.
const tickingClock = () => {
  let now = 0
  const read = () => now++
  const clock: Clock.Clock = {
    currentTimeMillisUnsafe: read,
    currentTimeMillis: Effect.sync(read),
    currentTimeNanosUnsafe: () => BigInt(read()) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(read()) * 1_000_000n),
    monotonicTimeNanosUnsafe: () => BigInt(read()) * 1_000_000n,
    monotonicTimeNanos: Effect.sync(() => BigInt(read()) * 1_000_000n),
    sleep: () => Effect.never
  }
  return {
    clock,
    set: (millis: number) => {
      now = millis
    }
  }
}

// Lets the other fibers run `n` times first: varied per contender and round,
// it shuffles who goes first in a race.
const afterYields = <A, E, R>(n: number, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  n === 0 ? effect : Effect.andThen(Effect.yieldNow, afterYields(n - 1, effect))

const level = (variantId: VariantId) =>
  Effect.flatMap(Effect.service(Inventory), (inventory) => inventory.get({ variantId }))

describe("Inventory holds", () => {
  it.effect("a reserve holds every line or none, and names the first line it cannot hold", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* stock([
        [a, 5],
        [b, 1]
      ])
      const short = yield* Effect.flip(
        inventory.reserve({
          holdId: hold(1),
          lines: [
            { variantId: a, quantity: 2 },
            { variantId: b, quantity: 2 }
          ]
        })
      )
      assert.strictEqual(short._tag, "InsufficientStock")
      if (short._tag === "InsufficientStock") {
        assert.deepStrictEqual(short.details, { variantId: b, available: 1, requested: 2 })
      }
      // Nothing of the refused reserve stayed: not the line that fitted, not the hold.
      assert.strictEqual((yield* level(a)).reserved, 0)
      assert.strictEqual((yield* Effect.flip(inventory.getHold({ holdId: hold(1) })))._tag, "HoldNotFound")

      const both = yield* Effect.flip(
        inventory.reserve({
          holdId: hold(2),
          lines: [
            { variantId: a, quantity: 9 },
            { variantId: b, quantity: 9 }
          ]
        })
      )
      assert.deepStrictEqual(both._tag === "InsufficientStock" && both.details, {
        variantId: a,
        available: 5,
        requested: 9
      })

      const missing = yield* Effect.flip(
        inventory.reserve({
          holdId: hold(3),
          lines: [
            { variantId: a, quantity: 1 },
            { variantId: unknown, quantity: 1 }
          ]
        })
      )
      assert.deepStrictEqual(missing._tag === "InsufficientStock" && missing.details, {
        variantId: unknown,
        available: 0,
        requested: 1
      })
      assert.strictEqual((yield* level(a)).reserved, 0)

      const placed = yield* inventory.reserve({
        holdId: hold(4),
        lines: [
          { variantId: a, quantity: 2 },
          { variantId: b, quantity: 1 }
        ]
      })
      assert.strictEqual(placed.status, "active")
      assert.deepStrictEqual(yield* level(a), { variantId: a, stock: 5, reserved: 2, available: 3 })
      // What the catalog shows follows the holds.
      assert.deepStrictEqual(yield* inventory.availability({ variantIds: [a, b] }), [
        { variantId: a, available: 3 },
        { variantId: b, available: 0 }
      ])
    }).pipe(withInventory)
  )

  it.effect("12 concurrent reserves of 1 for 3 in stock: exactly 3 holds and 9 insufficient_stock", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* stock([[a, 3]])
      const results = yield* Effect.all(
        Array.from({ length: 12 }, (_, i) =>
          Effect.result(inventory.reserve({ holdId: hold(i), lines: [{ variantId: a, quantity: 1 }] }))
        ),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(results.filter(Result.isSuccess).length, 3)
      const refusals = results.filter(Result.isFailure).map((result) => result.failure)
      assert.strictEqual(refusals.length, 9)
      for (const refusal of refusals) {
        assert.strictEqual(refusal._tag, "InsufficientStock")
        assert.strictEqual(refusal.error, "insufficient_stock")
      }
      assert.deepStrictEqual(yield* level(a), { variantId: a, stock: 3, reserved: 3, available: 0 })
    }).pipe(withInventory)
  )

  it.effect("reserving again with the same hold id is the same hold, reserved once", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* stock([
        [a, 10],
        [b, 10]
      ])
      const input = {
        holdId: hold(1),
        // The same variant twice is one line of the sum.
        lines: [
          { variantId: a, quantity: 1 },
          { variantId: b, quantity: 2 },
          { variantId: a, quantity: 2 }
        ]
      }
      const first = yield* inventory.reserve(input)
      assert.deepStrictEqual(first.lines, [
        { variantId: a, quantity: 3 },
        { variantId: b, quantity: 2 }
      ])
      const again = yield* Effect.all(
        Array.from({ length: 5 }, () => inventory.reserve(input)),
        { concurrency: "unbounded" }
      )
      for (const repeat of again) assert.deepStrictEqual(repeat, first)
      // The same lines in another order are the same hold.
      assert.deepStrictEqual(
        yield* inventory.reserve({
          holdId: hold(1),
          lines: [
            { variantId: b, quantity: 2 },
            { variantId: a, quantity: 3 }
          ]
        }),
        first
      )
      assert.strictEqual((yield* level(a)).reserved, 3)
      assert.strictEqual((yield* level(b)).reserved, 2)

      const other = yield* Effect.flip(inventory.reserve({ holdId: hold(1), lines: [{ variantId: a, quantity: 4 }] }))
      assert.strictEqual(other._tag, "HoldMismatch")
      assert.strictEqual((yield* level(a)).reserved, 3)
    }).pipe(withInventory)
  )

  it.effect("concurrent reserves under one hold id place it once", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* stock([[a, 10]])
      const holds = yield* Effect.all(
        Array.from({ length: 8 }, () => inventory.reserve({ holdId: hold(7), lines: [{ variantId: a, quantity: 2 }] })),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(holds.map((h) => h.createdAt)).size, 1)
      assert.strictEqual((yield* level(a)).reserved, 2)
    }).pipe(withInventory)
  )

  it.effect("commit sells the held stock once; a committed hold cannot be released", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* stock([[a, 5]])
      yield* inventory.reserve({ holdId: hold(1), lines: [{ variantId: a, quantity: 2 }] })
      yield* TestClock.adjust("5 seconds")
      const committed = yield* inventory.commit({ holdId: hold(1) })
      assert.strictEqual(committed.status, "committed")
      assert.strictEqual(committed.settledAt, new Date(5_000).toISOString())
      assert.deepStrictEqual(yield* level(a), { variantId: a, stock: 3, reserved: 0, available: 3 })

      const twice = yield* Effect.all(
        Array.from({ length: 4 }, () => inventory.commit({ holdId: hold(1) })),
        { concurrency: "unbounded" }
      )
      for (const repeat of twice) assert.deepStrictEqual(repeat, committed)
      assert.deepStrictEqual(yield* level(a), { variantId: a, stock: 3, reserved: 0, available: 3 })

      const refused = yield* Effect.flip(inventory.release({ holdId: hold(1) }))
      assert.strictEqual(refused._tag, "HoldCommitted")
      assert.strictEqual(refused.error, "hold_committed")
      // Past its expiry a committed hold stays committed.
      yield* TestClock.adjust("2 minutes")
      assert.deepStrictEqual(yield* inventory.getHold({ holdId: hold(1) }), committed)
      assert.deepStrictEqual(yield* level(a), { variantId: a, stock: 3, reserved: 0, available: 3 })
    }).pipe(withInventory)
  )

  it.effect("release returns the held stock once; a released hold cannot be committed", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* stock([[a, 5]])
      yield* inventory.reserve({ holdId: hold(1), lines: [{ variantId: a, quantity: 2 }] })
      const released = yield* inventory.release({ holdId: hold(1) })
      assert.strictEqual(released.status, "released")
      const again = yield* Effect.all(
        Array.from({ length: 4 }, () => inventory.release({ holdId: hold(1) })),
        { concurrency: "unbounded" }
      )
      for (const repeat of again) assert.deepStrictEqual(repeat, released)
      assert.deepStrictEqual(yield* level(a), { variantId: a, stock: 5, reserved: 0, available: 5 })

      const refused = yield* Effect.flip(inventory.commit({ holdId: hold(1) }))
      assert.strictEqual(refused._tag, "HoldReleased")
      assert.strictEqual(refused.error, "hold_released")
      assert.deepStrictEqual(yield* level(a), { variantId: a, stock: 5, reserved: 0, available: 5 })

      const missing = yield* Effect.all([
        Effect.flip(inventory.commit({ holdId: hold(9) })),
        Effect.flip(inventory.release({ holdId: hold(9) })),
        Effect.flip(inventory.getHold({ holdId: hold(9) }))
      ])
      for (const error of missing) {
        assert.strictEqual(error._tag, "HoldNotFound")
        assert.strictEqual(error.error, "hold_not_found")
      }
    }).pipe(withInventory)
  )

  it.effect("restock puts a committed hold's stock back once, however many race for it", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* stock([
        [a, 5],
        [b, 3]
      ])
      yield* inventory.reserve({
        holdId: hold(1),
        lines: [
          { variantId: a, quantity: 2 },
          { variantId: b, quantity: 1 }
        ]
      })
      yield* TestClock.adjust("5 seconds")
      const committed = yield* inventory.commit({ holdId: hold(1) })
      assert.deepStrictEqual(yield* level(a), { variantId: a, stock: 3, reserved: 0, available: 3 })
      yield* TestClock.adjust("1 hour")
      const all = yield* Effect.all(
        Array.from({ length: 20 }, (_, i) => afterYields(i % 4, inventory.restock({ holdId: hold(1) }))),
        { concurrency: "unbounded" }
      )
      // Still settled when it was committed: the restock is not a second settlement.
      const restocked = { ...committed, status: "restocked" as const }
      for (const answer of all) assert.deepStrictEqual(answer, restocked)
      assert.deepStrictEqual(yield* level(a), { variantId: a, stock: 5, reserved: 0, available: 5 })
      assert.deepStrictEqual(yield* level(b), { variantId: b, stock: 3, reserved: 0, available: 3 })
      assert.deepStrictEqual(yield* inventory.restock({ holdId: hold(1) }), restocked)
      assert.deepStrictEqual(yield* level(a), { variantId: a, stock: 5, reserved: 0, available: 5 })
      // The sale happened: a late commit is answered, a release refused.
      assert.deepStrictEqual(yield* inventory.commit({ holdId: hold(1) }), restocked)
      assert.strictEqual((yield* Effect.flip(inventory.release({ holdId: hold(1) })))._tag, "HoldCommitted")
      assert.deepStrictEqual(yield* level(a), { variantId: a, stock: 5, reserved: 0, available: 5 })
    }).pipe(withInventory)
  )

  it.effect("restock of a hold that is not committed changes nothing", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* stock([[a, 10]])
      yield* inventory.reserve({ holdId: hold(1), lines: [{ variantId: a, quantity: 2 }] })
      yield* inventory.reserve({ holdId: hold(2), lines: [{ variantId: a, quantity: 3 }] })
      yield* inventory.reserve({ holdId: hold(3), lines: [{ variantId: a, quantity: 4 }], ttlSeconds: 1 })
      yield* inventory.release({ holdId: hold(2) })
      yield* TestClock.adjust("2 seconds")
      yield* inventory.expireHolds({})
      const before = yield* level(a)
      assert.deepStrictEqual(before, { variantId: a, stock: 10, reserved: 2, available: 8 })
      for (const [n, status] of [
        [1, "active"],
        [2, "released"],
        [3, "expired"]
      ] as const) {
        const held = yield* inventory.getHold({ holdId: hold(n) })
        assert.strictEqual(held.status, status)
        assert.deepStrictEqual(yield* inventory.restock({ holdId: hold(n) }), held)
      }
      assert.deepStrictEqual(yield* level(a), before)
      // The active hold can still be committed as usual.
      assert.strictEqual((yield* inventory.commit({ holdId: hold(1) })).status, "committed")
      const missing = yield* Effect.flip(inventory.restock({ holdId: hold(9) }))
      assert.strictEqual(missing._tag, "HoldNotFound")
    }).pipe(withInventory)
  )

  it.effect("an expired hold returns its stock on the Clock, without anyone calling anything", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* stock([
        [a, 4],
        [b, 4]
      ])
      // The sweeper runs every min(60 s, 30 s) = 30 s.
      const placed = yield* inventory.reserve({
        holdId: hold(1),
        lines: [
          { variantId: a, quantity: 3 },
          { variantId: b, quantity: 1 }
        ]
      })
      assert.strictEqual(placed.expiresAt, new Date(60_000).toISOString())
      yield* TestClock.adjust("59 seconds")
      assert.strictEqual((yield* level(a)).available, 1)
      yield* TestClock.adjust("1 second")
      // Due, and swept at the 60 s tick.
      assert.deepStrictEqual(yield* level(a), { variantId: a, stock: 4, reserved: 0, available: 4 })
      assert.deepStrictEqual(yield* level(b), { variantId: b, stock: 4, reserved: 0, available: 4 })
      const expired = yield* inventory.getHold({ holdId: hold(1) })
      assert.strictEqual(expired.status, "expired")
      assert.strictEqual(expired.settledAt, new Date(60_000).toISOString())

      // A reserve's own ttlSeconds beats HOLD_TTL_SECONDS.
      yield* inventory.reserve({ holdId: hold(2), lines: [{ variantId: a, quantity: 4 }], ttlSeconds: 600 })
      yield* TestClock.adjust("9 minutes")
      assert.strictEqual((yield* level(a)).reserved, 4)
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* level(a)).reserved, 0)
    }).pipe(withInventory)
  )

  it.effect("commit after expiry is hold_expired, swept or not; release after expiry succeeds once", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* stock([[a, 4]])
      yield* inventory.reserve({ holdId: hold(1), lines: [{ variantId: a, quantity: 3 }] })
      yield* inventory.reserve({ holdId: hold(2), lines: [{ variantId: a, quantity: 1 }] })
      yield* TestClock.adjust("60 seconds")
      // No sweeper here: the commit meets the hold past due and expires it.
      assert.strictEqual((yield* level(a)).reserved, 4)
      const late = yield* Effect.flip(inventory.commit({ holdId: hold(1) }))
      assert.strictEqual(late._tag, "HoldExpired")
      assert.strictEqual(late.error, "hold_expired")
      if (late._tag === "HoldExpired") {
        assert.deepStrictEqual(late.details, { holdId: hold(1), expiresAt: new Date(60_000).toISOString() })
      }
      assert.strictEqual((yield* level(a)).reserved, 1)
      assert.strictEqual((yield* Effect.flip(inventory.commit({ holdId: hold(1) })))._tag, "HoldExpired")

      // Releasing a hold past due: its stock is back either way, once.
      const released = yield* inventory.release({ holdId: hold(2) })
      assert.strictEqual(released.status, "expired")
      assert.deepStrictEqual(yield* inventory.release({ holdId: hold(2) }), released)
      assert.deepStrictEqual(yield* level(a), { variantId: a, stock: 4, reserved: 0, available: 4 })
      assert.deepStrictEqual(yield* inventory.expireHolds({}), { expired: 0 })
    }).pipe(Effect.provide(inventoryWith({ sweeper: false })))
  )

  it.effect("expireHolds expires every due hold, in groups, and only due ones", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* stock([[a, 1_000]])
      for (let i = 0; i < 250; i++) {
        yield* inventory.reserve({ holdId: hold(i), lines: [{ variantId: a, quantity: 2 }], ttlSeconds: 10 })
      }
      yield* inventory.reserve({ holdId: hold(999), lines: [{ variantId: a, quantity: 5 }], ttlSeconds: 11 })
      yield* TestClock.adjust("10 seconds")
      assert.deepStrictEqual(yield* inventory.expireHolds({}), { expired: 250 })
      assert.deepStrictEqual(yield* level(a), { variantId: a, stock: 1_000, reserved: 5, available: 995 })
      assert.deepStrictEqual(yield* inventory.expireHolds({}), { expired: 0 })
      assert.strictEqual((yield* inventory.getHold({ holdId: hold(999) })).status, "active")
    }).pipe(Effect.provide(inventoryWith({ sweeper: false })))
  )

  it.effect("expiry racing commit and release never leaves reserved negative or leaked", () => {
    const clock = tickingClock()
    return Effect.gen(function* () {
      const inventory = yield* Inventory
      const initial = 10_000
      yield* stock([
        [a, initial],
        [b, initial]
      ])
      const outcomes = { committed: 0, released: 0, expired: 0, restocked: 0 }
      let soldA = 0
      let soldB = 0
      for (let round = 0; round < 200; round++) {
        const holdId = hold(round)
        const qa = 1 + (round % 3)
        const qb = 1 + (round % 2)
        const placed = yield* inventory.reserve({
          holdId,
          lines: [
            { variantId: a, quantity: qa },
            { variantId: b, quantity: qb }
          ],
          ttlSeconds: 1
        })
        // The hold falls due a few clock reads from now, while commit,
        // release, the sweep and a read run, each starting after a different
        // number of turns: who sees it due changes from round to round.
        clock.set(Date.parse(placed.expiresAt) - (round % 10) * 4)
        const contenders = [
          Effect.result(inventory.commit({ holdId })),
          round % 3 === 0 ? Effect.result(inventory.release({ holdId })) : Effect.void,
          inventory.expireHolds({}),
          Effect.result(inventory.getHold({ holdId }))
        ]
        yield* Effect.all(
          contenders.map((contender, i) => afterYields((round * 7 + i * 13) % 5, contender)),
          { concurrency: "unbounded", discard: true }
        )
        yield* inventory.expireHolds({})
        const settled = yield* inventory.getHold({ holdId })
        assert.notStrictEqual(settled.status, "active")
        if (settled.status === "active") continue
        outcomes[settled.status]++
        if (settled.status === "committed") {
          soldA += qa
          soldB += qb
        }
        // After every round: nothing is held, and exactly the committed
        // quantities left the stock.
        assert.deepStrictEqual(yield* level(a), {
          variantId: a,
          stock: initial - soldA,
          reserved: 0,
          available: initial - soldA
        })
        assert.deepStrictEqual(yield* level(b), {
          variantId: b,
          stock: initial - soldB,
          reserved: 0,
          available: initial - soldB
        })
      }
      // Every way out was taken, so the race was real.
      assert.isAbove(outcomes.committed, 0)
      assert.isAbove(outcomes.released, 0)
      assert.isAbove(outcomes.expired, 0)
    }).pipe(Effect.provide(inventoryWith({ sweeper: false })), Effect.provideService(Clock.Clock, clock.clock))
  })

  it.effect("reserve refuses bad input that skipped the schemas (in-process callers)", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* stock([[a, 5]])
      const bad = [
        inventory.reserve({ holdId: hold(1), lines: [] }),
        inventory.reserve({ holdId: hold(1), lines: [{ variantId: a, quantity: 0 }] }),
        inventory.reserve({ holdId: hold(1), lines: [{ variantId: a, quantity: 1.5 }] }),
        inventory.reserve({ holdId: hold(1), lines: [{ variantId: a, quantity: 1 }], ttlSeconds: 0 }),
        inventory.reserve({ holdId: hold(1), lines: [{ variantId: a, quantity: 1 }], ttlSeconds: 86_401 })
      ]
      for (const attempt of bad) assert.strictEqual((yield* Effect.flip(attempt))._tag, "ValidationError")
      assert.strictEqual((yield* level(a)).reserved, 0)
    }).pipe(withInventory)
  )

  it.effect("the memory layer sweeps on its own", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* stock([[a, 2]])
      yield* inventory.reserve({ holdId: hold(1), lines: [{ variantId: a, quantity: 2 }] })
      // HOLD_TTL_SECONDS' default, 15 minutes, swept every 30 s.
      yield* TestClock.adjust("15 minutes")
      assert.strictEqual((yield* level(a)).available, 2)
    }).pipe(Effect.provide(InventoryLive.layerMemory))
  )
})

describe("InventoryConfig", () => {
  const read = (env: Record<string, string>) =>
    Effect.service(InventoryConfig.InventoryConfig).pipe(
      Effect.provide(InventoryConfig.layerConfig),
      Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
    )

  it.effect("HOLD_TTL_SECONDS: 900 by default, 1 to 86400, empty means unset", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* read({}), { holdTtlSeconds: 900 })
      assert.deepStrictEqual(yield* read({ HOLD_TTL_SECONDS: " 120 " }), { holdTtlSeconds: 120 })
      assert.deepStrictEqual(yield* read({ HOLD_TTL_SECONDS: "" }), { holdTtlSeconds: 900 })
      for (const refused of ["0", "86401", "15m", "-5"]) {
        const error = yield* Effect.flip(read({ HOLD_TTL_SECONDS: refused }))
        assert.include(String(error), "HOLD_TTL_SECONDS")
      }
    })
  )

  it.effect("the sweep follows HOLD_TTL_SECONDS", () =>
    Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* stock([[a, 1]])
      yield* inventory.reserve({ holdId: hold(1), lines: [{ variantId: a, quantity: 1 }] })
      // TTL 5 s: swept every 5 s, so a hold is back within 5 s of its expiry.
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual((yield* level(a)).available, 1)
    }).pipe(Effect.provide(inventoryWith({ ttlSeconds: 5 })))
  )
})
