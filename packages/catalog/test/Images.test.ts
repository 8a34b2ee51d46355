import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option, Ref } from "effect"
import { Currency } from "@shop/domain/Money"
import { ImageId, MaxImageBytes, MaxImagesPerProduct, sniffImageType } from "@shop/domain/Images"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import { Catalog } from "../src/Catalog.ts"
import * as CatalogLive from "../src/CatalogLive.ts"
import { CatalogRepository } from "../src/CatalogRepository.ts"
import * as CatalogRepositoryMemory from "../src/CatalogRepositoryMemory.ts"
import { ImageStore } from "../src/ImageStore.ts"
import * as ImageStoreMemory from "../src/ImageStore.ts"

const usd = Currency.make("USD")

const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0))
const file = (head: ReadonlyArray<number>, size = 64, seed = 0) => {
  const out = new Uint8Array(Math.max(size, head.length))
  out.set(head)
  for (let i = head.length; i < out.length; i++) out[i] = (i + seed) & 0xff
  return out
}
const jpeg = (seed = 0) => file([0xff, 0xd8, 0xff, 0xe0], 64, seed)
const png = (seed = 0) => file([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 64, seed)
const webp = file([...ascii("RIFF"), 0x1a, 0, 0, 0, ...ascii("WEBPVP8L")])
const avif = file([0, 0, 0, 28, ...ascii("ftypavif"), 0, 0, 0, 0, ...ascii("avifmif1miaf")])
// ISO-BMFF with another major brand and AVIF only among the compatible ones.
const avifCompatible = file([0, 0, 0, 24, ...ascii("ftypmif1"), 0, 0, 0, 0, ...ascii("mif1avif")])
const vanishOnReplace = Ref.makeUnsafe(false)
const failRemove = Ref.makeUnsafe(false)
const text = new TextEncoder().encode("this is not an image, whatever its name says")

// The catalog on memory stores; the test sees the same ImageStore.
const withCatalog = Effect.provide(
  CatalogLive.layer.pipe(
    Layer.provide(CatalogRepositoryMemory.layer),
    Layer.provideMerge(ImageStoreMemory.layerMemory),
    Layer.provide(InventoryLive.layerMemory)
  )
)

const newProduct = Effect.fn(function* (sku: string) {
  const catalog = yield* Catalog
  return yield* catalog.create({
    sku,
    title: sku,
    price: { amount: 100, currency: usd },
    images: ["https://example.com/a.png"]
  })
})

const objectCount = Effect.gen(function* () {
  const store = yield* ImageStore
  return (yield* store.keys()).length
})

describe("image types by content", () => {
  it("recognises JPEG, PNG, WebP and AVIF by their first bytes, and nothing else", () => {
    assert.deepStrictEqual(sniffImageType(jpeg()), Option.some("image/jpeg"))
    assert.deepStrictEqual(sniffImageType(png()), Option.some("image/png"))
    assert.deepStrictEqual(sniffImageType(webp), Option.some("image/webp"))
    assert.deepStrictEqual(sniffImageType(avif), Option.some("image/avif"))
    assert.deepStrictEqual(sniffImageType(avifCompatible), Option.some("image/avif"))
    assert.isTrue(Option.isNone(sniffImageType(text)))
    assert.isTrue(Option.isNone(sniffImageType(new Uint8Array([0xff, 0xd8]))))
    // A RIFF file that is not WebP (a WAV) is refused.
    assert.isTrue(Option.isNone(sniffImageType(file([...ascii("RIFF"), 0, 0, 0, 0, ...ascii("WAVEfmt ")]))))
  })
})

describe("Catalog images", () => {
  it.effect("uploads, lists them before the typed-in URLs, serves, reorders and deletes", () =>
    Effect.gen(function* () {
      const catalog = yield* Catalog
      const product = yield* newProduct("IMG-1")
      const first = yield* catalog.addImage({ productId: product.productId, bytes: jpeg() })
      const second = yield* catalog.addImage({ productId: product.productId, bytes: png() })
      const third = yield* catalog.addImage({ productId: product.productId, bytes: avif })
      assert.match(first.url, /^\/images\/[0-9a-f]{64}-img_[A-Za-z0-9]+\.jpg$/)
      assert.match(third.url, /\.avif$/)

      const listed = yield* catalog.get({ productId: product.productId })
      // Uploaded images first, in upload order, then the typed-in URLs.
      assert.deepStrictEqual(listed.images, [first.url, second.url, third.url, "https://example.com/a.png"])
      assert.deepStrictEqual(
        listed.uploadedImages.map((image) => [image.imageId, image.contentType, image.size]),
        [
          [first.imageId, "image/jpeg", 64],
          [second.imageId, "image/png", 64],
          [third.imageId, "image/avif", avif.length]
        ]
      )

      const served = yield* catalog.getImage({ key: second.url.slice("/images/".length) })
      assert.deepStrictEqual(served.bytes, png())
      assert.strictEqual(served.contentType, "image/png")
      const digest = new Uint8Array(yield* Effect.promise(() => crypto.subtle.digest("SHA-256", png())))
      assert.strictEqual(served.etag, `"${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}"`)

      const reordered = yield* catalog.reorderImages({
        productId: product.productId,
        order: [third.imageId, first.imageId, second.imageId]
      })
      assert.deepStrictEqual(reordered.images.slice(0, 3), [third.url, first.url, second.url])

      yield* catalog.removeImage({ productId: product.productId, imageId: first.imageId })
      const after = yield* catalog.get({ productId: product.productId })
      assert.deepStrictEqual(after.images, [third.url, second.url, "https://example.com/a.png"])
      const gone = yield* Effect.flip(catalog.getImage({ key: first.url.slice("/images/".length) }))
      assert.strictEqual(gone._tag, "ImageNotFound")
      assert.strictEqual(yield* objectCount, 2)

      // Editing the typed-in URLs leaves the uploads alone.
      const edited = yield* catalog.update({
        productId: product.productId,
        patch: { images: ["https://example.com/b.png"] }
      })
      assert.deepStrictEqual(edited.images, [third.url, second.url, "https://example.com/b.png"])

      // Deleting the product deletes its objects.
      yield* catalog.remove({ productId: product.productId })
      assert.strictEqual(yield* objectCount, 0)
    }).pipe(withCatalog)
  )

  it.effect("refuses what is not an image, too large, empty or one too many, storing nothing", () =>
    Effect.gen(function* () {
      const catalog = yield* Catalog
      const product = yield* newProduct("IMG-2")
      const upload = (bytes: Uint8Array) => Effect.flip(catalog.addImage({ productId: product.productId, bytes }))

      const notImage = yield* upload(text)
      assert.strictEqual(notImage._tag, "UnsupportedMediaType")
      const tooLarge = yield* upload(file([0xff, 0xd8, 0xff], MaxImageBytes + 1))
      assert.strictEqual(tooLarge._tag, "PayloadTooLarge")
      const empty = yield* upload(new Uint8Array(0))
      assert.strictEqual(empty._tag, "ValidationError")
      // Exactly the limit is fine.
      yield* catalog.addImage({ productId: product.productId, bytes: file([0xff, 0xd8, 0xff], MaxImageBytes) })
      for (let i = 1; i < MaxImagesPerProduct; i++) {
        yield* catalog.addImage({ productId: product.productId, bytes: png(i) })
      }
      const eleventh = yield* upload(png(99))
      assert.strictEqual(eleventh._tag, "TooManyImages")
      assert.strictEqual(yield* objectCount, MaxImagesPerProduct)

      const missing = yield* Effect.flip(
        catalog.addImage({ productId: "prd_missing" as typeof product.productId, bytes: png() })
      )
      assert.strictEqual(missing._tag, "ProductNotFound")
      assert.strictEqual(yield* objectCount, MaxImagesPerProduct)
    }).pipe(withCatalog)
  )

  it.effect("concurrent uploads never pass the limit, and refused ones leave no object", () =>
    Effect.gen(function* () {
      const catalog = yield* Catalog
      const product = yield* newProduct("IMG-3")
      const exits = yield* Effect.forEach(
        Array.from({ length: 25 }, (_, i) => i),
        (i) => Effect.exit(catalog.addImage({ productId: product.productId, bytes: jpeg(i) })),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(exits.filter(Exit.isSuccess).length, MaxImagesPerProduct)
      const listed = yield* catalog.get({ productId: product.productId })
      assert.strictEqual(listed.uploadedImages.length, MaxImagesPerProduct)
      assert.strictEqual(yield* objectCount, MaxImagesPerProduct)
    }).pipe(withCatalog)
  )

  it.effect("reorder must name every image once; unknown images are 404", () =>
    Effect.gen(function* () {
      const catalog = yield* Catalog
      const product = yield* newProduct("IMG-4")
      const a = yield* catalog.addImage({ productId: product.productId, bytes: jpeg() })
      const b = yield* catalog.addImage({ productId: product.productId, bytes: webp })
      const reorder = (order: ReadonlyArray<string>) =>
        Effect.flip(catalog.reorderImages({ productId: product.productId, order }))
      assert.strictEqual((yield* reorder([a.imageId]))._tag, "ValidationError")
      assert.strictEqual((yield* reorder([a.imageId, a.imageId]))._tag, "ValidationError")
      assert.strictEqual((yield* reorder([a.imageId, b.imageId, "img_other"]))._tag, "ValidationError")
      const unknown = yield* Effect.flip(
        catalog.removeImage({ productId: product.productId, imageId: ImageId.make("img_unknown") })
      )
      assert.strictEqual(unknown._tag, "ImageNotFound")
      const badKey = yield* Effect.flip(catalog.getImage({ key: "../../etc/passwd" }))
      assert.strictEqual(badKey._tag, "ImageNotFound")
    }).pipe(withCatalog)
  )

  it.effect("a refused record write takes the object back; a failed object delete still deletes the image", () =>
    Effect.gen(function* () {
      const catalog = yield* Catalog
      const product = yield* newProduct("IMG-5")
      const image = yield* catalog.addImage({ productId: product.productId, bytes: jpeg() })
      // The product is deleted between the upload's first check and its write.
      yield* Ref.set(vanishOnReplace, true)
      const refused = yield* Effect.flip(catalog.addImage({ productId: product.productId, bytes: png() }))
      assert.strictEqual(refused._tag, "ProductNotFound")
      assert.strictEqual(yield* objectCount, 1)
      yield* Ref.set(vanishOnReplace, false)

      // The object store fails: the image is gone from the product all the
      // same, and the object is left as an orphan (logged).
      yield* Ref.set(failRemove, true)
      yield* catalog.removeImage({ productId: product.productId, imageId: image.imageId })
      assert.deepStrictEqual((yield* catalog.get({ productId: product.productId })).uploadedImages, [])
      assert.strictEqual(yield* objectCount, 1)
    }).pipe(
      Effect.provide(
        CatalogLive.layer.pipe(
          Layer.provide(
            Layer.effect(
              CatalogRepository,
              Effect.gen(function* () {
                const real = yield* CatalogRepository
                return CatalogRepository.of({
                  ...real,
                  replace: (record, revision) =>
                    Effect.flatMap(Ref.get(vanishOnReplace), (vanish) =>
                      vanish ? Effect.succeed("missing" as const) : real.replace(record, revision)
                    )
                })
              })
            ).pipe(Layer.provide(CatalogRepositoryMemory.layer))
          ),
          Layer.provideMerge(
            Layer.effect(
              ImageStore,
              Effect.gen(function* () {
                const real = yield* ImageStore
                return ImageStore.of({
                  ...real,
                  remove: (key) =>
                    Effect.flatMap(Ref.get(failRemove), (fail) =>
                      fail ? Effect.die(new Error("the object store is down")) : real.remove(key)
                    )
                })
              })
            ).pipe(Layer.provide(ImageStoreMemory.layerMemory))
          ),
          Layer.provide(InventoryLive.layerMemory)
        )
      )
    )
  )
})
