import { mkdirSync } from "node:fs"
import { resolve } from "node:path"
import { Config, Context, Data, Effect, Layer } from "effect"

export class DataDirError extends Data.TaggedError("DataDirError")<{
  readonly path: string
  readonly cause: unknown
}> {
  override get message() {
    return `Cannot create the data directory ${this.path}: ${String(this.cause)}`
  }
}

/** The absolute path of the folder that holds the SQLite files and the generated JWT secret. */
export class DataDir extends Context.Service<DataDir, string>()("@shop/runtime-node/DataDir") {
  // Resolved once against the working directory at start, so that a later
  // `process.chdir` cannot move the databases.
  static readonly layer = Layer.effect(
    DataDir,
    Effect.gen(function* () {
      const configured = yield* Config.String("DATA_DIR").pipe(Config.withDefault("./data"))
      const path = resolve(configured)
      yield* Effect.try({
        try: () => mkdirSync(path, { recursive: true }),
        catch: (cause) => new DataDirError({ path, cause })
      })
      yield* Effect.logInfo("Data directory ready").pipe(Effect.annotateLogs({ dataDir: path }))
      return DataDir.of(path)
    })
  )
}
