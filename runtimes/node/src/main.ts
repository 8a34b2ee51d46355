import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import * as Observability from "@shop/observability/Observability"
import { layerTracing, serviceName } from "./Observability.ts"
import * as Seed from "./Seed.ts"
import * as Server from "./Server.ts"
import * as Services from "./Services.ts"
import * as Settings from "./Settings.ts"
import { teardown } from "./Shutdown.ts"

// The whole shop in one Node process: the services on one SQLite file each
// under DATA_DIR, the demo catalog seeded into an empty shop before the
// server opens, traces exported when configured. Settings come from the
// process environment (README, "Configuration").
const Main = Server.layer.pipe(
  Layer.provide(Seed.layer.pipe(Layer.provideMerge(Services.layer))),
  Layer.provide(layerTracing),
  Layer.provideMerge(Settings.layer),
  Layer.provide(Settings.provider)
)

Layer.launch(Main).pipe(
  Observability.withFailureLog(serviceName),
  NodeRuntime.runMain({ disableErrorReporting: true, teardown })
)
