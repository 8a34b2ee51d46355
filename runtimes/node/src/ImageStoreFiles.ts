import { mkdirSync, readdirSync } from "node:fs"
import { readFile, rename, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Layer, Option } from "effect"
import { ImageStore } from "@shop/catalog/ImageStore"
import { DataDir } from "./DataDir.ts"

const isMissing = (error: unknown) => (error as { code?: string } | undefined)?.code === "ENOENT"

// Product images as files under DATA_DIR/images, one file per key (keys are
// `<sha256>-<imageId>.<ext>`: safe file names, checked by the catalog before
// any read). A write goes to a temporary name and is renamed into place, so a
// crash never leaves a half-written file under a key a product names. I/O
// failures are defects, like SQL errors.
export const layer = Layer.effect(
  ImageStore,
  Effect.gen(function* () {
    const dir = join(yield* DataDir, "images")
    yield* Effect.sync(() => mkdirSync(dir, { recursive: true }))
    const pathOf = (key: string) => join(dir, key)
    return ImageStore.of({
      put: (key, bytes) =>
        Effect.promise(async () => {
          const temporary = pathOf(`.${key}.${process.pid}.${Date.now()}.tmp`)
          await writeFile(temporary, bytes)
          await rename(temporary, pathOf(key))
        }),
      get: (key) =>
        Effect.promise(() =>
          readFile(pathOf(key)).then(
            (buffer) => Option.some(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)),
            (error: unknown) => (isMissing(error) ? Option.none() : Promise.reject(error))
          )
        ),
      remove: (key) => Effect.promise(() => rm(pathOf(key), { force: true })),
      keys: () => Effect.sync(() => readdirSync(dir).filter((name) => !name.startsWith(".")))
    })
  })
)
