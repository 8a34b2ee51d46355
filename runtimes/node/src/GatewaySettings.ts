import { Config, Data, Duration, Effect, Layer, Option, Schema } from "effect"
import { GatewayConfig } from "@shop/gateway/GatewayConfig"

export class GatewaySettingsError extends Data.TaggedError("GatewaySettingsError")<{ readonly message: string }> {}

// A browser sends `Origin: https://shop.example` (no path, no trailing slash);
// an entry written any other way would never match, so it is refused at start.
const isOrigin = (entry: string) => {
  if (entry === "*") return true
  if (!URL.canParse(entry)) return false
  const url = new URL(entry)
  return (url.protocol === "http:" || url.protocol === "https:") && url.origin === entry
}

const corsOrigins = Config.String("CORS_ORIGINS").pipe(
  Config.withDefault(""),
  Config.map((text) =>
    text
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0)
  ),
  Effect.flatMap((entries) => {
    const invalid = entries.filter((entry) => !isOrigin(entry))
    return invalid.length === 0
      ? Effect.succeed(entries)
      : Effect.fail(
          new GatewaySettingsError({
            message: `CORS_ORIGINS must list origins such as https://shop.example, or *; not: ${invalid.join(", ")}`
          })
        )
  })
)

const serviceTimeout = Config.schema(
  Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10 * 60 * 1000 })),
  "SERVICE_TIMEOUT_MS"
).pipe(Config.option)

// Only for a deployment behind a reverse proxy that sets this header itself
// (overwriting what the client sent): then the login throttle keys on the real
// client instead of the proxy's address. Unset: the socket peer is the client.
const clientIpHeader = Config.schema(
  Schema.String.check(Schema.isPattern(/^[A-Za-z0-9-]{1,64}$/)),
  "CLIENT_IP_HEADER"
).pipe(Config.option)

/** GatewayConfig from the environment (CORS_ORIGINS, SERVICE_TIMEOUT_MS, CLIENT_IP_HEADER) over the gateway's defaults. */
export const layer = Layer.effect(
  GatewayConfig,
  Effect.gen(function* () {
    const origins = yield* corsOrigins
    const timeout = yield* serviceTimeout
    const ipHeader = yield* clientIpHeader
    return GatewayConfig.of({
      ...GatewayConfig.defaults,
      corsOrigins: origins,
      serviceTimeout: Option.match(timeout, {
        onNone: () => GatewayConfig.defaults.serviceTimeout,
        onSome: Duration.millis
      }),
      clientIpHeader: Option.map(ipHeader, (header) => header.toLowerCase())
    })
  })
)
