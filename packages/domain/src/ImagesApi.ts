import { Schema } from "effect"
import { Multipart } from "effect/http"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { Product } from "./Catalog.ts"
import { PayloadTooLarge, ProductNotFound, UnsupportedMediaType, UpdateConflict, ValidationError } from "./Errors.ts"
import {
  ImageNotFound,
  ImageUploaded,
  MaxImageBytes,
  MaxImagesPerProduct,
  MaxUploadOverheadBytes,
  ReorderImagesInput,
  TooManyImages
} from "./Images.ts"

// The routes of product images (API.md, "Catalog"). Their middleware
// (AdminAuthentication) is applied where the groups join ShopApi (Api.ts),
// which owns it.

const PathId = Schema.String.pipe(Schema.check(Schema.isMaxLength(128)))

// The multipart parser's bounds for an upload: one file part (a stray part
// or two is refused by the handler, not counted here), small fields. The
// parser counts a part's headers into its size; the exact 5 MiB of the file
// itself is checked once it is read (packages/gateway/src/ImageHandlers.ts).
export const uploadLimits = {
  maxParts: 4,
  maxFieldSize: 1024,
  maxFileSize: MaxImageBytes + 4096,
  maxTotalSize: MaxImageBytes + MaxUploadOverheadBytes
}

// One file part named `file`, parsed as a stream of parts with the limits
// above, so the parser stops at the first byte past them.
export const UploadImagePayload = Schema.Struct({ file: Multipart.SingleFileSchema }).pipe(
  HttpApiSchema.asMultipartStream(uploadLimits)
)

export const imagesDescription = `Images uploaded by admins: JPEG, PNG, WebP or AVIF, recognised by their bytes (not by the file name or the part's content type), at most 5 MiB each and ${MaxImagesPerProduct} per product.`

export class AdminProductImagesApi extends HttpApiGroup.make("adminProductImages")
  .add(
    HttpApiEndpoint.post("upload", "/:productId/images", {
      params: { productId: PathId },
      payload: UploadImagePayload,
      success: ImageUploaded.pipe(HttpApiSchema.status(201)),
      error: [ProductNotFound, TooManyImages, PayloadTooLarge, UnsupportedMediaType, ValidationError, UpdateConflict]
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Upload a product image",
        description:
          "multipart/form-data with one file part named `file`. 201 {imageId, url}: the product's images gain the URL (after its other uploaded images). 415 unsupported_media_type when the bytes are not a JPEG, PNG, WebP or AVIF image, whatever the name or content type; 413 payload_too_large over 5 MiB; 400 too_many_images past 10; 400 validation_error for a malformed or truncated body. Nothing is stored when an upload is refused."
      })
    ),
    HttpApiEndpoint.put("reorder", "/:productId/images", {
      params: { productId: PathId },
      payload: ReorderImagesInput,
      success: Product,
      error: [ProductNotFound, ValidationError, UpdateConflict]
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Reorder a product's uploaded images",
        description:
          "Admins only. `order` lists every uploaded image id of the product exactly once, first image first; the product's images follow that order."
      })
    ),
    HttpApiEndpoint.delete("remove", "/:productId/images/:imageId", {
      params: { productId: PathId, imageId: PathId },
      success: HttpApiSchema.NoContent,
      error: [ProductNotFound, ImageNotFound, UpdateConflict]
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Delete a product image",
        description:
          "Admins only. Removes the image from the product's images and deletes its bytes; `GET /images/:key` then answers 404."
      })
    )
  )
  .prefix("/api/admin/products")
  .annotateMerge(OpenApi.annotations({ title: "Admin: product images", description: imagesDescription })) {}

export class ImagesApi extends HttpApiGroup.make("images")
  .add(
    HttpApiEndpoint.get("get", "/:key", {
      params: { key: PathId },
      headers: { "if-none-match": Schema.optional(Schema.String) },
      // 304 with no body to a matching If-None-Match.
      success: [
        Schema.Uint8Array.pipe(HttpApiSchema.asUint8Array({ contentType: "image/*" })),
        HttpApiSchema.Empty(304)
      ],
      error: ImageNotFound
    }).annotateMerge(
      OpenApi.annotations({
        summary: "An uploaded image",
        description:
          "The bytes with their content type, a strong ETag (the SHA-256 of the bytes) and Cache-Control: public, max-age=31536000, immutable: a key never names other bytes. 304 to a matching If-None-Match."
      })
    )
  )
  .prefix("/images")
  .annotateMerge(OpenApi.annotations({ title: "Images", description: imagesDescription })) {}
