import type { CartCouponReason } from "@shop/domain/Cart"
import type { Coupon } from "@shop/domain/Coupons"
import type { ShippingCoupon } from "@shop/domain/Fulfillment"
import { scaleRounded } from "@shop/domain/Money"

// The arithmetic of a cart's summary, on integer minor units only, with the
// one rounding rule (half away from zero) applied per line. Pure functions:
// the service (CartLive.ts) fetches what they need.

// Where a coupon stands against a cart right now: its code, its effect, or
// the reason it does not apply (the error code it would be refused with).
export type CouponStanding =
  | { readonly applicable: true; readonly coupon: Coupon }
  | { readonly applicable: false; readonly reason: CartCouponReason }

export const standing = (
  coupon: Coupon,
  cart: { readonly subtotal: number; readonly currency: string },
  nowMillis: number
): CouponStanding => {
  if (coupon.expiresAt !== undefined && Date.parse(coupon.expiresAt) <= nowMillis) {
    return { applicable: false, reason: "coupon_expired" }
  }
  if (coupon.usageLimit !== undefined && coupon.used >= coupon.usageLimit) {
    return { applicable: false, reason: "coupon_exhausted" }
  }
  if (coupon.minCart !== undefined) {
    if (coupon.minCart.currency !== cart.currency) return { applicable: false, reason: "currency_mismatch" }
    if (cart.subtotal < coupon.minCart.amount) return { applicable: false, reason: "min_cart_not_met" }
  }
  return { applicable: true, coupon }
}

// The discount on each line (same order as `lineTotals`); their sum is the
// cart's discount. `percent` rounds per line; `fixed` takes at most the
// subtotal and spreads it over the lines in proportion to their totals, by
// largest remainder, so that the parts add up to it exactly and tax can be
// charged on each discounted line. Shipping coupons discount no line.
export const lineDiscounts = (coupon: Coupon, lineTotals: ReadonlyArray<number>): ReadonlyArray<number> => {
  switch (coupon.type) {
    case "percent":
      return lineTotals.map((total) => scaleRounded(total, coupon.value, 100))
    case "fixed": {
      const subtotal = lineTotals.reduce((sum, total) => sum + total, 0)
      const amount = Math.min(coupon.value, subtotal)
      if (amount <= 0) return lineTotals.map(() => 0)
      // BigInt: amount × total can pass 2^53 for large carts.
      const whole = BigInt(subtotal)
      const shares = lineTotals.map((total, index) => {
        const product = BigInt(amount) * BigInt(total)
        return { index, base: Number(product / whole), remainder: product % whole }
      })
      let left = amount - shares.reduce((sum, share) => sum + share.base, 0)
      const parts = shares.map((share) => share.base)
      const byRemainder = [...shares].sort((a, b) =>
        a.remainder === b.remainder ? a.index - b.index : a.remainder < b.remainder ? 1 : -1
      )
      for (const share of byRemainder) {
        if (left === 0) break
        parts[share.index] = (parts[share.index] ?? 0) + 1
        left--
      }
      return parts
    }
    default:
      return lineTotals.map(() => 0)
  }
}

// The coupon as fulfillment applies it to shipping quotes, if it is one.
export const shippingCoupon = (coupon: Coupon): ShippingCoupon | undefined => {
  switch (coupon.type) {
    case "free_shipping":
      return { type: "free_shipping" }
    case "percent_shipping":
      return { type: "percent_shipping", value: coupon.value }
    case "fixed_shipping":
      return { type: "fixed_shipping", value: coupon.value }
    default:
      return undefined
  }
}

// Tax in basis points on each discounted line, rounded per line, plus the
// shipping when the rate says shipping is taxable.
export const tax = (
  discountedLines: ReadonlyArray<number>,
  shipping: number,
  rate: { readonly rate: number; readonly shippingTaxable: boolean } | null
): number => {
  if (rate === null || rate.rate === 0) return 0
  const lines = discountedLines.reduce((sum, amount) => sum + scaleRounded(amount, rate.rate, 10_000), 0)
  return lines + (rate.shippingTaxable ? scaleRounded(shipping, rate.rate, 10_000) : 0)
}
