import { Array as Arr, Effect, Layer, Option, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import type { ListProducts } from "@shop/domain/Catalog"
import type { ProductId, VariantId } from "@shop/domain/Ids"
import { chunk, maxSqlParameters, SqlBatch } from "@shop/domain/SqlBatch"
import { CatalogRepository, fold, minPrice, ProductRecord, SkuConflict, searchText } from "./CatalogRepository.ts"

interface ProductRow {
  readonly productId: string
  readonly sku: string
  readonly title: string
  readonly description: string
  readonly category: string
  readonly images: string
  readonly uploadedImages: string
  readonly createdAt: number
  readonly updatedAt: number
  readonly revision: string
}

interface VariantRow {
  readonly variantId: string
  readonly productId: string
  readonly sku: string
  readonly title: string
  readonly price: number
  readonly currency: string
  readonly attributes: string
  readonly weightGrams: number
}

const decodeProducts = Schema.decodeUnknownEffect(Schema.Array(ProductRecord))

const orderBy: Record<ListProducts["sort"], string> = {
  newest: "created_at DESC, product_id DESC",
  price_asc: "min_price ASC, product_id ASC",
  price_desc: "min_price DESC, product_id ASC",
  title: "title_key ASC, product_id ASC"
}

// Works on node:sqlite and D1 alike. Multi-statement writes go through
// SqlBatch (a transaction on SQLite, a batch on D1).
export const layer = Layer.effect(
  CatalogRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const batch = yield* SqlBatch
    const productColumns = sql.literal(
      "product_id AS productId, sku, title, description, category, images, uploaded_images AS uploadedImages, created_at AS createdAt, updated_at AS updatedAt, revision"
    )
    const variantColumns = sql.literal(
      "variant_id AS variantId, product_id AS productId, sku, title, price, currency, attributes, weight_grams AS weightGrams"
    )

    const assemble = Effect.fn("CatalogRepository.assemble")(function* (rows: ReadonlyArray<ProductRow>) {
      if (rows.length === 0) return []
      const variantRows = yield* sql<VariantRow>`
        SELECT ${variantColumns} FROM variants
        WHERE ${sql.in(
          "product_id",
          rows.map((r) => r.productId)
        )}
        ORDER BY product_id, position
      `
      const byProduct = Arr.groupBy(variantRows, (v) => v.productId)
      return yield* decodeProducts(
        rows.map((row) => ({
          productId: row.productId,
          sku: row.sku,
          title: row.title,
          description: row.description,
          category: row.category,
          images: JSON.parse(row.images),
          uploadedImages: JSON.parse(row.uploadedImages),
          createdAt: row.createdAt,
          updatedAt: row.updatedAt,
          revision: row.revision,
          variants: (byProduct[row.productId] ?? []).map((v) => ({
            variantId: v.variantId,
            sku: v.sku,
            title: v.title,
            price: { amount: v.price, currency: v.currency },
            attributes: JSON.parse(v.attributes),
            weightGrams: v.weightGrams
          }))
        }))
      )
    })

    // After a refused write, find which SKU is owned by another product.
    const findConflict = Effect.fn("CatalogRepository.findConflict")(function* (
      product: ProductRecord,
      cause: SqlError.SqlError
    ) {
      const owners: Array<{ readonly sku: string }> = [
        ...(yield* sql<{ sku: string }>`
          SELECT sku FROM products WHERE sku = ${product.sku} AND product_id <> ${product.productId}
        `)
      ]
      for (const skus of chunk(
        product.variants.map((v) => v.sku),
        maxSqlParameters - 1
      )) {
        owners.push(
          ...(yield* sql<{ sku: string }>`
            SELECT sku FROM variants WHERE ${sql.in("sku", skus)} AND product_id <> ${product.productId}
          `)
        )
      }
      if (owners.length > 0) return yield* new SkuConflict({ sku: owners[0]!.sku })
      return yield* Effect.die(cause)
    })

    const variantValues = (product: ProductRecord) =>
      product.variants.map((v, position) => ({
        variant_id: v.variantId,
        product_id: product.productId,
        position,
        sku: v.sku,
        title: v.title,
        price: v.price.amount,
        currency: v.price.currency,
        attributes: JSON.stringify(v.attributes),
        weight_grams: v.weightGrams
      }))

    const insert = (product: ProductRecord) => {
      const price = minPrice(product.variants)
      const variants: Array<Record<string, unknown>> = variantValues(product)
      const statements = [
        sql`INSERT INTO products ${sql.insert({
          product_id: product.productId,
          sku: product.sku,
          title: product.title,
          description: product.description,
          category: product.category,
          category_key: fold(product.category),
          title_key: fold(product.title),
          search_text: searchText(product),
          images: JSON.stringify(product.images),
          uploaded_images: JSON.stringify(product.uploadedImages),
          min_price: price.amount,
          currency: price.currency,
          created_at: product.createdAt,
          updated_at: product.updatedAt,
          revision: product.revision
        })}`,
        // Several statements when needed: D1 refuses more than 100 bound
        // parameters in one statement (9 per variant row).
        ...chunk(variants, Math.floor(maxSqlParameters / 9)).flatMap((rows) =>
          Arr.isReadonlyArrayNonEmpty(rows) ? [sql`INSERT INTO variants ${sql.insert(rows)}`] : []
        )
      ]
      return batch.run(statements).pipe(
        Effect.catch((cause) => findConflict(product, cause)),
        Effect.catchTag("SqlError", Effect.die)
      )
    }

    const replace = Effect.fn("CatalogRepository.replace")(
      function* (product: ProductRecord, expectedRevision: string) {
        const price = minPrice(product.variants)
        // Every statement applies only while the stored revision is the one
        // the edit was made from, and the product row (which changes the
        // revision) is written last: all of the batch lands, or none of it.
        const current = sql`EXISTS (SELECT 1 FROM products WHERE product_id = ${product.productId} AND revision = ${expectedRevision})`
        const statements = [
          // Variants of one product may trade SKUs in one update. Moving every
          // variant of the product to a placeholder first (no real SKU contains
          // "~") keeps the per-row UNIQUE check from seeing a half-done swap.
          sql`UPDATE variants SET sku = '~' || variant_id WHERE product_id = ${product.productId} AND ${current}`,
          ...product.variants.map(
            (v) =>
              sql`
              UPDATE variants SET sku = ${v.sku}, title = ${v.title}, price = ${v.price.amount}, currency = ${v.price.currency},
                attributes = ${JSON.stringify(v.attributes)}, weight_grams = ${v.weightGrams}
              WHERE variant_id = ${v.variantId} AND product_id = ${product.productId} AND ${current}
            `
          ),
          sql`
            UPDATE products SET sku = ${product.sku}, title = ${product.title}, description = ${product.description},
              category = ${product.category}, category_key = ${fold(product.category)}, title_key = ${fold(product.title)},
              search_text = ${searchText(product)}, images = ${JSON.stringify(product.images)},
              uploaded_images = ${JSON.stringify(product.uploadedImages)}, min_price = ${price.amount},
              currency = ${price.currency}, updated_at = ${product.updatedAt}, revision = ${product.revision}
            WHERE product_id = ${product.productId} AND revision = ${expectedRevision}
          `
        ]
        yield* batch.run(statements).pipe(Effect.catch((cause) => findConflict(product, cause)))
        // The revision is a fresh random token, so reading it back tells
        // whether this write is the one that landed.
        const stored = yield* sql<{
          revision: string
        }>`SELECT revision FROM products WHERE product_id = ${product.productId}`
        if (stored.length === 0) return "missing" as const
        return stored[0]!.revision === product.revision ? ("replaced" as const) : ("conflict" as const)
      },
      Effect.catchTag("SqlError", Effect.die)
    )

    const whereOf = (query: ListProducts) => {
      const conditions = []
      if (query.q !== undefined) conditions.push(sql`instr(search_text, ${fold(query.q)}) > 0`)
      if (query.category !== undefined) conditions.push(sql`category_key = ${fold(query.category)}`)
      if (query.minPrice !== undefined) conditions.push(sql`min_price >= ${query.minPrice}`)
      if (query.maxPrice !== undefined) conditions.push(sql`min_price <= ${query.maxPrice}`)
      return conditions.length === 0 ? sql.literal("1 = 1") : sql.and(conditions)
    }

    const count = (where: ReturnType<typeof whereOf>) =>
      sql<{ total: number }>`SELECT COUNT(*) AS total FROM products WHERE ${where}`.pipe(
        Effect.map((rows) => rows[0]?.total ?? 0)
      )

    return CatalogRepository.of({
      insert: (product) => insert(product),
      find: (productId: ProductId) =>
        sql<ProductRow>`SELECT ${productColumns} FROM products WHERE product_id = ${productId}`.pipe(
          Effect.flatMap(assemble),
          Effect.map((rows) => Option.fromNullishOr(rows[0])),
          Effect.orDie
        ),
      list: Effect.fn("CatalogRepository.list")(function* (query: ListProducts) {
        const where = whereOf(query)
        const [rows, total] = yield* Effect.all([
          sql<ProductRow>`
              SELECT ${productColumns} FROM products WHERE ${where}
              ORDER BY ${sql.literal(orderBy[query.sort])}
              LIMIT ${query.limit} OFFSET ${query.offset}
            `,
          count(where)
        ])
        return { items: yield* assemble(rows), total }
      }, Effect.orDie),
      listIds: Effect.fn("CatalogRepository.listIds")(function* (query: ListProducts) {
        const where = whereOf(query)
        const [rows, total] = yield* Effect.all([
          sql<{ productId: ProductId }>`
              SELECT product_id AS productId FROM products WHERE ${where}
              ORDER BY ${sql.literal(orderBy[query.sort])}
              LIMIT ${query.limit} OFFSET ${query.offset}
            `,
          count(where)
        ])
        return { ids: rows.map((row) => row.productId), total }
      }, Effect.orDie),
      findMany: (ids) =>
        Effect.forEach(
          chunk(ids, maxSqlParameters),
          (part) =>
            sql<ProductRow>`SELECT ${productColumns} FROM products WHERE ${sql.in("product_id", part)}`.pipe(
              Effect.flatMap(assemble)
            ),
          { concurrency: 1 }
        ).pipe(
          Effect.map((parts) => parts.flat()),
          Effect.orDie
        ),
      replace,
      // Variants go with their product (ON DELETE CASCADE needs foreign keys
      // on, which D1 enforces and node:sqlite enables), deleted explicitly
      // as well so the effect does not depend on that pragma.
      remove: Effect.fn("CatalogRepository.remove")(function* (productId: ProductId) {
        const exists = yield* sql`SELECT 1 AS one FROM products WHERE product_id = ${productId}`
        if (exists.length === 0) return false
        yield* batch.run([
          sql`DELETE FROM variants WHERE product_id = ${productId}`,
          sql`DELETE FROM products WHERE product_id = ${productId}`
        ])
        return true
      }, Effect.orDie),
      variantIds: (after, limit) =>
        sql<{ variantId: VariantId }>`
          SELECT variant_id AS variantId FROM variants
          WHERE ${after === undefined ? sql.literal("1 = 1") : sql`variant_id > ${after}`}
          ORDER BY variant_id LIMIT ${limit}
        `.pipe(
          Effect.map((rows) => rows.map((row) => row.variantId)),
          Effect.orDie
        ),
      existingVariants: (ids) =>
        Effect.forEach(
          chunk(ids, maxSqlParameters),
          (part) =>
            sql<{
              variantId: VariantId
            }>`SELECT variant_id AS variantId FROM variants WHERE ${sql.in("variant_id", part)}`,
          { concurrency: 1 }
        ).pipe(
          Effect.map((parts) => parts.flat().map((row) => row.variantId)),
          Effect.orDie
        )
    })
  })
)
