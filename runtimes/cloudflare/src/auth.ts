import { Layer } from "effect"
import { Auth } from "@shop/auth/Auth"
import { AuthConfig } from "@shop/auth/AuthConfig"
import * as AuthLive from "@shop/auth/AuthLive"
import * as AuthRepositorySql from "@shop/auth/AuthRepositorySql"
import { AuthRpcs } from "@shop/domain/ServiceContracts"
import type { AuthEnv } from "./Env.ts"
import * as ServiceWorker from "./ServiceWorker.ts"
import * as Settings from "./Settings.ts"

// The settings were checked (and refused settings answered) before the
// service is built, so a failure here cannot happen.
export default ServiceWorker.make({
  name: "auth",
  group: AuthRpcs,
  tag: Auth,
  settings: Settings.auth,
  layer: (_env: AuthEnv) =>
    AuthLive.layer.pipe(Layer.provide(AuthRepositorySql.layer), Layer.provide(Layer.orDie(AuthConfig.layerConfig)))
})
