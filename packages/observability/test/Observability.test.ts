import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Logger, Option, Redacted } from "effect"
import { jsonLogger } from "../src/Observability.ts"
import * as Settings from "../src/Settings.ts"

// The one logger both runtimes use: its lines, parsed back.
const capture = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const lines: Array<Record<string, unknown>> = []
    const logger = jsonLogger("shop-test")
    const collecting = Logger.make((options) => {
      lines.push(JSON.parse(logger.log(options)) as Record<string, unknown>)
    })
    yield* Effect.exit(effect.pipe(Effect.provide(Logger.layer([collecting]))))
    return lines
  })

describe("jsonLogger", () => {
  it.effect("writes the same fields everywhere: level, service, message, annotations, trace and span ids", () =>
    Effect.gen(function* () {
      const lines = yield* capture(
        Effect.logInfo("served").pipe(
          Effect.annotateLogs({ requestId: "req-1", service: "spoofed", level: "spoofed" }),
          Effect.withSpan("Test.span")
        )
      )
      assert.strictEqual(lines.length, 1)
      const line = lines[0]!
      assert.strictEqual(line["level"], "info")
      // An annotation cannot overwrite the logger's own fields.
      assert.strictEqual(line["service"], "shop-test")
      assert.strictEqual(line["message"], "served")
      assert.strictEqual(line["requestId"], "req-1")
      assert.match(String(line["traceId"]), /^[0-9a-f]{32}$/)
      assert.match(String(line["spanId"]), /^[0-9a-f]{16}$/)
      assert.isString(line["timestamp"])
    })
  )

  it.effect("puts values that are not text in data and a cause in cause", () =>
    Effect.gen(function* () {
      const lines = yield* capture(Effect.logError("failed", { n: 1 }, new Error("boom")))
      const line = lines[0]!
      assert.strictEqual(line["level"], "error")
      assert.strictEqual(line["message"], "failed")
      assert.isDefined(line["data"])
      assert.isUndefined(line["traceId"])
    })
  )
})

const read = <A>(config: Effect.Effect<A, unknown>, env: Record<string, string>) =>
  Effect.exit(config.pipe(Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))))

describe("Settings", () => {
  it.effect("a refusal is one line that names the setting", () =>
    Effect.gen(function* () {
      const exit = yield* read(Settings.int("SOME_MS", { min: 1, max: 10, fallback: 5 }), { SOME_MS: "11" })
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        assert.strictEqual(
          Settings.describeFailure(exit.cause),
          'Invalid configuration: SOME_MS: must be a whole number from 1 to 10, not "11"'
        )
      }
    })
  )

  it.effect("an integer setting: absent or empty takes the fallback", () =>
    Effect.gen(function* () {
      const absent = yield* read(Settings.int("N", { min: 1, max: 10, fallback: 5 }), {})
      const empty = yield* read(Settings.int("N", { min: 1, max: 10, fallback: 5 }), { N: "" })
      assert.deepStrictEqual([absent, empty], [Exit.succeed(5), Exit.succeed(5)])
    })
  )

  it.effect("a secret is used exactly as given (not trimmed); blank means unset; short is refused", () =>
    Effect.gen(function* () {
      const given = yield* read(Settings.secret("KEY", 4), { KEY: " a key " })
      assert.isTrue(Exit.isSuccess(given))
      if (Exit.isSuccess(given))
        assert.strictEqual(Option.map(given.value, Redacted.value).pipe(Option.getOrNull), " a key ")
      const blank = yield* read(Settings.secret("KEY", 4), { KEY: "   " })
      assert.deepStrictEqual(blank, Exit.succeed(Option.none()))
      const short = yield* read(Settings.secret("KEY", 4), { KEY: "abc" })
      assert.isTrue(Exit.isFailure(short))
      if (Exit.isFailure(short)) {
        assert.strictEqual(
          Settings.describeFailure(short.cause),
          "Invalid configuration: KEY: must be at least 4 characters long"
        )
      }
    })
  )

  it("describes an error thrown out of a runtime that could not start by the refused setting inside it", () => {
    const refused = Settings.refuse("AUTH_URL", "must be an https:// URL")
    assert.strictEqual(
      Settings.describeError(new Error("layer failed", { cause: refused })),
      "Invalid configuration: AUTH_URL: must be an https:// URL"
    )
    assert.strictEqual(Settings.describeError(new Error("no DB binding\nstack")), "Start-up failed: no DB binding")
  })
})
