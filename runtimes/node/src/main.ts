import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import * as AuthSettings from "./AuthSettings.ts"
import { DataDir } from "./DataDir.ts"
import * as GatewaySettings from "./GatewaySettings.ts"
import * as Observability from "./Observability.ts"
import * as Seed from "./Seed.ts"
import * as Server from "./Server.ts"
import * as Services from "./Services.ts"
import { teardown } from "./Shutdown.ts"

// The whole shop in one Node process. Configuration comes from the environment;
// see README (PORT, HOST, DATA_DIR, JWT_SECRET, ADMIN_SECRET, CORS_ORIGINS,
// SERVICE_TIMEOUT_MS, LOG_LEVEL, OTEL_EXPORTER_OTLP_ENDPOINT).

// Auth, Catalog and Inventory, one SQLite file each under DATA_DIR, with the
// demo catalog seeded into an empty shop before the server opens.
const Shop = Seed.layer.pipe(
  Layer.provideMerge(Services.layer),
  Layer.provide(AuthSettings.layer),
  Layer.provide(DataDir.layer)
)

const Main = Server.layer.pipe(
  Layer.provide(Shop),
  Layer.provide(GatewaySettings.layer),
  Layer.provide(Observability.layerTracing),
  Layer.provide(Observability.layerLogLevel)
)

Layer.launch(Main).pipe(Observability.withFailureLog, NodeRuntime.runMain({ disableErrorReporting: true, teardown }))
