import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { ConfigProvider, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
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

describe("node process with a refused setting", () => {
  it("logs one JSON fatal line naming it, exits 1, and writes nothing", async () => {
    const dir = join(dataDir, "never-created")
    const main = fileURLToPath(new URL("../src/main.ts", import.meta.url))
    const child = spawn(process.execPath, [main], {
      env: { PATH: process.env["PATH"] ?? "", DATA_DIR: dir, PORT: "0", SERVICE_TIMEOUT_MS: "soon" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
    expect(code).toBe(1)
    const lines = output
      .split("\n")
      .filter((line) => line.trim().length > 0)
      .map((line) => JSON.parse(line) as { level?: string; service?: string; message?: string })
    expect(lines.filter((line) => line.level === "fatal")).toEqual([
      expect.objectContaining({
        service: "shop-node",
        message: 'Invalid configuration: SERVICE_TIMEOUT_MS: must be a whole number from 1 to 600000, not "soon"'
      })
    ])
    expect(existsSync(dir)).toBe(false)
  })
})
