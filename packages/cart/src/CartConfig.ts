import { Context, Effect, Layer } from "effect"
import * as Settings from "@shop/observability/Settings"

export const defaultTtlSeconds = 7 * 24 * 60 * 60

/** The cart's settings, read by every runtime from its own ConfigProvider (README, "Configuration"). */
export class CartConfig extends Context.Service<
  CartConfig,
  {
    // A cart expires this long after its last change.
    readonly ttlSeconds: number
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
      return CartConfig.of({ ttlSeconds })
    })
  )

  static readonly layer = (config: { readonly ttlSeconds: number }) => Layer.succeed(CartConfig, CartConfig.of(config))
}
