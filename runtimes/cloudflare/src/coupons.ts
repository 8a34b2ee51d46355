import { Layer } from "effect"
import { Coupons } from "@shop/coupons/Coupons"
import { CouponsConfig } from "@shop/coupons/CouponsConfig"
import * as CouponsLive from "@shop/coupons/CouponsLive"
import * as CouponsRepositorySql from "@shop/coupons/CouponsRepositorySql"
import { CouponsRpcs } from "@shop/domain/ServiceContracts"
import * as CouponDefinitionsKv from "./CouponDefinitionsKv.ts"
import type { CouponsEnv } from "./Env.ts"
import * as ServiceWorker from "./ServiceWorker.ts"
import * as Settings from "./Settings.ts"

// Definitions in Workers KV; redemption counts and bad-code attempts in the
// Worker's D1. The settings were checked (and refused settings answered)
// before the service is built, so CouponsConfig cannot fail here.
export default ServiceWorker.make({
  name: "coupons",
  group: CouponsRpcs,
  tag: Coupons,
  settings: Settings.coupons,
  layer: (env: CouponsEnv) =>
    CouponsLive.layer.pipe(
      Layer.provide(CouponDefinitionsKv.layer(env.COUPONS_KV)),
      Layer.provide(CouponsRepositorySql.layerRedemptions),
      Layer.provide(CouponsRepositorySql.layerAttempts),
      Layer.provide(Layer.orDie(CouponsConfig.layerConfig))
    )
})
