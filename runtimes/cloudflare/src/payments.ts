import { Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { PaymentsRpcs } from "@shop/domain/ServiceContracts"
import { Payments } from "@shop/payments/Payments"
import * as PaymentsLive from "@shop/payments/PaymentsLive"
import * as PaymentsRepositorySql from "@shop/payments/PaymentsRepositorySql"
import { PaypalConfig } from "@shop/payments/PaypalConfig"
import * as PaypalProvider from "@shop/payments/PaypalProvider"
import type { PaymentsEnv } from "./Env.ts"
import * as ServiceWorker from "./ServiceWorker.ts"
import * as Settings from "./Settings.ts"

// PayPal over the Workers' own fetch. Locally PAYPAL_API_BASE is the fake
// PayPal on loopback (README.md); deployed it is PayPal. The settings were
// checked before the service is built (Settings.payments), so PaypalConfig
// cannot fail here.
export default ServiceWorker.make({
  name: "payments",
  group: PaymentsRpcs,
  tag: Payments,
  settings: Settings.payments,
  layer: (_env: PaymentsEnv) =>
    PaymentsLive.layer.pipe(
      Layer.provide(PaymentsRepositorySql.layer),
      Layer.provide(PaypalProvider.layer),
      Layer.provide(Layer.orDie(PaypalConfig.layerConfig)),
      Layer.provide(FetchHttpClient.layer)
    )
})
