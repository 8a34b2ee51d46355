import { Schema } from "effect"
import { expect, it } from "vitest"
import { Product } from "@shop/domain/Catalog"
import { ImageUploaded } from "@shop/domain/Images"
import { baseUrl, type Call, errorBody, json, type Reply } from "./Client.ts"
import type { Account, Fixtures } from "./Fixtures.ts"
import { type SampleFormat, sampleContentTypes, sampleImage } from "./ImageSamples.ts"
import type { Target } from "./Scenarios.ts"

// Product images through the gateway (API.md, "Catalog"), the same on every
// runtime: upload (multipart), serve, order, delete, and every refusal with
// nothing stored.

export interface ImageContext {
  readonly target: () => Target
  readonly api: (method: string, path: string, call?: Call) => Promise<Reply>
  readonly shop: () => Fixtures
  readonly admin: () => Account
  readonly user: () => Account
}

const MiB = 1024 * 1024

const expectError = (reply: Reply, status: number, error: string) => {
  expect({ status: reply.status, error: errorBody(reply).error }, JSON.stringify(reply.body)?.slice(0, 300)).toEqual({
    status,
    error
  })
}

const encoder = new TextEncoder()

const concat = (parts: ReadonlyArray<Uint8Array>) => {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

// A multipart body written by hand, so a scenario can send exactly what a
// client might: any part name, file name and content type, or a body cut off.
const boundary = "----shop-scenario-boundary-7d1f"
const filePart = (bytes: Uint8Array, options: { name?: string; filename?: string; contentType?: string } = {}) =>
  concat([
    encoder.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="${options.name ?? "file"}"; filename="${
        options.filename ?? "photo.jpg"
      }"\r\nContent-Type: ${options.contentType ?? "application/octet-stream"}\r\n\r\n`
    ),
    bytes,
    encoder.encode("\r\n")
  ])
const closing = encoder.encode(`--${boundary}--\r\n`)
const multipart = (...parts: ReadonlyArray<Uint8Array>) => concat([...parts, closing])

// vitest's deep equality walks a typed array element by element: seconds for
// 5 MiB. Equal bytes are what matters.
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0

const decodeProduct = Schema.decodeUnknownSync(Product)

export const imageScenarios = (context: ImageContext) => {
  const { api } = context

  const send = async (method: string, path: string, body: Uint8Array | null, headers: Record<string, string>) => {
    const response = await context
      .target()
      .fetch(new Request(`${baseUrl}${path}`, { method, headers, body: body as BodyInit | null }))
    return response
  }

  // `token` null: no Authorization header.
  const upload = async (
    productId: string,
    body: Uint8Array,
    token: string | null = context.admin().token,
    extraHeaders: Record<string, string> = {}
  ) => {
    const headers: Record<string, string> = {
      "content-type": `multipart/form-data; boundary=${boundary}`,
      ...extraHeaders
    }
    if (token !== null) headers["authorization"] = `Bearer ${token}`
    const response = await send("POST", `/api/admin/products/${productId}/images`, body, headers)
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined
    } catch {
      // left as text
    }
    return { status: response.status, headers: response.headers, body: parsed } satisfies Reply
  }

  const uploadImage = async (productId: string, format: SampleFormat, size = 256, seed = 0) => {
    const reply = await upload(
      productId,
      multipart(filePart(sampleImage(format, size, seed), { contentType: sampleContentTypes[format] }))
    )
    expect(reply.status, JSON.stringify(reply.body)).toBe(201)
    return json(reply, ImageUploaded)
  }

  const getImage = (url: string, headers: Record<string, string> = {}) => send("GET", url, null, headers)

  const productOf = async (productId: string) => {
    const reply = await api("GET", `/api/products/${productId}`)
    expect(reply.status).toBe(200)
    return decodeProduct(reply.body)
  }

  const newProduct = () =>
    context.shop().createProduct(context.admin().token, { images: ["https://example.com/typed-in.png"] })

  it("are in the OpenAPI document", async () => {
    const reply = await api("GET", "/openapi.json")
    const document = json(reply, Schema.Struct({ paths: Schema.Record(Schema.String, Schema.Unknown) }))
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        "/api/admin/products/{productId}/images",
        "/api/admin/products/{productId}/images/{imageId}",
        "/images/{key}"
      ])
    )
  })

  it("uploads JPEG, PNG, WebP and AVIF and serves each back, cacheable forever", async () => {
    const product = await newProduct()
    const formats: ReadonlyArray<SampleFormat> = ["jpeg", "png", "webp", "avif"]
    for (const [i, format] of formats.entries()) {
      const uploaded = await uploadImage(product.productId, format, 300 + i, i)
      expect(uploaded.url).toMatch(/^\/images\/[0-9a-f]{64}-img_[A-Za-z0-9]+\.(jpg|png|webp|avif)$/)
      const response = await getImage(uploaded.url)
      expect(response.status).toBe(200)
      expect(response.headers.get("content-type")).toBe(sampleContentTypes[format])
      expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable")
      const bytes = new Uint8Array(await response.arrayBuffer())
      expect(sameBytes(bytes, sampleImage(format, 300 + i, i))).toBe(true)
      // A strong ETag: the SHA-256 of the bytes.
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))
      const etag = `"${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}"`
      expect(response.headers.get("etag")).toBe(etag)
      const cached = await getImage(uploaded.url, { "if-none-match": etag })
      expect(cached.status).toBe(304)
      expect(await cached.text()).toBe("")
      expect(cached.headers.get("etag")).toBe(etag)
    }
    const listed = await productOf(product.productId)
    expect(listed.uploadedImages.map((image) => image.contentType)).toEqual(formats.map((f) => sampleContentTypes[f]))
  })

  it("lists uploads in order before typed-in URLs, reorders them, deletes one", async () => {
    const product = await newProduct()
    const a = await uploadImage(product.productId, "jpeg", 256, 1)
    const b = await uploadImage(product.productId, "png", 256, 2)
    const c = await uploadImage(product.productId, "webp", 256, 3)
    expect((await productOf(product.productId)).images).toEqual([
      a.url,
      b.url,
      c.url,
      "https://example.com/typed-in.png"
    ])

    const reordered = await api("PUT", `/api/admin/products/${product.productId}/images`, {
      token: context.admin().token,
      body: { order: [c.imageId, a.imageId, b.imageId] }
    })
    expect(reordered.status).toBe(200)
    expect(decodeProduct(reordered.body).images).toEqual([c.url, a.url, b.url, "https://example.com/typed-in.png"])
    expect((await productOf(product.productId)).images.slice(0, 3)).toEqual([c.url, a.url, b.url])

    // Not a permutation of the product's images, or an unknown field: 400.
    expectError(
      await api("PUT", `/api/admin/products/${product.productId}/images`, {
        token: context.admin().token,
        body: { order: [a.imageId, b.imageId] }
      }),
      400,
      "validation_error"
    )
    expectError(
      await api("PUT", `/api/admin/products/${product.productId}/images`, {
        token: context.admin().token,
        body: { order: [c.imageId, a.imageId, b.imageId], extra: true }
      }),
      400,
      "validation_error"
    )

    const removed = await api("DELETE", `/api/admin/products/${product.productId}/images/${a.imageId}`, {
      token: context.admin().token
    })
    expect(removed.status).toBe(204)
    expect((await productOf(product.productId)).images).toEqual([c.url, b.url, "https://example.com/typed-in.png"])
    const gone = await getImage(a.url)
    expect(gone.status).toBe(404)
    expect(errorBody({ status: gone.status, body: await gone.json() }).error).toBe("image_not_found")
    expectError(
      await api("DELETE", `/api/admin/products/${product.productId}/images/${a.imageId}`, {
        token: context.admin().token
      }),
      404,
      "image_not_found"
    )
    // Editing the typed-in URLs keeps the uploads.
    const edited = await api("PUT", `/api/admin/products/${product.productId}`, {
      token: context.admin().token,
      body: { images: [] }
    })
    expect(decodeProduct(edited.body).images).toEqual([c.url, b.url])
  })

  it("an upload repeated with the same Idempotency-Key stores one image", async () => {
    const product = await newProduct()
    const body = multipart(filePart(sampleImage("webp", 2048, 11)))
    const key = `image-${product.productId}`
    const first = await upload(product.productId, body, context.admin().token, { "idempotency-key": key })
    const again = await upload(product.productId, body, context.admin().token, { "idempotency-key": key })
    expect(first.status).toBe(201)
    expect(again.status).toBe(201)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(again.body).toEqual(first.body)
    expect((await productOf(product.productId)).uploadedImages).toHaveLength(1)
  })

  it("deleting a product deletes its images", async () => {
    const product = await newProduct()
    const a = await uploadImage(product.productId, "jpeg")
    const b = await uploadImage(product.productId, "avif")
    const deleted = await api("DELETE", `/api/admin/products/${product.productId}`, { token: context.admin().token })
    expect(deleted.status).toBe(204)
    for (const url of [a.url, b.url]) expect((await getImage(url)).status).toBe(404)
  })

  it("only admins upload, reorder and delete images", async () => {
    const product = await newProduct()
    const image = await uploadImage(product.productId, "png")
    const body = multipart(filePart(sampleImage("jpeg")))
    expectError(await upload(product.productId, body, null), 401, "unauthorized")
    expectError(await upload(product.productId, body, context.user().token), 403, "forbidden")
    const order = { order: [image.imageId] }
    expectError(
      await api("PUT", `/api/admin/products/${product.productId}/images`, { body: order }),
      401,
      "unauthorized"
    )
    expectError(
      await api("PUT", `/api/admin/products/${product.productId}/images`, { body: order, token: context.user().token }),
      403,
      "forbidden"
    )
    const path = `/api/admin/products/${product.productId}/images/${image.imageId}`
    expectError(await api("DELETE", path), 401, "unauthorized")
    expectError(await api("DELETE", path, { token: context.user().token }), 403, "forbidden")
    expect((await productOf(product.productId)).uploadedImages.map((i) => i.imageId)).toEqual([image.imageId])
    expect((await getImage(image.url)).status).toBe(200)
  })

  it("refuses an eleventh image, storing nothing", async () => {
    const product = await newProduct()
    for (let i = 0; i < 10; i++) await uploadImage(product.productId, "png", 128, i)
    expectError(
      await upload(product.productId, multipart(filePart(sampleImage("png", 128, 99)))),
      400,
      "too_many_images"
    )
    expect((await productOf(product.productId)).uploadedImages).toHaveLength(10)
  })

  it("takes exactly 5 MiB and refuses more with 413, storing nothing", async () => {
    const product = await newProduct()
    const largest = sampleImage("jpeg", 5 * MiB, 5)
    const first = await upload(product.productId, multipart(filePart(largest)))
    expect(first.status, JSON.stringify(first.body)).toBe(201)
    const uploaded = json(first, ImageUploaded)
    const served = await getImage(uploaded.url)
    expect(sameBytes(new Uint8Array(await served.arrayBuffer()), largest)).toBe(true)

    // One byte over: refused by the parser's file limit (the body is within
    // the route's limit).
    const over = await upload(product.productId, multipart(filePart(sampleImage("jpeg", 5 * MiB + 1))))
    expectError(over, 413, "payload_too_large")
    // Far over: refused by the route's body limit before it is read.
    const far = await upload(product.productId, multipart(filePart(sampleImage("jpeg", 6 * MiB))))
    expectError(far, 413, "payload_too_large")
    expect((await productOf(product.productId)).uploadedImages).toHaveLength(1)
  })

  it("judges by the bytes, not by the name or the content type", async () => {
    const product = await newProduct()
    // Text called photo.jpg, sent as image/jpeg: 415.
    const text = encoder.encode("just some text, not a picture at all")
    expectError(
      await upload(product.productId, multipart(filePart(text, { filename: "photo.jpg", contentType: "image/jpeg" }))),
      415,
      "unsupported_media_type"
    )
    // A PNG that claims to be a JPEG is stored and served as what it is.
    const png = sampleImage("png", 200, 7)
    const lying = json(
      await upload(product.productId, multipart(filePart(png, { filename: "photo.jpg", contentType: "image/jpeg" }))),
      ImageUploaded
    )
    expect(lying.url).toMatch(/\.png$/)
    const served = await getImage(lying.url)
    expect(served.headers.get("content-type")).toBe("image/png")
    expect(sameBytes(new Uint8Array(await served.arrayBuffer()), png)).toBe(true)
    expect((await productOf(product.productId)).uploadedImages.map((image) => image.imageId)).toEqual([lying.imageId])
  })

  it("refuses malformed, truncated and non-multipart uploads with 400/415, storing nothing", async () => {
    const product = await newProduct()
    const whole = multipart(filePart(sampleImage("jpeg", 4096)))
    // Cut off half-way through the file, before the closing boundary.
    expectError(await upload(product.productId, whole.slice(0, 2048)), 400, "validation_error")
    // The file complete but the closing boundary missing.
    expectError(await upload(product.productId, whole.slice(0, whole.length - closing.length)), 400, "validation_error")
    // No file part, a wrongly named part, two files.
    expectError(await upload(product.productId, closing), 400, "validation_error")
    expectError(
      await upload(product.productId, multipart(filePart(sampleImage("jpeg"), { name: "image" }))),
      400,
      "validation_error"
    )
    expectError(
      await upload(product.productId, multipart(filePart(sampleImage("jpeg")), filePart(sampleImage("png")))),
      400,
      "validation_error"
    )
    // JSON instead of multipart.
    expectError(
      await api("POST", `/api/admin/products/${product.productId}/images`, {
        token: context.admin().token,
        body: { file: "aGVsbG8=" }
      }),
      415,
      "unsupported_media_type"
    )
    expect((await productOf(product.productId)).uploadedImages).toEqual([])
  })

  it("answers 404 for unknown products, images and keys", async () => {
    expectError(await upload("prd_doesnotexist", multipart(filePart(sampleImage("jpeg")))), 404, "product_not_found")
    const product = await newProduct()
    expectError(
      await api("DELETE", `/api/admin/products/${product.productId}/images/img_nope`, { token: context.admin().token }),
      404,
      "image_not_found"
    )
    for (const key of [`${"a".repeat(64)}-img_nope.jpg`, "not-a-key", "..%2F..%2Fetc%2Fpasswd"]) {
      const response = await getImage(`/images/${key}`)
      expect(response.status).toBe(404)
      await response.body?.cancel()
    }
  })
}
