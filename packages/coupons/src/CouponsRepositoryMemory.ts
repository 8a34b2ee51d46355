import { Effect, Layer, Option } from "effect"
import type { CouponDefinition } from "@shop/domain/Coupons"
import { type Attempts, CouponAttempts, CouponDefinitions, CouponRedemptions } from "./CouponsRepository.ts"

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

export const layerRedemptions = Layer.sync(CouponRedemptions, () => {
  // code -> order ids
  const redemptions = new Map<string, Set<string>>()
  return CouponRedemptions.of({
    counts: (codes) =>
      Effect.sync(
        () =>
          new Map(
            codes.flatMap((code) => {
              const size = redemptions.get(code)?.size ?? 0
              return size > 0 ? [[code, size] as const] : []
            })
          )
      ),
    forget: (code) =>
      Effect.sync(() => {
        redemptions.delete(code)
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
