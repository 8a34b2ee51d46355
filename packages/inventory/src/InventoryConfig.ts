import { Context, Effect, Layer } from "effect"
import { maxHoldTtlSeconds } from "@shop/domain/Inventory"
import * as Settings from "@shop/observability/Settings"

// API.md: checkout holds stock for 15 minutes by default.
export const defaultHoldTtlSeconds = 15 * 60

export interface InventorySettings {
  // How long a hold lasts when the reserve does not say.
  readonly holdTtlSeconds: number
}

/**
 * The inventory's settings, read by every runtime from its own ConfigProvider
 * (README, "Configuration") through `layerConfig`.
 *
 * A Reference whose default is the documented default: the inventory layer
 * needs no new dependency, so every runtime that assembles it keeps working
 * unchanged, and a runtime provides `layerConfig` for HOLD_TTL_SECONDS to
 * take effect.
 */
export const InventoryConfig = Context.Reference<InventorySettings>("@shop/inventory/InventoryConfig", {
  defaultValue: () => ({ holdTtlSeconds: defaultHoldTtlSeconds })
})

export const layerConfig = Layer.effect(
  InventoryConfig,
  Effect.gen(function* () {
    const holdTtlSeconds = yield* Settings.int("HOLD_TTL_SECONDS", {
      min: 1,
      max: maxHoldTtlSeconds,
      fallback: defaultHoldTtlSeconds
    })
    return { holdTtlSeconds }
  })
)

/** Fixed values, for tests. */
export const layer = (settings: InventorySettings) => Layer.succeed(InventoryConfig, settings)
