import { Effect, Option, Schema, Stream } from "effect"
import { HttpServerRequest, HttpServerResponse, Multipart } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { ShopApi } from "@shop/domain/Api"
import { PayloadTooLarge, ProductNotFound, ValidationError } from "@shop/domain/Errors"
import { ProductId } from "@shop/domain/Ids"
import { ImageId, ImageNotFound, MaxImageBytes } from "@shop/domain/Images"
import { uploadLimits } from "@shop/domain/ImagesApi"
import { Catalog } from "@shop/catalog/Catalog"
import { GatewayConfig } from "./GatewayConfig.ts"
import { makeCall } from "./Upstream.ts"

// The guard is built once per id kind, not on every request.
const idParser = <S extends Schema.Top & { readonly Type: string }, E>(schema: S, notFound: () => E) => {
  const is = Schema.is(schema)
  return (raw: string): Effect.Effect<S["Type"], E> =>
    is(raw) ? Effect.succeed(raw as S["Type"]) : Effect.fail(notFound())
}
const parseProductId = idParser(ProductId, () => new ProductNotFound({}))
const parseImageId = idParser(ImageId, () => new ImageNotFound({}))

const tooLarge = () =>
  new PayloadTooLarge({ message: "An image is at most 5 MiB", details: { maxBytes: MaxImageBytes } })

// The parser's refusals in our words: a limit is 413, anything else about the
// body (bad boundary, a body cut off before its closing boundary) is 400.
const fromMultipartError = (error: Multipart.MultipartError) => {
  switch (error.reason._tag) {
    case "FileTooLarge":
    case "BodyTooLarge":
    case "FieldTooLarge":
      return tooLarge()
    case "TooManyParts":
      return new ValidationError({ message: "Send one file part named `file` and nothing else" })
    case "InternalError":
      return undefined
    case "Parse":
      return new ValidationError({ message: "The multipart body is malformed or incomplete" })
  }
}

// The one file of an upload, read whole before anything is sent on: the body
// must end with its closing boundary, or the upload is refused (400) and
// nothing reaches the catalog. Any part but one file named `file` is refused,
// as unknown JSON fields are.
const readSingleFile = (parts: Stream.Stream<Multipart.Part, Multipart.MultipartError>) =>
  Stream.runFoldEffect(
    parts,
    () => Option.none<Uint8Array>(),
    (found, part): Effect.Effect<Option.Option<Uint8Array>, Multipart.MultipartError | ValidationError> => {
      if (part._tag !== "File" || part.key !== "file") {
        return Effect.fail(
          new ValidationError({
            message: "Send one file part named `file` and nothing else",
            details: { part: part.key }
          })
        )
      }
      if (Option.isSome(found)) {
        return Effect.fail(new ValidationError({ message: "Send one image per request" }))
      }
      return Effect.map(part.contentEffect, Option.some)
    }
  ).pipe(
    Effect.catchTag("MultipartError", (error) => {
      const refusal = fromMultipartError(error)
      return refusal === undefined ? Effect.die(error) : Effect.fail(refusal)
    }),
    Effect.flatMap((found): Effect.Effect<Uint8Array, ValidationError | PayloadTooLarge> => {
      if (Option.isNone(found)) {
        return Effect.fail(new ValidationError({ message: "The request has no file part named `file`" }))
      }
      return found.value.length > MaxImageBytes ? Effect.fail(tooLarge()) : Effect.succeed(found.value)
    })
  )

// The parts of the upload, parsed from the request's bytes rather than from
// the endpoint's payload stream: a POST with an Idempotency-Key has had its
// body read already (IdempotencyKeys.ts, for the fingerprint), and the request
// keeps those bytes but cannot stream them again. The route's body limit
// (Http.ts) bounds what is read here; past it, 413.
const uploadParts = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const body = yield* request.arrayBuffer.pipe(
    Effect.mapError((error): PayloadTooLarge | ValidationError =>
      error.reason._tag === "RequestParseError" && error.reason.reason === "BodyTooLarge"
        ? tooLarge()
        : new ValidationError({ message: "The request body could not be read" })
    )
  )
  return Stream.pipeThroughChannel(Stream.succeed(new Uint8Array(body)), Multipart.makeChannel(request.headers)).pipe(
    Stream.provideContext(Multipart.limitsServices(uploadLimits))
  )
})

export const AdminProductImageHandlers = HttpApiBuilder.group(
  ShopApi,
  "adminProductImages",
  Effect.fn(function* (handlers) {
    const catalog = yield* Catalog
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    const productId = parseProductId
    return handlers
      .handle("upload", ({ params }) =>
        Effect.gen(function* () {
          const id = yield* productId(params.productId)
          const bytes = yield* readSingleFile(yield* uploadParts)
          return yield* call(catalog.addImage({ productId: id, bytes }))
        })
      )
      .handle("reorder", ({ params, payload }) =>
        Effect.flatMap(productId(params.productId), (id) =>
          call(catalog.reorderImages({ productId: id, order: payload.order }))
        )
      )
      .handle("remove", ({ params }) =>
        Effect.gen(function* () {
          const id = yield* productId(params.productId)
          const imageId = yield* parseImageId(params.imageId)
          return yield* call(catalog.removeImage({ productId: id, imageId }))
        })
      )
  })
)

// `If-None-Match` may list several tags, or `*`; weak tags match too (RFC 9110
// 13.1.2: the weak comparison for If-None-Match).
const matches = (header: string | undefined, etag: string) =>
  header !== undefined &&
  header.split(",").some((tag) => {
    const trimmed = tag.trim()
    return trimmed === "*" || trimmed.replace(/^W\//, "") === etag
  })

export const ImageHandlers = HttpApiBuilder.group(
  ShopApi,
  "images",
  Effect.fn(function* (handlers) {
    const catalog = yield* Catalog
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    return handlers.handle("get", ({ params, headers }) =>
      Effect.map(call(catalog.getImage({ key: params.key })), (image) => {
        // Keys name their bytes forever, so any cache may keep them.
        const caching = { etag: image.etag, "cache-control": "public, max-age=31536000, immutable" }
        return matches(headers["if-none-match"], image.etag)
          ? HttpServerResponse.empty({ status: 304, headers: caching })
          : HttpServerResponse.uint8Array(image.bytes, { contentType: image.contentType, headers: caching })
      })
    )
  })
)
