import { Context, Duration, Option } from "effect"

export class GatewayConfig extends Context.Service<
  GatewayConfig,
  {
    // Each call from the gateway to a service gives up after this long (504).
    readonly serviceTimeout: Duration.Duration
    // Exact origins allowed by CORS; ["*"] allows any. Empty: no CORS headers.
    readonly corsOrigins: ReadonlyArray<string>
    readonly maxBodyBytes: number
    // Header carrying the client address set by a trusted edge (for example
    // `cf-connecting-ip` on Cloudflare). None: use the socket peer address.
    readonly clientIpHeader: Option.Option<string>
  }
>()("@shop/gateway/GatewayConfig") {
  static readonly defaults = {
    serviceTimeout: Duration.seconds(10),
    corsOrigins: [] as ReadonlyArray<string>,
    maxBodyBytes: 64 * 1024,
    clientIpHeader: Option.none<string>()
  }
}
