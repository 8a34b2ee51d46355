import { Effect, Layer, Option } from "effect"
import { ImageStore } from "@shop/catalog/ImageStore"

// Product images in an R2 bucket (the catalog Worker's IMAGES binding), one
// object per key, with its content type in the object's HTTP metadata. R2
// failures are defects, like D1 errors in a repository. R2 writes are atomic:
// an object is there whole or not at all.
export const layer = (bucket: R2Bucket) =>
  Layer.succeed(
    ImageStore,
    ImageStore.of({
      put: (key, bytes, contentType) =>
        Effect.promise(() => bucket.put(key, bytes, { httpMetadata: { contentType } })).pipe(Effect.asVoid),
      get: (key) =>
        Effect.promise(async () => {
          const object = await bucket.get(key)
          return object === null ? Option.none() : Option.some(new Uint8Array(await object.arrayBuffer()))
        }),
      remove: (key) => Effect.promise(() => bucket.delete(key)),
      keys: () =>
        Effect.promise(async () => {
          const keys: Array<string> = []
          let cursor: string | undefined
          do {
            const page = await bucket.list(cursor === undefined ? {} : { cursor })
            keys.push(...page.objects.map((object) => object.key))
            cursor = page.truncated ? page.cursor : undefined
          } while (cursor !== undefined)
          return keys
        })
    })
  )
