import { Effect, Layer, Option } from "effect"
import type { CouponDefinition } from "@shop/domain/Coupons"
import {
  type Attempts,
  CouponAttempts,
  CouponDefinitions,
  CouponRedemptions,
  type Redemption
} from "./CouponsRepository.ts"

export const layerDefinitions = Layer.sync(CouponDefinitions, () => {
  const coupons = new Map<string, CouponDefinition>()
  return CouponDefinitions.of({
    insert: (coupon) =>
      Effect.sync(() => {
        if (coupons.has(coupon.code)) return false
        coupons.set(coupon.code, coupon)
        return true
      }),
    find: (code) => Effect.sync(() => Option.fromNullishOr(coupons.get(code))),
    list: () =>
      Effect.sync(() => Array.from(coupons.values()).sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))),
    remove: (code) => Effect.sync(() => coupons.delete(code))
  })
})

// Each method is one synchronous step inside Effect.sync, which is what makes
// it atomic under concurrent fibers: `record` counts and writes with no yield
// between, as the SQL store does in one statement.
export const layerRedemptions = Layer.sync(CouponRedemptions, () => {
  const byId = new Map<string, Redemption>()
  // code -> redemption id -> redemption
  const byCode = new Map<string, Map<string, Redemption>>()
  const usage = (code: string, userId: string) => {
    const all = Array.from(byCode.get(code)?.values() ?? [])
    return { total: all.length, byUser: all.filter((r) => r.userId === userId).length }
  }
  return CouponRedemptions.of({
    counts: (codes) =>
      Effect.sync(
        () =>
          new Map(
            codes.flatMap((code) => {
              const size = byCode.get(code)?.size ?? 0
              return size > 0 ? [[code, size] as const] : []
            })
          )
      ),
    forget: (code) =>
      Effect.sync(() => {
        for (const id of byCode.get(code)?.keys() ?? []) byId.delete(id)
        byCode.delete(code)
      }),
    record: (redemption, limits) =>
      Effect.sync(() => {
        if (byId.has(redemption.redemptionId)) return false
        const used = usage(redemption.code, redemption.userId)
        if (limits.usageLimit !== undefined && used.total >= limits.usageLimit) return false
        if (limits.perCustomerLimit !== undefined && used.byUser >= limits.perCustomerLimit) return false
        byId.set(redemption.redemptionId, redemption)
        const ofCode = byCode.get(redemption.code) ?? new Map<string, Redemption>()
        ofCode.set(redemption.redemptionId, redemption)
        byCode.set(redemption.code, ofCode)
        return true
      }),
    find: (redemptionId) => Effect.sync(() => Option.fromNullishOr(byId.get(redemptionId))),
    usage: (code, userId) => Effect.sync(() => usage(code, userId)),
    release: (redemptionId) =>
      Effect.sync(() => {
        const found = byId.get(redemptionId)
        if (found === undefined) return false
        byId.delete(redemptionId)
        const ofCode = byCode.get(found.code)
        ofCode?.delete(redemptionId)
        if (ofCode?.size === 0) byCode.delete(found.code)
        return true
      })
  })
})

// Each method is one synchronous step inside Effect.sync, which is what makes
// it atomic under concurrent fibers.
export const layerAttempts = Layer.sync(CouponAttempts, () => {
  const attempts = new Map<string, Attempts>()
  return CouponAttempts.of({
    current: (keys, since) =>
      Effect.sync(
        () =>
          new Map(
            keys.flatMap((key) => {
              const found = attempts.get(key)
              return found !== undefined && found.windowStart > since ? [[key, found] as const] : []
            })
          )
      ),
    record: (key, now, windowMs) =>
      Effect.sync(() => {
        const current = attempts.get(key)
        const next =
          current !== undefined && current.windowStart > now - windowMs && current.count > 0
            ? { count: current.count + 1, windowStart: current.windowStart }
            : { count: 1, windowStart: now }
        attempts.set(key, next)
        return next
      }),
    release: (key, windowStart) =>
      Effect.sync(() => {
        const current = attempts.get(key)
        if (current !== undefined && current.windowStart === windowStart && current.count > 0) {
          attempts.set(key, { count: current.count - 1, windowStart })
        }
      }),
    prune: (before) =>
      Effect.sync(() => {
        for (const [key, value] of attempts) if (value.windowStart <= before) attempts.delete(key)
      })
  })
})

export const layer = Layer.mergeAll(layerDefinitions, layerRedemptions, layerAttempts)
