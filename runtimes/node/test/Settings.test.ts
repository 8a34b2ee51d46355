import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ConfigProvider, Layer } from "effect"
import { afterAll } from "vitest"
import { describeSettings } from "@shop/testing/SettingsTable"
import * as Settings from "../src/Settings.ts"

// The node runtime reads the process environment with ConfigProvider.fromEnv;
// here the same provider reads a given record instead of process.env.
const dataDir = mkdtempSync(join(tmpdir(), "shop-settings-"))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

describeSettings("node", (settings) =>
  Settings.layer.pipe(
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { ...settings, DATA_DIR: dataDir } })))
  )
)
