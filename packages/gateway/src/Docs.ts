import { Context, Effect, Layer } from "effect"
import { HttpRouter, HttpServerError, type HttpServerRequest, HttpServerResponse } from "effect/http"

// `/docs` is Scalar's API reference over `/openapi.json`: every endpoint with
// its parameters, schemas, errors and a "Test Request" panel that calls this
// same origin. The page is a few hundred bytes and the same everywhere; the
// ~3 MiB Scalar script it loads (the one effect ships for HttpApiScalar, no
// CDN) is served at `scriptPath` by whatever the runtime provides as
// DocsScript: from memory on node (DocsScriptBundled.ts), from the Workers
// Static Assets on Cloudflare, so that it never weighs on a Worker's bundle.
export const scriptPath = "/docs/scalar.js"

// Scalar's own settings (its configuration reference): nothing reaches a
// third party. No fonts from fonts.scalar.com, no button that opens the
// document in Scalar's hosted client, no developer toolbar on localhost. The
// bearer scheme (ShopApi's security) is selected in "Test Request", so that a
// reader pastes the token from /api/auth/login once for every request. effect
// writes that scheme as "Bearer", which OpenAPI compares case-insensitively
// but Scalar (1.43) does not: it would ask for a username and password.
const scalarConfiguration = {
  authentication: { preferredSecurityScheme: "bearer", securitySchemes: { bearer: { scheme: "bearer" } } },
  withDefaultFonts: false,
  hideClientButton: true,
  showDeveloperTools: "never",
  telemetry: false,
  defaultOpenAllTags: false,
  // "Test Request" calls the shop that served this page, whatever its host
  // and port: the document's `servers` names only the default local URL.
  servers: [{ url: "/", description: "This shop" }]
}

const escapeAttribute = (value: string) =>
  value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

// Relative URLs, as before: the page keeps working behind a proxy that mounts
// the shop under a prefix. The empty `#api-reference` script is where Scalar's
// standalone build reads its document URL and settings from: no inline code,
// so the policy below can forbid inline scripts.
export const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop API</title>
</head>
<body>
<noscript>This reference needs JavaScript. The machine-readable document is <a href="openapi.json">openapi.json</a>.</noscript>
<script id="api-reference" data-url="openapi.json" data-configuration="${escapeAttribute(JSON.stringify(scalarConfiguration))}"></script>
<script src="${scriptPath.slice(1)}"></script>
</body>
</html>
`

// As strict as Scalar allows: scripts only from this origin (the page has no
// inline script), requests ("Test Request", the document) only to this
// origin. Scalar injects its stylesheet and sets styles from script, hence
// 'unsafe-inline' for styles alone; images and fonts may be data: URLs.
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join("; ")

const pageResponse = HttpServerResponse.html(page).pipe(
  HttpServerResponse.setHeaders({
    "content-security-policy": contentSecurityPolicy,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer"
  })
)

// Serves Scalar's script at `scriptPath` (with its content type and caching
// headers). Each runtime provides one.
export class DocsScript extends Context.Service<
  DocsScript,
  {
    readonly serve: (
      request: HttpServerRequest.HttpServerRequest
    ) => Effect.Effect<HttpServerResponse.HttpServerResponse, HttpServerError.HttpServerError>
  }
>()("@shop/gateway/DocsScript") {}

// For a runtime that has no script to serve (a Worker deployed without its
// assets): the script path is then an unknown route like any other.
export const noScript = Layer.succeed(DocsScript, {
  serve: (request) =>
    Effect.fail(new HttpServerError.HttpServerError({ reason: new HttpServerError.RouteNotFound({ request }) }))
})

export const DocsRoute = HttpRouter.use(
  Effect.fnUntraced(function* (router) {
    const script = yield* DocsScript
    yield* router.add("GET", "/docs", pageResponse)
    yield* router.add("GET", scriptPath, script.serve)
  })
)
