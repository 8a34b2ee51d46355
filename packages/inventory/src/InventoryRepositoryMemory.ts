import { Effect, Layer, Option } from "effect"
import type { VariantId } from "@shop/domain/Ids"
import { type HoldId, maxStock } from "@shop/domain/Inventory"
import { type HoldRow, InventoryRepository, type LevelRow, type Settlement } from "./InventoryRepository.ts"

// Every method is one synchronous step, so none can observe another half
// done: that is this store's atomicity, as a transaction or a D1 batch is the
// SQL store's.
export const layer = Layer.sync(InventoryRepository, () => {
  const levels = new Map<VariantId, LevelRow>()
  const holds = new Map<HoldId, HoldRow>()
  // When each row was last written, as the SQL store's `updated_at`; kept
  // beside the rows so that reads return exactly a LevelRow.
  const touched = new Map<VariantId, number>()
  const adjustHeld = (hold: HoldRow, stockBy: number, reservedBy: number, now: number) => {
    for (const line of hold.lines) {
      const row = levels.get(line.variantId)
      // A variant removed from the catalog took its reservations with it.
      if (row === undefined) continue
      levels.set(line.variantId, {
        ...row,
        stock: row.stock + stockBy * line.quantity,
        reserved: row.reserved + reservedBy * line.quantity
      })
      touched.set(line.variantId, now)
    }
  }
  const settleNow = (hold: HoldRow, to: Settlement, now: number) => {
    holds.set(hold.holdId, { ...hold, status: to, settledAt: now })
    if (to === "committed") adjustHeld(hold, -1, -1, now)
    else adjustHeld(hold, 0, -1, now)
  }
  // A copy, so that callers never hold the store's own rows.
  const copyOf = (holdId: HoldId) =>
    Option.map(Option.fromNullishOr(holds.get(holdId)), (hold) => ({
      ...hold,
      lines: hold.lines.map((line) => ({ ...line }))
    }))
  const write = (variantId: VariantId, stock: number, now: number) => {
    const row = levels.get(variantId)
    if (!row || stock < row.reserved || stock < 0 || stock > maxStock) return Option.none<LevelRow>()
    const next = { ...row, stock }
    levels.set(variantId, next)
    touched.set(variantId, now)
    return Option.some(next)
  }
  return InventoryRepository.of({
    find: (variantId) => Effect.sync(() => Option.fromNullishOr(levels.get(variantId))),
    findMany: (variantIds) =>
      Effect.sync(() =>
        variantIds.flatMap((id) => {
          const row = levels.get(id)
          return row ? [row] : []
        })
      ),
    setStock: (variantId, stock, now) => Effect.sync(() => write(variantId, stock, now)),
    adjustStock: (variantId, delta, now) =>
      Effect.sync(() => {
        const row = levels.get(variantId)
        return row ? write(variantId, row.stock + delta, now) : Option.none()
      }),
    insertMany: (rows, now) =>
      Effect.sync(() => {
        for (const { variantId, stock } of rows) {
          if (levels.has(variantId)) continue
          levels.set(variantId, { variantId, stock, reserved: 0 })
          touched.set(variantId, now)
        }
      }),
    deleteMany: (variantIds) =>
      Effect.sync(() => {
        for (const id of variantIds) {
          levels.delete(id)
          touched.delete(id)
        }
      }),
    // Ids are ASCII, where `<` orders as SQLite's BINARY collation does.
    scan: (after, limit) =>
      Effect.sync(() =>
        Array.from(levels.keys())
          .filter((id) => after === undefined || id > after)
          .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))
          .slice(0, limit)
          .map((variantId) => ({ variantId, updatedAt: touched.get(variantId) ?? 0 }))
      ),
    reserve: (hold) =>
      Effect.sync(() => {
        if (holds.has(hold.holdId)) return false
        const short = hold.lines.some((line) => {
          const row = levels.get(line.variantId)
          return row === undefined || row.stock - row.reserved < line.quantity
        })
        if (short) return false
        const row: HoldRow = {
          ...hold,
          lines: hold.lines.map((line) => ({ ...line })),
          status: "active",
          settledAt: null
        }
        holds.set(hold.holdId, row)
        adjustHeld(row, 0, 1, hold.createdAt)
        return true
      }),
    findHold: (holdId) => Effect.sync(() => copyOf(holdId)),
    settle: (holdId, to, now) =>
      Effect.sync(() => {
        const hold = holds.get(holdId)
        if (hold === undefined || hold.status !== "active") return { won: false, hold: copyOf(holdId) }
        if ((to === "expired") !== hold.expiresAt <= now) return { won: false, hold: copyOf(holdId) }
        settleNow(hold, to, now)
        return { won: true, hold: copyOf(holdId) }
      }),
    expireDue: (now, limit) =>
      Effect.sync(() => {
        const due = Array.from(holds.values())
          .filter((hold) => hold.status === "active" && hold.expiresAt <= now)
          .sort((x, y) => x.expiresAt - y.expiresAt)
          .slice(0, limit)
        for (const hold of due) settleNow(hold, "expired", now)
        return due.length
      }),
    restock: (holdId, now) =>
      Effect.sync(() => {
        const hold = holds.get(holdId)
        if (hold === undefined || hold.status !== "committed") return { won: false, hold: copyOf(holdId) }
        holds.set(holdId, { ...hold, status: "restocked" })
        adjustHeld(hold, 1, 0, now)
        return { won: true, hold: copyOf(holdId) }
      })
  })
})
