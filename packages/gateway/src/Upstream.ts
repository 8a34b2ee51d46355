import { type Duration, Effect } from "effect"
import { UpstreamTimeout } from "@shop/domain/Errors"

// Bounds one call from the gateway to a service. A service that does not
// answer in time becomes 504 upstream_timeout instead of a hung request.
export const makeCall =
  (timeout: Duration.Duration) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.timeoutOrElse(effect, {
      duration: timeout,
      orElse: () => Effect.fail(new UpstreamTimeout({}))
    })
