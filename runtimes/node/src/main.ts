import { NodeRuntime } from "@effect/platform-node"
import { ConfigProvider, Layer } from "effect"
import { GatewayConfig } from "@shop/gateway/GatewayConfig"
import * as Observability from "@shop/observability/Observability"
import * as AuthSettings from "./AuthSettings.ts"
import { DataDir } from "./DataDir.ts"
import { layerTracing, serviceName } from "./Observability.ts"
import * as Seed from "./Seed.ts"
import * as Server from "./Server.ts"
import * as Services from "./Services.ts"
import { teardown } from "./Shutdown.ts"

// The whole shop in one Node process. Settings come from the process
// environment, read through each service's own declaration (README,
// "Configuration"); this runtime adds PORT, HOST and DATA_DIR.

// Auth, Catalog and Inventory, one SQLite file each under DATA_DIR, with the
// demo catalog seeded into an empty shop before the server opens.
const Shop = Seed.layer.pipe(
  Layer.provideMerge(Services.layer),
  Layer.provide(AuthSettings.layer),
  Layer.provide(DataDir.layer)
)

const Main = Server.layer.pipe(
  Layer.provide(Shop),
  Layer.provide(GatewayConfig.layerConfig),
  Layer.provide(layerTracing),
  Layer.provide(Observability.layerLogLevel),
  Layer.provide(Observability.ObservabilityConfig.layerConfig),
  Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv()))
)

Layer.launch(Main).pipe(
  Observability.withFailureLog(serviceName),
  NodeRuntime.runMain({ disableErrorReporting: true, teardown })
)
