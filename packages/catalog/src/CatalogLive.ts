import { Clock, Effect, Layer, Option, Schema } from "effect"
import type { CreateProductInput, ListProducts, Product, UpdateProductInput, VariantInput } from "@shop/domain/Catalog"
import {
  PayloadTooLarge,
  ProductNotFound,
  SkuExists,
  UnsupportedMediaType,
  UpdateConflict,
  ValidationError
} from "@shop/domain/Errors"
import { IdGenerator } from "@shop/domain/IdGenerator"
import { IdPrefixes, ProductId, VariantId } from "@shop/domain/Ids"
import {
  contentTypeOfKey,
  etagOfKey,
  ImageId,
  ImageKey,
  ImageNotFound,
  imageKey,
  imageUrl,
  MaxImageBytes,
  MaxImagesPerProduct,
  sniffImageType,
  TooManyImages
} from "@shop/domain/Images"
import * as Traced from "@shop/domain/Traced"
import { Inventory } from "@shop/inventory/Inventory"
import { Catalog } from "./Catalog.ts"
import {
  CatalogRepository,
  type ImageRecord,
  minPrice,
  type ProductRecord,
  type VariantRecord
} from "./CatalogRepository.ts"
import * as CatalogRepositoryMemory from "./CatalogRepositoryMemory.ts"
import { ImageStore } from "./ImageStore.ts"
import * as ProductCursor from "./ProductCursor.ts"
import * as ImageStoreMemory from "./ImageStore.ts"

const iso = (millis: number) => new Date(millis).toISOString()

// What a product shows that depends on its record alone, made once per record
// rather than on every read (dates formatted, image URLs built): a cart of 100
// lines re-reads its 100 products on every change. Records are immutable (a
// write replaces one), so a record's parts never change; the WeakMap lets
// them go with the record.
interface RecordParts {
  readonly images: Product["images"]
  readonly uploadedImages: Product["uploadedImages"]
  readonly price: Product["price"]
  readonly createdAt: string
  readonly updatedAt: string
}
const partsOfRecord = new WeakMap<ProductRecord, RecordParts>()
const partsOf = (record: ProductRecord): RecordParts => {
  let parts = partsOfRecord.get(record)
  if (parts === undefined) {
    parts = {
      images: [...record.uploadedImages.map((image) => imageUrl(image.key)), ...record.images],
      uploadedImages: record.uploadedImages.map((image) => ({
        imageId: image.imageId,
        url: imageUrl(image.key),
        contentType: image.contentType,
        size: image.size
      })),
      price: minPrice(record.variants),
      createdAt: iso(record.createdAt),
      updatedAt: iso(record.updatedAt)
    }
    partsOfRecord.set(record, parts)
  }
  return parts
}

const toProduct = (record: ProductRecord, available: ReadonlyMap<string, number>): Product => {
  const parts = partsOf(record)
  return {
    productId: record.productId,
    sku: record.sku,
    title: record.title,
    description: record.description,
    category: record.category,
    images: parts.images,
    uploadedImages: parts.uploadedImages,
    price: parts.price,
    variants: record.variants.map((v) => ({ ...v, available: available.get(v.variantId) ?? 0 })),
    createdAt: parts.createdAt,
    updatedAt: parts.updatedAt
  }
}

// Input rules that a schema cannot state on its own.
const checkVariants = (variants: ReadonlyArray<{ sku: string; price: { currency: string } }>) => {
  const currencies = new Set(variants.map((v) => v.price.currency))
  if (currencies.size > 1) {
    return Option.some(
      new ValidationError({
        message: "All variants of a product must share one currency",
        details: { currencies: Array.from(currencies) }
      })
    )
  }
  const seen = new Set<string>()
  for (const variant of variants) {
    if (seen.has(variant.sku)) {
      return Option.some(new ValidationError({ message: "Variant SKUs must be unique", details: { sku: variant.sku } }))
    }
    seen.add(variant.sku)
  }
  return Option.none()
}

export const layerNoDeps = Layer.effect(
  Catalog,
  Effect.gen(function* () {
    const repo = yield* CatalogRepository
    const inventory = yield* Inventory
    const ids = yield* IdGenerator
    const images = yield* ImageStore

    // One call to inventory for all the variants on a page: never N+1.
    // Untraced: a step of the method that calls it, whose span it runs in
    // (inventory's own method is the child span).
    const withAvailability = Effect.fnUntraced(function* (records: ReadonlyArray<ProductRecord>) {
      const variantIds = records.flatMap((r) => r.variants.map((v) => v.variantId))
      const levels = variantIds.length === 0 ? [] : yield* inventory.availability({ variantIds })
      const available = new Map(levels.map((l) => [l.variantId as string, l.available]))
      return records.map((record) => toProduct(record, available))
    })

    const list = Traced.fn("Catalog.list")(function* (query: ListProducts) {
      if (query.cursor !== undefined && query.offset !== undefined) {
        return yield* new ValidationError({
          message: "Give `cursor` or `offset`, not both",
          details: { in: "query", field: "cursor" }
        })
      }
      const after = query.cursor === undefined ? undefined : yield* ProductCursor.decode(query, query.cursor)
      const offset = query.offset ?? 0
      const page = yield* repo.list({
        limit: query.limit,
        offset,
        sort: query.sort,
        q: query.q,
        category: query.category,
        minPrice: query.minPrice,
        maxPrice: query.maxPrice,
        after
      })
      const items = yield* withAvailability(page.items)
      const last = page.items.at(-1)
      const nextCursor = page.more && last !== undefined ? ProductCursor.encode(query, last) : null
      return { items, total: page.total, limit: query.limit, offset, nextCursor }
    })

    const get = Traced.fn("Catalog.get")(function* (input: { productId: ProductId }) {
      const record = yield* repo.find(input.productId)
      if (Option.isNone(record)) return yield* new ProductNotFound({})
      const [product] = yield* withAvailability([record.value])
      return product!
    })

    const getMany = Traced.fn("Catalog.getMany")(function* (input: { productIds: ReadonlyArray<ProductId> }) {
      // One read of the store for all of them (the cache in front serves its hits).
      const records = input.productIds.length === 0 ? [] : yield* repo.findMany([...new Set(input.productIds)])
      return yield* withAvailability(records)
    })

    const create = Traced.fn("Catalog.create")(function* (input: CreateProductInput) {
      const variantInputs: ReadonlyArray<VariantInput> =
        "variants" in input
          ? input.variants
          : [
              {
                sku: input.sku,
                title: input.title,
                price: input.price,
                ...(input.attributes ? { attributes: input.attributes } : {}),
                ...(input.weightGrams !== undefined ? { weightGrams: input.weightGrams } : {}),
                ...(input.stock !== undefined ? { stock: input.stock } : {})
              }
            ]
      const invalid = checkVariants(variantInputs)
      if (Option.isSome(invalid)) return yield* invalid.value
      const now = yield* Clock.currentTimeMillis
      const productId = ProductId.make(yield* ids.make(IdPrefixes.product))
      const variants: Array<VariantRecord & { stock: number }> = []
      for (const v of variantInputs) {
        variants.push({
          variantId: VariantId.make(yield* ids.make(IdPrefixes.variant)),
          sku: v.sku,
          title: v.title ?? input.title,
          price: v.price,
          attributes: v.attributes ?? {},
          weightGrams: v.weightGrams ?? 0,
          stock: v.stock ?? 0
        })
      }
      const record: ProductRecord = {
        productId,
        sku: input.sku,
        title: input.title,
        description: input.description ?? "",
        category: input.category ?? "uncategorized",
        images: input.images ?? [],
        uploadedImages: [],
        variants: variants.map(({ stock: _, ...v }) => v),
        createdAt: now,
        updatedAt: now,
        revision: yield* ids.secret("rev")
      }
      const variantIds = variants.map((v) => v.variantId)
      // Two stores, two writes, no transaction between them: stock rows
      // first, then the product. A crash after the first leaves stock rows
      // that no variant claims, which nothing can reach (the catalog lists
      // no such variant) and the reconciliation removes once they are older
      // than its grace period. The other order left, on a crash between the
      // writes, a product on sale whose variants could never get stock.
      // Uninterruptible, so that a caller giving up (a gateway timeout) does
      // not stop it between the two.
      yield* Effect.uninterruptible(
        Effect.gen(function* () {
          yield* inventory.initialize({ levels: variants.map((v) => ({ variantId: v.variantId, stock: v.stock })) })
          yield* repo.insert(record).pipe(
            Effect.catchTag("SkuConflict", (e) =>
              // A refusal wrote nothing, so the new rows are certainly
              // unclaimed: take them back now rather than at the next sweep.
              // A defect is not taken back: the product may have been written.
              inventory.remove({ variantIds }).pipe(
                Effect.catchCause((cause) =>
                  Effect.logWarning("Stock rows of a refused product are left for the reconciliation", cause).pipe(
                    Effect.annotateLogs({ productId })
                  )
                ),
                Effect.andThen(Effect.fail(new SkuExists({ details: { sku: e.sku } })))
              )
            )
          )
        })
      )
      return toProduct(record, new Map(variants.map((v) => [v.variantId as string, v.stock])))
    })

    // Applies the patch to the product as last read. The write only lands over
    // the revision it was computed from; if another edit landed in between,
    // the patch is applied again to the fresh product, so
    // concurrent edits of different fields or variants all survive.
    const applyPatch = Traced.fn("Catalog.applyPatch")(function* (current: ProductRecord, patch: UpdateProductInput) {
      let variants = current.variants
      if (patch.price !== undefined) {
        if (variants.length !== 1) {
          return yield* new ValidationError({
            message: "`price` at the top level is only for products with one variant; patch `variants` instead"
          })
        }
        variants = [{ ...variants[0]!, price: patch.price }]
      }
      for (const change of patch.variants ?? []) {
        const index = variants.findIndex((v) => v.variantId === change.variantId)
        if (index < 0) {
          return yield* new ValidationError({
            message: "Unknown variant for this product",
            details: { variantId: change.variantId }
          })
        }
        const { variantId: _, ...fields } = change
        variants = variants.map((v, i) => (i === index ? { ...v, ...fields } : v))
      }
      const invalid = checkVariants(variants)
      if (Option.isSome(invalid)) return yield* invalid.value
      const record: ProductRecord = {
        ...current,
        sku: patch.sku ?? current.sku,
        title: patch.title ?? current.title,
        description: patch.description ?? current.description,
        category: patch.category ?? current.category,
        images: patch.images ?? current.images,
        variants,
        updatedAt: Math.max(yield* Clock.currentTimeMillis, current.updatedAt),
        revision: yield* ids.secret("rev")
      }
      return record
    })

    const update = Traced.fn("Catalog.update")(function* (input: { productId: ProductId; patch: UpdateProductInput }) {
      // Every round lets at least one of the racing edits land, so n
      // concurrent edits need at most n rounds; the bound only stops a
      // pathological stream of edits from holding this one forever.
      for (let attempt = 0; attempt < 16; attempt++) {
        const found = yield* repo.find(input.productId)
        if (Option.isNone(found)) return yield* new ProductNotFound({})
        const record = yield* applyPatch(found.value, input.patch)
        const outcome = yield* repo
          .replace(record, found.value.revision)
          .pipe(Effect.catchTag("SkuConflict", (e) => Effect.fail(new SkuExists({ details: { sku: e.sku } }))))
        if (outcome === "missing") return yield* new ProductNotFound({})
        if (outcome === "replaced") {
          const [product] = yield* withAvailability([record])
          return product!
        }
      }
      return yield* new UpdateConflict({})
    })

    const remove = Traced.fn("Catalog.remove")(function* (input: { productId: ProductId }) {
      const found = yield* repo.find(input.productId)
      if (Option.isNone(found)) return yield* new ProductNotFound({})
      // The product goes first: once it is gone the delete has happened. Its
      // stock rows are unreachable from the catalog after that, so a failure
      // (or a crash) before they are removed leaves rows the reconciliation
      // sweeps, and is logged instead of failing a delete that did take
      // place. Uninterruptible for the same reason as create.
      yield* Effect.uninterruptible(
        Effect.gen(function* () {
          const removed = yield* repo.remove(input.productId)
          if (!removed) return yield* new ProductNotFound({})
          // Its images' objects after the record, for the same reason.
          yield* Effect.forEach(found.value.uploadedImages, (image) => removeObject(image.key, input.productId), {
            discard: true
          })
          yield* inventory
            .remove({ variantIds: found.value.variants.map((v) => v.variantId) })
            .pipe(
              Effect.catchCause((cause) =>
                Effect.logError("Stock rows of a deleted product were left behind", cause).pipe(
                  Effect.annotateLogs({ productId: input.productId })
                )
              )
            )
        })
      )
    })

    // A change to a product's images, made like `update`: computed from the
    // product as last read and written only over that revision, so that
    // concurrent uploads can neither lose each other nor pass the limit.
    const modifyImages = Traced.fn("Catalog.modifyImages")(function* <E>(
      productId: ProductId,
      change: (current: ReadonlyArray<ImageRecord>) => Effect.Effect<ReadonlyArray<ImageRecord>, E>
    ) {
      for (let attempt = 0; attempt < 16; attempt++) {
        const found = yield* repo.find(productId)
        if (Option.isNone(found)) return yield* new ProductNotFound({})
        const uploadedImages = yield* change(found.value.uploadedImages)
        const record: ProductRecord = {
          ...found.value,
          uploadedImages,
          updatedAt: Math.max(yield* Clock.currentTimeMillis, found.value.updatedAt),
          revision: yield* ids.secret("rev")
        }
        const outcome = yield* repo
          .replace(record, found.value.revision)
          // The SKUs are the stored ones, so no write here can take another's.
          .pipe(Effect.catchTag("SkuConflict", (e) => Effect.die(e)))
        if (outcome === "missing") return yield* new ProductNotFound({})
        if (outcome === "replaced") return { before: found.value, after: record }
      }
      return yield* new UpdateConflict({})
    })

    const tooMany = () => new TooManyImages({ details: { limit: MaxImagesPerProduct } })

    // The object is removed after the record that named it: a failure (or a
    // crash) in between leaves an object no product names, never a product
    // naming a missing object. Such orphans are tolerated: nothing links to
    // them, and their keys cannot be guessed.
    const removeObject = (key: string, productId: ProductId) =>
      images
        .remove(key)
        .pipe(
          Effect.catchCause((cause) =>
            Effect.logWarning("An image object was left behind", cause).pipe(Effect.annotateLogs({ productId, key }))
          )
        )

    const addImage = Traced.fn("Catalog.addImage")(function* (input: { productId: ProductId; bytes: Uint8Array }) {
      // Checked here and not only at the edge: the service is the authority
      // on what a product image is, whoever calls it.
      if (input.bytes.length > MaxImageBytes) {
        return yield* new PayloadTooLarge({
          message: "An image is at most 5 MiB",
          details: { maxBytes: MaxImageBytes }
        })
      }
      if (input.bytes.length === 0) return yield* new ValidationError({ message: "The file is empty" })
      const sniffed = sniffImageType(input.bytes)
      if (Option.isNone(sniffed)) {
        return yield* new UnsupportedMediaType({ message: "The file must be a JPEG, PNG, WebP or AVIF image" })
      }
      const contentType = sniffed.value
      // Refused before anything is stored when the answer is already known;
      // the write below checks again against the product as it then is.
      const current = yield* repo.find(input.productId)
      if (Option.isNone(current)) return yield* new ProductNotFound({})
      if (current.value.uploadedImages.length >= MaxImagesPerProduct) return yield* tooMany()
      const digest = yield* Effect.promise(() =>
        crypto.subtle.digest("SHA-256", input.bytes as Uint8Array<ArrayBuffer>)
      )
      const sha256 = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("")
      const imageId = ImageId.make(yield* ids.make("img"))
      const image: ImageRecord = {
        imageId,
        key: imageKey(sha256, imageId, contentType),
        contentType,
        size: input.bytes.length
      }
      // Object first, then the record that names it: a crash in between
      // leaves an object nothing names (tolerated, see removeObject), never
      // a product pointing at a missing image. A refusal of the record write
      // takes the object back at once. Uninterruptible, like create.
      yield* Effect.uninterruptible(
        Effect.gen(function* () {
          yield* images.put(image.key, input.bytes, contentType)
          yield* modifyImages(input.productId, (uploaded) =>
            uploaded.length >= MaxImagesPerProduct ? Effect.fail(tooMany()) : Effect.succeed([...uploaded, image])
          ).pipe(Effect.tapError(() => removeObject(image.key, input.productId)))
        })
      )
      return { imageId, url: imageUrl(image.key) }
    })

    const removeImage = Traced.fn("Catalog.removeImage")(function* (input: { productId: ProductId; imageId: ImageId }) {
      yield* Effect.uninterruptible(
        Effect.gen(function* () {
          const { before } = yield* modifyImages(input.productId, (uploaded) =>
            uploaded.some((image) => image.imageId === input.imageId)
              ? Effect.succeed(uploaded.filter((image) => image.imageId !== input.imageId))
              : Effect.fail(new ImageNotFound({}))
          )
          const removed = before.uploadedImages.find((image) => image.imageId === input.imageId)
          if (removed !== undefined) yield* removeObject(removed.key, input.productId)
        })
      )
    })

    const reorderImages = Traced.fn("Catalog.reorderImages")(function* (input: {
      productId: ProductId
      order: ReadonlyArray<string>
    }) {
      const { after } = yield* modifyImages(input.productId, (uploaded) => {
        const byId = new Map(uploaded.map((image) => [image.imageId as string, image]))
        const isPermutation =
          input.order.length === uploaded.length &&
          new Set(input.order).size === input.order.length &&
          input.order.every((id) => byId.has(id))
        return isPermutation
          ? Effect.succeed(input.order.map((id) => byId.get(id)!))
          : Effect.fail(
              new ValidationError({
                message: "`order` must list each of the product's image ids exactly once",
                details: { imageIds: uploaded.map((image) => image.imageId) }
              })
            )
      })
      const [product] = yield* withAvailability([after])
      return product!
    })

    const isKey = Schema.is(ImageKey)

    const getImage = Traced.fn("Catalog.getImage")(function* (input: { key: string }) {
      const contentType = contentTypeOfKey(input.key)
      if (!isKey(input.key) || Option.isNone(contentType)) return yield* new ImageNotFound({})
      const bytes = yield* images.get(input.key)
      if (Option.isNone(bytes)) return yield* new ImageNotFound({})
      return { bytes: bytes.value, contentType: contentType.value, etag: etagOfKey(input.key) }
    })

    return Catalog.of({ list, get, getMany, create, update, remove, addImage, removeImage, reorderImages, getImage })
  })
)

/** Needs CatalogRepository, ImageStore and Inventory. */
export const layer = layerNoDeps.pipe(Layer.provide(IdGenerator.layer))

/** Catalog on its in-memory stores (one per layer build); needs Inventory. */
export const layerMemory = layer.pipe(
  Layer.provide(CatalogRepositoryMemory.layer),
  Layer.provide(ImageStoreMemory.layerMemory)
)
