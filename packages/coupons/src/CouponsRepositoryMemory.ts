import { Effect, Layer, Option } from "effect"
import type { CouponDefinition } from "@shop/domain/Coupons"
import { CouponDefinitions, CouponRedemptions } from "./CouponsRepository.ts"

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

export const layer = Layer.mergeAll(layerDefinitions, layerRedemptions)
