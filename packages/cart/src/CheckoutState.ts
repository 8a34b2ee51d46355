import type { Cart, CartCheckout } from "@shop/domain/Cart"
import type { CheckoutStarted } from "@shop/domain/Checkout"
import type { PendingCheckout } from "./CartStore.ts"

// The pure parts of checkout (docs/CHECKOUT.md): the cart's fingerprint and
// the answers derived from what start kept. The saga itself is in CartLive.ts.

// JSON with object keys sorted, so that two equal addresses give one text
// however their keys were ordered (decoded, or fresh from validation).
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner
  )

/**
 * What a checkout was started on: lines (variant, quantity, unit price),
 * address, shipping method, coupon (code and whether it applies) and total.
 * A change that leaves it as it was keeps the checkout; any other releases
 * it. Titles and the removed-lines note do not count: the buyer pays for the
 * same thing either way.
 */
export const fingerprintOf = (cart: Cart): string =>
  canonical({
    lines: cart.items.map((line) => [line.variantId, line.quantity, line.unitPrice.amount, line.unitPrice.currency]),
    address: cart.address,
    method: cart.shippingMethod?.methodId ?? null,
    coupon: cart.coupon === null ? null : [cart.coupon.code, cart.coupon.applicable],
    total: [cart.summary.total.amount, cart.summary.total.currency]
  })

/** The cart's public view of a pending checkout. */
export const publicOf = (pending: PendingCheckout): CartCheckout => ({
  status: "pending",
  reservationId: pending.reservationId,
  paymentId: pending.paymentId,
  approveUrl: pending.approveUrl,
  expiresAt: pending.expiresAt
})

/** Start's answer: the same for every repeat on an unchanged cart. */
export const startedOf = (pending: PendingCheckout): CheckoutStarted => ({
  reservationId: pending.reservationId,
  paymentId: pending.paymentId,
  paypalOrderId: pending.paypalOrderId,
  approveUrl: pending.approveUrl,
  summary: pending.order.summary,
  expiresAt: pending.expiresAt
})
