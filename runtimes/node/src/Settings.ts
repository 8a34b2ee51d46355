import { ConfigProvider, Layer } from "effect"
import { CartConfig } from "@shop/cart/CartConfig"
import { CouponsConfig } from "@shop/coupons/CouponsConfig"
import { GatewayConfig } from "@shop/gateway/GatewayConfig"
import * as InventoryConfig from "@shop/inventory/InventoryConfig"
import * as Observability from "@shop/observability/Observability"
import * as AuthSettings from "./AuthSettings.ts"
import { DataDir } from "./DataDir.ts"
import { serviceName } from "./Observability.ts"

/**
 * Every setting of the node process, through each service's own declaration,
 * with JSON logs at LOG_LEVEL from the start; plus DATA_DIR, which only this
 * runtime has (PORT and HOST are read by Server.ts). Needs a ConfigProvider.
 */
export const layer = AuthSettings.layer.pipe(
  // Built right to left: every other setting is read and checked before
  // DATA_DIR is created or a JWT secret is generated and written there.
  Layer.provideMerge(DataDir.layer),
  Layer.provideMerge(GatewayConfig.layerConfig),
  Layer.provideMerge(CouponsConfig.layerConfig),
  Layer.provideMerge(CartConfig.layerConfig),
  Layer.provideMerge(InventoryConfig.layerConfig),
  Layer.provideMerge(Observability.layer(serviceName)),
  Layer.provideMerge(Observability.ObservabilityConfig.layerConfig)
)

/** The node runtime's ConfigProvider: the process environment. */
export const provider = ConfigProvider.layer(ConfigProvider.fromEnv())
