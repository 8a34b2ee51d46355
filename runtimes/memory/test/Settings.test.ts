import { Layer } from "effect"
import { describeSettings } from "@shop/testing/SettingsTable"
import * as Memory from "../src/MemoryRuntime.ts"

describeSettings("memory", (settings) => Memory.config.pipe(Layer.provide(Memory.configProvider(settings))))
