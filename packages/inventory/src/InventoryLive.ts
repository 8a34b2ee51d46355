import { Clock, Duration, Effect, Layer, Option, Schedule } from "effect"
import {
  HoldCommitted,
  HoldExpired,
  HoldMismatch,
  HoldNotFound,
  HoldReleased,
  InsufficientStock,
  StockBelowReserved,
  ValidationError,
  VariantNotFound
} from "@shop/domain/Errors"
import type { VariantId } from "@shop/domain/Ids"
import {
  type Hold,
  type HoldId,
  type HoldLine,
  maxHoldLines,
  maxHoldTtlSeconds,
  maxStock,
  type ReserveInput,
  type StockLevel
} from "@shop/domain/Inventory"
import * as Traced from "@shop/domain/Traced"
import { Inventory } from "./Inventory.ts"
import { InventoryConfig } from "./InventoryConfig.ts"
import { type HoldRow, InventoryRepository, type LevelRow, type Settlement } from "./InventoryRepository.ts"
import * as InventoryRepositoryMemory from "./InventoryRepositoryMemory.ts"

const toLevel = (row: LevelRow): StockLevel => ({ ...row, available: row.stock - row.reserved })

const iso = (millis: number) => new Date(millis).toISOString()

const toHold = (row: HoldRow): Hold => ({
  holdId: row.holdId,
  status: row.status,
  lines: row.lines,
  createdAt: iso(row.createdAt),
  expiresAt: iso(row.expiresAt),
  settledAt: row.settledAt === null ? null : iso(row.settledAt)
})

// One line per variant, quantities summed, in the order each first appears.
const mergeLines = (lines: ReadonlyArray<HoldLine>): Array<HoldLine> => {
  const merged = new Map<VariantId, number>()
  for (const line of lines) merged.set(line.variantId, (merged.get(line.variantId) ?? 0) + line.quantity)
  return Array.from(merged, ([variantId, quantity]) => ({ variantId, quantity }))
}

const sameLines = (a: ReadonlyArray<HoldLine>, b: ReadonlyArray<HoldLine>) => {
  const quantities = new Map(a.map((line) => [line.variantId, line.quantity]))
  return a.length === b.length && b.every((line) => quantities.get(line.variantId) === line.quantity)
}

const isWithin = (value: number, min: number, max: number) => Number.isInteger(value) && value >= min && value <= max

// A reserve refused although a read afterwards finds every line available
// raced a release or expiry of the same stock; past this many tries the
// store itself is failing.
const maxReserveAttempts = 3

// The largest page of stock rows, as the contract's schema bounds it.
const maxScanRows = 1000

// Holds expired per group, so that one sweep's group stays small on D1.
const expiryBatch = 100

export const layer = Layer.effect(
  Inventory,
  Effect.gen(function* () {
    const repo = yield* InventoryRepository
    // Read while the layer is built: the callers' context does not carry it.
    const config = yield* InventoryConfig

    const get = Traced.fn("Inventory.get")(function* (input: { variantId: VariantId }) {
      const row = yield* repo.find(input.variantId)
      if (Option.isNone(row)) return yield* new VariantNotFound({})
      return toLevel(row.value)
    })

    // The write is conditional; when it does not apply, a read says why.
    const explainRefusal = Traced.fn("Inventory.explainRefusal")(function* (variantId: VariantId, requested: number) {
      const row = yield* repo.find(variantId)
      if (Option.isNone(row)) return yield* new VariantNotFound({})
      if (requested > maxStock) {
        return yield* new ValidationError({
          message: `Stock cannot exceed ${maxStock}`,
          details: { stock: row.value.stock, requested, max: maxStock }
        })
      }
      return yield* new StockBelowReserved({
        details: { stock: row.value.stock, reserved: row.value.reserved, requested }
      })
    })

    const set = Traced.fn("Inventory.set")(function* (input: { variantId: VariantId; stock: number }) {
      const row = yield* repo.setStock(input.variantId, input.stock, yield* Clock.currentTimeMillis)
      if (Option.isNone(row)) return yield* explainRefusal(input.variantId, input.stock)
      return toLevel(row.value)
    })

    const adjust = Traced.fn("Inventory.adjust")(function* (input: { variantId: VariantId; delta: number }) {
      const row = yield* repo.adjustStock(input.variantId, input.delta, yield* Clock.currentTimeMillis)
      if (Option.isNone(row)) {
        const current = yield* repo.find(input.variantId)
        return yield* explainRefusal(
          input.variantId,
          Option.match(current, {
            onNone: () => input.delta,
            onSome: (r) => r.stock + input.delta
          })
        )
      }
      return toLevel(row.value)
    })

    const availability = Traced.fn("Inventory.availability")(function* (input: {
      variantIds: ReadonlyArray<VariantId>
    }) {
      const unique = Array.from(new Set(input.variantIds))
      const rows = yield* repo.findMany(unique)
      const byId = new Map(rows.map((row) => [row.variantId, row.stock - row.reserved]))
      return unique.map((variantId) => ({ variantId, available: byId.get(variantId) ?? 0 }))
    })

    const initialize = Traced.fn("Inventory.initialize")(function* (input: {
      levels: ReadonlyArray<{ variantId: VariantId; stock: number }>
    }) {
      if (input.levels.length === 0) return
      yield* repo.insertMany(input.levels, yield* Clock.currentTimeMillis)
    })

    const remove = Traced.fn("Inventory.remove")(function* (input: { variantIds: ReadonlyArray<VariantId> }) {
      if (input.variantIds.length === 0) return
      yield* repo.deleteMany(input.variantIds)
    })

    const missing = Traced.fn("Inventory.missing")(function* (input: { variantIds: ReadonlyArray<VariantId> }) {
      const unique = Array.from(new Set(input.variantIds))
      if (unique.length === 0) return { variantIds: [] }
      const found = new Set((yield* repo.findMany(unique)).map((row) => row.variantId))
      return { variantIds: unique.filter((variantId) => !found.has(variantId)) }
    })

    const stockRows = Traced.fn("Inventory.stockRows")(function* (input: { after?: VariantId; limit: number }) {
      // In-process callers (memory, node) do not go through the schemas.
      if (!isWithin(input.limit, 1, maxScanRows))
        return yield* Effect.die(new Error(`A page is 1 to ${maxScanRows} rows`))
      return yield* repo.scan(input.after, input.limit)
    })

    // An active hold past its expiry is expired by whoever meets it first:
    // the sweep, or a commit, release or read of that hold. Then it reads as
    // what it is, and its stock is back, without waiting for the next sweep.
    const expiredIfDue = Effect.fnUntraced(function* (holdId: HoldId, found: Option.Option<HoldRow>) {
      if (Option.isNone(found)) return found
      const now = yield* Clock.currentTimeMillis
      if (found.value.status !== "active" || found.value.expiresAt > now) return found
      return (yield* repo.settle(holdId, "expired", now)).hold
    })

    const current = Effect.fnUntraced(function* (holdId: HoldId) {
      return yield* expiredIfDue(holdId, yield* repo.findHold(holdId))
    })

    // Moves the hold to `to` unless something else moved it first, then
    // answers with where it is now: whichever settlement won (`settle` never
    // moves a hold twice, and reads the hold back in the same atomic step).
    // Still active and not due means the hold was being placed as the settle
    // ran, so it is settled once more.
    const settleAndRead = Effect.fnUntraced(function* (holdId: HoldId, to: Settlement) {
      for (let attempt = 0; attempt < 2; attempt++) {
        const settled = yield* repo.settle(holdId, to, yield* Clock.currentTimeMillis)
        const hold = yield* expiredIfDue(holdId, settled.hold)
        if (Option.isNone(hold)) return yield* new HoldNotFound({})
        if (hold.value.status !== "active") return hold.value
      }
      return yield* Effect.die(new Error(`Hold ${holdId} stayed active through two settlements`))
    })

    const reserve = Traced.fn("Inventory.reserve")(function* (input: ReserveInput) {
      const ttlSeconds = input.ttlSeconds ?? config.holdTtlSeconds
      // In-process callers (memory, node) do not go through the schemas.
      if (!isWithin(input.lines.length, 1, maxHoldLines) || !isWithin(ttlSeconds, 1, maxHoldTtlSeconds)) {
        return yield* new ValidationError({
          message: `A hold has 1 to ${maxHoldLines} lines and lasts 1 to ${maxHoldTtlSeconds} seconds`
        })
      }
      const lines = mergeLines(input.lines)
      const tooMuch = lines.find((line) => !isWithin(line.quantity, 1, maxStock))
      if (tooMuch !== undefined) {
        return yield* new ValidationError({
          message: `A line holds 1 to ${maxStock} units`,
          details: { variantId: tooMuch.variantId, quantity: tooMuch.quantity }
        })
      }
      for (let attempt = 1; attempt <= maxReserveAttempts; attempt++) {
        const createdAt = yield* Clock.currentTimeMillis
        const hold = { holdId: input.holdId, lines, createdAt, expiresAt: createdAt + ttlSeconds * 1000 }
        if (yield* repo.reserve(hold)) return toHold({ ...hold, status: "active", settledAt: null })

        // Nothing was written; the reads say why.
        const existing = yield* current(input.holdId)
        if (Option.isSome(existing)) {
          if (!sameLines(existing.value.lines, lines)) {
            return yield* new HoldMismatch({ details: { holdId: input.holdId } })
          }
          return toHold(existing.value)
        }
        const levels = new Map(
          (yield* repo.findMany(lines.map((line) => line.variantId))).map((row) => [
            row.variantId,
            row.stock - row.reserved
          ])
        )
        for (const line of lines) {
          const available = levels.get(line.variantId) ?? 0
          if (available < line.quantity) {
            return yield* new InsufficientStock({
              details: { variantId: line.variantId, available: Math.max(available, 0), requested: line.quantity }
            })
          }
        }
      }
      return yield* Effect.die(new Error(`Hold ${input.holdId} was refused ${maxReserveAttempts} times with stock`))
    })

    const commit = Traced.fn("Inventory.commit")(function* (input: { holdId: HoldId }) {
      const hold = yield* settleAndRead(input.holdId, "committed")
      switch (hold.status) {
        case "committed":
        // Sold, then put back by a cancelled order: the commit did happen,
        // so a late repeat of it is answered, not refused.
        case "restocked":
          return toHold(hold)
        case "released":
          return yield* new HoldReleased({ details: { holdId: hold.holdId } })
        default:
          return yield* new HoldExpired({ details: { holdId: hold.holdId, expiresAt: iso(hold.expiresAt) } })
      }
    })

    const release = Traced.fn("Inventory.release")(function* (input: { holdId: HoldId }) {
      const hold = yield* settleAndRead(input.holdId, "released")
      // A restocked hold was sold first: nothing of it is held any more.
      if (hold.status === "committed" || hold.status === "restocked") {
        return yield* new HoldCommitted({ details: { holdId: hold.holdId } })
      }
      return toHold(hold)
    })

    const getHold = Traced.fn("Inventory.getHold")(function* (input: { holdId: HoldId }) {
      const hold = yield* current(input.holdId)
      if (Option.isNone(hold)) return yield* new HoldNotFound({})
      return toHold(hold.value)
    })

    // An order cancelled after its sale puts its stock back, once: the
    // store's conditional change decides between racing restocks, and every
    // caller answers the hold as it then is. A hold that is not committed
    // (still active, released, expired, or restocked already) is left as it is.
    const restock = Traced.fn("Inventory.restock")(function* (input: { holdId: HoldId }) {
      const restocked = yield* repo.restock(input.holdId, yield* Clock.currentTimeMillis)
      const hold = yield* expiredIfDue(input.holdId, restocked.hold)
      if (Option.isNone(hold)) return yield* new HoldNotFound({})
      return toHold(hold.value)
    })

    const expireHolds = Traced.fn("Inventory.expireHolds")(function* (_: {}) {
      const now = yield* Clock.currentTimeMillis
      let expired = 0
      for (;;) {
        const count = yield* repo.expireDue(now, expiryBatch)
        expired += count
        if (count < expiryBatch) return { expired }
      }
    })

    return Inventory.of({
      get,
      set,
      adjust,
      availability,
      initialize,
      remove,
      missing,
      stockRows,
      reserve,
      commit,
      release,
      getHold,
      restock,
      expireHolds
    })
  })
)

/**
 * Returns the stock of expired holds on the Clock, every min(HOLD_TTL_SECONDS,
 * 30 s), for the runtimes that are one long-lived process (memory, node); a
 * Worker does the same from a Cron Trigger. Needs Inventory (and reads
 * InventoryConfig). A failed sweep is logged and the next one runs as usual.
 */
export const layerSweeper = Layer.effectDiscard(
  Effect.gen(function* () {
    const inventory = yield* Inventory
    const config = yield* InventoryConfig
    const every = Duration.seconds(Math.min(config.holdTtlSeconds, 30))
    const sweep = inventory.expireHolds({}).pipe(
      Effect.tap(({ expired }) =>
        expired > 0 ? Effect.logInfo("Expired holds").pipe(Effect.annotateLogs({ expired })) : Effect.void
      ),
      Effect.catchCause((cause) => Effect.logError("Expiring holds failed", cause))
    )
    yield* Effect.forkScoped(Effect.repeat(Effect.delay(sweep, every), Schedule.forever))
  })
)

/**
 * Inventory on its in-memory store (one per layer build), with its sweeper;
 * needs nothing (InventoryConfig.layerConfig makes HOLD_TTL_SECONDS count).
 */
export const layerMemory = Layer.provideMerge(layerSweeper, layer).pipe(Layer.provide(InventoryRepositoryMemory.layer))
