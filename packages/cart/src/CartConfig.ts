import { Context, Effect, Layer } from "effect"
import * as Settings from "@shop/observability/Settings"

export const defaultTtlSeconds = 7 * 24 * 60 * 60
// Short of the hold's 15 minutes, so that an approved payment whose buyer
// never came back is still captured while its stock is held.
export const defaultReconcileGraceSeconds = 120

/** The cart's settings, read by every runtime from its own ConfigProvider (README, "Configuration"). */
export class CartConfig extends Context.Service<
  CartConfig,
  {
    // A cart expires this long after its last change.
    readonly ttlSeconds: number
    // The checkout reconciliation pass leaves payments younger than this
    // alone: their buyer is probably at PayPal, their own capture on its way.
    readonly reconcileGraceSeconds: number
  }
>()("@shop/cart/CartConfig") {
  static readonly layerConfig = Layer.effect(
    CartConfig,
    Effect.gen(function* () {
      const ttlSeconds = yield* Settings.int("CART_TTL_SECONDS", {
        min: 1,
        max: 365 * 24 * 60 * 60,
        fallback: defaultTtlSeconds
      })
      const reconcileGraceSeconds = yield* Settings.int("CHECKOUT_RECONCILE_GRACE_SECONDS", {
        min: 0,
        max: 24 * 60 * 60,
        fallback: defaultReconcileGraceSeconds
      })
      return CartConfig.of({ ttlSeconds, reconcileGraceSeconds })
    })
  )

  static readonly layer = (config: { readonly ttlSeconds: number; readonly reconcileGraceSeconds?: number }) =>
    Layer.succeed(
      CartConfig,
      CartConfig.of({
        ttlSeconds: config.ttlSeconds,
        reconcileGraceSeconds: config.reconcileGraceSeconds ?? defaultReconcileGraceSeconds
      })
    )
}
