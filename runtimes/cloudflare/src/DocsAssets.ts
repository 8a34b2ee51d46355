import { Effect, Layer } from "effect"
import { HttpServerResponse } from "effect/http"
import { DocsScript, noScript, scriptPath } from "@shop/gateway/Docs"

// Scalar's script for /docs is a Workers Static Asset of the gateway
// (`assets` in gateway/wrangler.jsonc, written by scripts/DocsAssets.ts at
// build and dev time): 3 MiB that stay out of the Worker's own bundle. With
// `run_worker_first`, every request still reaches this Worker first, so the
// gateway's route asks the ASSETS binding for the file and the script gets
// the request id, CORS and access log line of any other response. The
// conditional and encoding headers are passed on: the asset server answers
// 304 to a matching ETag.
export const layer = (assets: Fetcher | undefined) =>
  assets === undefined
    ? noScript
    : Layer.succeed(DocsScript, {
        serve: (request) =>
          Effect.promise(() =>
            assets.fetch(new URL(scriptPath, "https://assets.local"), {
              headers: Object.fromEntries(
                ["if-none-match", "accept-encoding"].flatMap((name) => {
                  const value = request.headers[name]
                  return value === undefined ? [] : [[name, value]]
                })
              )
            })
          ).pipe(Effect.map(HttpServerResponse.fromWeb))
      })
