import { Context, Effect, Layer } from "effect"
import * as Settings from "@shop/observability/Settings"

// Guessing codes is the attack: a cart may try a few wrong ones (typos), a
// client address, which may hold many carts, more.
export const defaultThrottle = {
  windowSeconds: 15 * 60,
  maxBadCodesPerCart: 5,
  maxBadCodesPerClient: 20
}

/**
 * The settings of the coupons service, declared once here and read by every
 * runtime from its own ConfigProvider (see README, "Configuration").
 */
export class CouponsConfig extends Context.Service<
  CouponsConfig,
  {
    // Bad codes allowed per throttle key (`cart:<id>`, `client:<ip>`) in a
    // window that starts at the key's first bad code; then 429 until it ends.
    readonly throttle: {
      readonly windowSeconds: number
      readonly maxBadCodesPerCart: number
      readonly maxBadCodesPerClient: number
    }
  }
>()("@shop/coupons/CouponsConfig") {
  static readonly layerConfig = Layer.effect(
    CouponsConfig,
    Effect.gen(function* () {
      const windowSeconds = yield* Settings.int("COUPON_THROTTLE_WINDOW_SECONDS", {
        min: 1,
        max: 24 * 60 * 60,
        fallback: defaultThrottle.windowSeconds
      })
      const maxBadCodesPerCart = yield* Settings.int("COUPON_MAX_BAD_CODES_PER_CART", {
        min: 1,
        max: 1_000,
        fallback: defaultThrottle.maxBadCodesPerCart
      })
      const maxBadCodesPerClient = yield* Settings.int("COUPON_MAX_BAD_CODES_PER_CLIENT", {
        min: 1,
        max: 100_000,
        fallback: defaultThrottle.maxBadCodesPerClient
      })
      return CouponsConfig.of({ throttle: { windowSeconds, maxBadCodesPerCart, maxBadCodesPerClient } })
    })
  )

  /** Given values, for tests and for `CouponsLive.layerMemory` (the defaults). */
  static readonly layer = (config: CouponsConfig["Service"] = { throttle: defaultThrottle }) =>
    Layer.succeed(CouponsConfig, CouponsConfig.of(config))
}
