import { Context, Effect, Layer, Option } from "effect"
import type { ImageContentType } from "@shop/domain/Images"

// Where the bytes of uploaded product images live: an object store keyed by
// the image's key (Images.imageKey). Each runtime brings its own: R2 on
// Cloudflare, files under DATA_DIR on node, memory here. The catalog's
// records say which keys a product has; the store knows nothing of products.
// A store that cannot be reached is a defect, as a SQL error is in a
// repository: the catalog has no typed failure for it.
export class ImageStore extends Context.Service<
  ImageStore,
  {
    // Writing a key that exists replaces it: keys name their bytes, so it is
    // the same object.
    readonly put: (key: string, bytes: Uint8Array, contentType: ImageContentType) => Effect.Effect<void>
    readonly get: (key: string) => Effect.Effect<Option.Option<Uint8Array>>
    // Removing a missing key is not an error.
    readonly remove: (key: string) => Effect.Effect<void>
    // Every key, for tests and for sweeping orphans by hand.
    readonly keys: () => Effect.Effect<ReadonlyArray<string>>
  }
>()("@shop/catalog/ImageStore") {}

/** An in-memory store, one per layer build. */
export const layerMemory = Layer.sync(ImageStore, () => {
  const objects = new Map<string, Uint8Array>()
  return ImageStore.of({
    put: (key, bytes) => Effect.sync(() => void objects.set(key, bytes.slice())),
    get: (key) => Effect.sync(() => Option.map(Option.fromNullishOr(objects.get(key)), (bytes) => bytes.slice())),
    remove: (key) => Effect.sync(() => void objects.delete(key)),
    keys: () => Effect.sync(() => Array.from(objects.keys()))
  })
})
