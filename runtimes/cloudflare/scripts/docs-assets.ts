// Writes the gateway Worker's static assets (gateway/wrangler.jsonc,
// `assets.directory`): Scalar's script for /docs, as effect ships it, at the
// path the docs page loads it from. Generated rather than committed: it is
// 3 MiB of minified third-party code that belongs to the installed effect
// version, and a copy in git would drift from it (and weigh on every clone).
// build.ts, dev.ts and the tests (test/Shop.ts) call it before wrangler reads
// the config (wrangler refuses a missing assets directory); run it by hand
// (`node_modules/.bin/node runtimes/cloudflare/scripts/docs-assets.ts`)
// before a plain `wrangler deploy`.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { scriptPath } from "@shop/gateway/Docs"
import { loadScalarScript } from "@shop/gateway/DocsScriptBundled"

export const assetsDirectory = fileURLToPath(new URL("../gateway/assets", import.meta.url))

export const writeDocsAssets = async () => {
  const file = join(assetsDirectory, scriptPath)
  const script = await loadScalarScript()
  const current = (() => {
    try {
      return readFileSync(file, "utf8")
    } catch {
      return undefined
    }
  })()
  // Untouched when unchanged, so a running `wrangler dev` sees no change.
  if (current === script) return file
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, script)
  return file
}

if (import.meta.main) {
  console.log(`wrote ${await writeDocsAssets()}`)
}
