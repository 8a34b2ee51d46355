import { Layer } from "effect"
import { Coupons } from "@shop/coupons/Coupons"
import * as CouponsLive from "@shop/coupons/CouponsLive"
import * as CouponsRepositorySql from "@shop/coupons/CouponsRepositorySql"
import { CouponsRpcs } from "@shop/domain/ServiceContracts"
import * as CouponDefinitionsKv from "./CouponDefinitionsKv.ts"
import type { CouponsEnv } from "./Env.ts"
import * as ServiceWorker from "./ServiceWorker.ts"

// Definitions in Workers KV, redemption counts in the Worker's D1.
export default ServiceWorker.make({
  name: "coupons",
  group: CouponsRpcs,
  tag: Coupons,
  layer: (env: CouponsEnv) =>
    CouponsLive.layer.pipe(
      Layer.provide(CouponDefinitionsKv.layer(env.COUPONS_KV)),
      Layer.provide(CouponsRepositorySql.layerRedemptions)
    )
})
