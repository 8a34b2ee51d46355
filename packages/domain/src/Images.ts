import { Effect, Option, Schema } from "effect"

// Product images uploaded by admins (API.md, "Catalog"): the limits, how a
// file's type is recognised, how its object is named, and the errors.

export const MaxImageBytes = 5 * 1024 * 1024
export const MaxImagesPerProduct = 10

// The multipart envelope around one file (boundaries, part headers, a file
// name): what the gateway allows on top of MaxImageBytes before it stops
// reading an upload.
export const MaxUploadOverheadBytes = 16 * 1024

export const ImageId = Schema.String.pipe(
  Schema.check(Schema.isPattern(/^img_[A-Za-z0-9]{1,64}$/)),
  Schema.brand("ImageId")
)
export type ImageId = typeof ImageId.Type

export const ImageContentType = Schema.Literals(["image/jpeg", "image/png", "image/webp", "image/avif"])
export type ImageContentType = typeof ImageContentType.Type

const extensions: Record<ImageContentType, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "image/avif": "avif"
}

const ascii = (bytes: Uint8Array, from: number, length: number) =>
  String.fromCharCode(...bytes.subarray(from, from + length))

const startsWith = (bytes: Uint8Array, prefix: ReadonlyArray<number>) =>
  bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte)

const avifBrands = new Set(["avif", "avis"])

// The type of an image by its first bytes, never by the name or content type
// the client sent: a text file called photo.jpg is not a JPEG.
export const sniffImageType = (bytes: Uint8Array): Option.Option<ImageContentType> => {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return Option.some("image/jpeg")
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return Option.some("image/png")
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") {
    return Option.some("image/webp")
  }
  // ISO-BMFF: a `ftyp` box first, whose major brand or one of whose
  // compatible brands is AVIF (image or sequence).
  if (bytes.length >= 16 && ascii(bytes, 4, 4) === "ftyp") {
    const boxSize = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0
    const end = Math.min(boxSize, bytes.length, 256)
    if (avifBrands.has(ascii(bytes, 8, 4))) return Option.some("image/avif")
    for (let at = 16; at + 4 <= end; at += 4) {
      if (avifBrands.has(ascii(bytes, at, 4))) return Option.some("image/avif")
    }
  }
  return Option.none()
}

export const extensionOf = (contentType: ImageContentType) => extensions[contentType]

// Object keys: the SHA-256 of the bytes (hex) and the image id, so a key
// never names other bytes (the URL is cacheable forever) and no two images
// share an object (deleting one can never break another product's image).
export const ImageKey = Schema.String.pipe(
  Schema.check(Schema.isPattern(/^[0-9a-f]{64}-img_[A-Za-z0-9]{1,64}\.(jpg|png|webp|avif)$/))
)

export const imageKey = (sha256: string, imageId: ImageId, contentType: ImageContentType) =>
  `${sha256}-${imageId}.${extensionOf(contentType)}`

export const contentTypeOfKey = (key: string): Option.Option<ImageContentType> => {
  const extension = key.slice(key.lastIndexOf(".") + 1)
  const found = (Object.keys(extensions) as Array<ImageContentType>).find((type) => extensions[type] === extension)
  return Option.fromNullishOr(found)
}

// The strong ETag of an object: its content hash, which its key starts with.
export const etagOfKey = (key: string) => `"${key.slice(0, 64)}"`

// Relative, so the same record serves whatever host the gateway answers on.
export const imageUrl = (key: string) => `/images/${key}`

// An uploaded image as the public product shows it.
export const UploadedImage = Schema.Struct({
  imageId: ImageId,
  url: Schema.String,
  contentType: ImageContentType,
  size: Schema.Int
})
export type UploadedImage = typeof UploadedImage.Type

export const ImageUploaded = Schema.Struct({ imageId: ImageId, url: Schema.String }).annotate({
  examples: [
    {
      imageId: ImageId.make("img_7h3k9m2p4q6r"),
      url: "/images/9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8-img_7h3k9m2p4q6r.jpg"
    }
  ]
})
export type ImageUploaded = typeof ImageUploaded.Type

export const ReorderImagesInput = Schema.Struct({
  order: Schema.Array(Schema.String.pipe(Schema.check(Schema.isMaxLength(128)))).pipe(
    Schema.check(Schema.isMaxLength(MaxImagesPerProduct))
  )
}).annotate({ examples: [{ order: ["img_9w4x2y7z1a3b", "img_7h3k9m2p4q6r"] }] })
export type ReorderImagesInput = typeof ReorderImagesInput.Type

// One stored object, as the catalog hands it to the gateway.
export const StoredImage = Schema.Struct({
  bytes: Schema.Uint8Array,
  contentType: ImageContentType,
  etag: Schema.String
})
export type StoredImage = typeof StoredImage.Type

const body = <const Tag extends string, const Code extends string>(tag: Tag, code: Code, message: string) => ({
  _tag: Schema.tagDefaultOmit(tag),
  error: Schema.tag(code),
  message: Schema.String.pipe(Schema.withConstructorDefault(Effect.succeed(message)))
})

export class TooManyImages extends Schema.Error<TooManyImages>("TooManyImages")(
  {
    ...body("TooManyImages", "too_many_images", `A product has at most ${MaxImagesPerProduct} images`),
    details: Schema.Struct({ limit: Schema.Int })
  },
  { httpApiStatus: 400 }
) {}

export class ImageNotFound extends Schema.Error<ImageNotFound>("ImageNotFound")(
  {
    ...body("ImageNotFound", "image_not_found", "No such image")
  },
  { httpApiStatus: 404 }
) {}
