import { Array as Arr, Effect, Layer, Option, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import type { Fragment } from "effect/sql/Statement"
import type { ProductSort } from "@shop/domain/Catalog"
import type { ProductId, VariantId } from "@shop/domain/Ids"
import { chunk, maxSqlParameters, SqlBatch } from "@shop/domain/SqlBatch"
import * as Traced from "@shop/domain/Traced"
import {
  CatalogRepository,
  fold,
  type ListPosition,
  minPrice,
  type ProductListQuery,
  ProductRecord,
  SkuConflict,
  searchText
} from "./CatalogRepository.ts"

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

const orderBy: Record<ProductSort, string> = {
  newest: "created_at DESC, product_id DESC",
  price_asc: "min_price ASC, product_id ASC",
  price_desc: "min_price DESC, product_id ASC",
  title: "title_key ASC, product_id ASC"
}

const sortColumn: Record<ProductSort, string> = {
  newest: "created_at",
  price_asc: "min_price",
  price_desc: "min_price",
  title: "title_key"
}

// The indexes that hold each sort's exact order (0004_list_at_scale.sql),
// over the whole catalog and inside one category. Named in the query
// (INDEXED BY) because SQLite cannot know, without statistics that D1 does
// not keep for us, whether walking the sort order or the price range is
// cheaper; `list` knows, from the counts.
const sortIndex: Record<ProductSort, { readonly all: string; readonly category: string }> = {
  newest: { all: "products_newest", category: "products_category_newest" },
  price_asc: { all: "products_price", category: "products_category_price" },
  price_desc: { all: "products_price_desc", category: "products_category_price_desc" },
  title: { all: "products_title", category: "products_category_title" }
}

const maxPrice = Number.MAX_SAFE_INTEGER

// Where a deep `offset` page of a sort can start without stepping over the
// products before it: the bucket counts of the sort's key (price, or creation
// time for `newest`), walked in the sort's direction.
const offsetCounts: Partial<Record<ProductSort, { readonly table: string; readonly descending: boolean }>> = {
  newest: { table: "product_time_counts", descending: true },
  price_asc: { table: "product_counts", descending: false },
  price_desc: { table: "product_counts", descending: true }
}

export interface Options {
  /**
   * From which `offset` a page is started from the bucket counts rather than
   * by stepping over `offset` index entries. The walk costs about what
   * stepping over 5,000 to 10,000 entries does (0.1 ms at 10,000 products,
   * 0.25 ms at 100,000, on node), so shallow pages step. The tests set 1, to
   * walk on every offset page.
   */
  readonly walkOffsetFrom?: number
}

/**
 * The buckets of `product_counts` that together hold exactly the prices in
 * [min, max]: at each level, the partial runs at both ends, then the aligned
 * middle one level up (16x wider). At most 2 x 15 buckets a level, 14 levels.
 * @internal exported for the tests
 */
export const priceBuckets = (min: number, max: number): ReadonlyArray<readonly [number, number, number]> => {
  const ranges: Array<readonly [number, number, number]> = []
  let lo = min
  let hi = max + 1
  for (let level = 0; level < 14 && lo < hi; level++) {
    const loUp = Math.ceil(lo / 16) * 16
    const hiDown = Math.floor(hi / 16) * 16
    if (level === 13 || loUp >= hiDown) {
      ranges.push([level, lo, hi - 1])
      break
    }
    if (lo < loUp) ranges.push([level, lo, loUp - 1])
    if (hiDown < hi) ranges.push([level, hiDown, hi - 1])
    lo = loUp / 16
    hi = hiDown / 16
  }
  return ranges
}

const codePoints = (text: string) => {
  let n = 0
  for (const _ of text) n++
  return n
}

// The trigram index finds substrings of 3 code points or more; a quoted FTS5
// string is one phrase of the query's trigrams, i.e. the substring itself.
const trigramPhrase = (q: string) => `"${q.replaceAll('"', '""')}"`

/**
 * Whether the trigram index alone decides that a text holds `q` (3+ code
 * points), with no `instr` on the text. FTS5's trigram tokenizer (with
 * `case_sensitive 1`, so no folding, and detail=full, the default: positions
 * kept) emits, for each code point i of a text, the token text[i..i+3) at
 * position i; the query phrase is tokenized the same way into q[j..j+3) at
 * j = 0..len-3, and matches a text iff for some p every q[j..j+3) is the
 * text's token at p + j, i.e. iff text[p..p+len) = q. Two exceptions in
 * SQLite's tokenizer: it reads U+FFFE and U+FFFF (as any malformed UTF-8) as
 * U+FFFD, so a `q` holding one of the three could match a text holding
 * another; and it stops at a NUL, which neither a stored text (plain text,
 * domain/Text.ts) nor `q` can hold, and which the index would miss anyway
 * (the narrowing relies on it too). For those `q`, `instr` still decides.
 * @internal exported for the tests
 */
export const trigramIndexDecides = (q: string) => !/[\u0000\uFFFD\uFFFE\uFFFF]/u.test(q)

// Works on node:sqlite and D1 alike. Multi-statement writes go through
// SqlBatch (a transaction on SQLite, a batch on D1).
const make = (options: Options) =>
  Effect.gen(function* () {
    const walkOffsetFrom = options.walkOffsetFrom ?? 5000
    const sql = yield* SqlClient.SqlClient
    const batch = yield* SqlBatch
    const productColumns = sql.literal(
      "product_id AS productId, sku, title, description, category, images, uploaded_images AS uploadedImages, created_at AS createdAt, updated_at AS updatedAt, revision"
    )
    const variantColumns = sql.literal(
      "variant_id AS variantId, product_id AS productId, sku, title, price, currency, attributes, weight_grams AS weightGrams"
    )

    const assemble = Traced.fn("CatalogRepository.assemble")(function* (rows: ReadonlyArray<ProductRow>) {
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
    const findConflict = Traced.fn("CatalogRepository.findConflict")(function* (
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

    const replace = Traced.fn("CatalogRepository.replace")(
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

    // Where a cursor page starts: strictly after the position, in the sort's
    // order. The first term alone is a range on the sort's index; the second
    // only steps over the position's ties.
    const afterCondition = (sort: ProductSort, after: ListPosition) => {
      const column = sql.literal(sortColumn[sort])
      switch (sort) {
        case "newest":
          return sql`(${column} <= ${after.key} AND (${column} < ${after.key} OR product_id < ${after.id}))`
        case "price_desc":
          return sql`(${column} <= ${after.key} AND (${column} < ${after.key} OR product_id > ${after.id}))`
        case "price_asc":
        case "title":
          return sql`(${column} >= ${after.key} AND (${column} > ${after.key} OR product_id > ${after.id}))`
      }
    }

    // How many products of a category ('' for all) have a lowest price in
    // [min, max], from the bucket counts the triggers keep: a few dozen rows
    // read whatever the size of the catalog. The bucket bounds are integers
    // computed here, written inline so that only the category is a parameter
    // (D1 takes at most 100 per statement).
    const countByPrice = (categoryKey: string, min: number, max: number) => {
      const buckets = priceBuckets(min, max)
      if (buckets.length === 0) return Effect.succeed(0)
      const parts = buckets.map(
        ([level, lo, hi]) =>
          sql`SELECT n FROM product_counts WHERE category_key = ${categoryKey} AND level = ${sql.literal(String(level))} AND bucket BETWEEN ${sql.literal(String(lo))} AND ${sql.literal(String(hi))}`
      )
      return sql<{
        total: number
      }>`SELECT coalesce(sum(n), 0) AS total FROM (${sql.join(" UNION ALL ", false)(parts)})`.pipe(
        Effect.map((rows) => rows[0]?.total ?? 0)
      )
    }

    // The page of `offset` in a sort, found from the top level of the bucket
    // counts down: at each level, the one child bucket (in the sort's
    // direction) inside which the offset-th product falls, with the number of
    // products in the buckets before it. At level 0 a bucket is one key
    // value, so `skipped` is exactly the number of products whose key sorts
    // before it, and the page is the (offset - skipped)-th product on from
    // that key: a few hundred count rows read instead of `offset` index
    // entries. Level 14 bucket 0 is a root above the 16 top buckets (every
    // key below 2^56). One recursive CTE, so it runs inside the page's own
    // statement (one round trip on D1). The offset, an integer, is written
    // inline, as the bucket bounds are: the statement has the same form on
    // every runtime whatever type a driver binds a number as.
    const offsetWalk = (
      counts: { readonly table: string; readonly descending: boolean },
      scope: string,
      offset: number
    ) => {
      const table = sql.literal(counts.table)
      const target = sql.literal(String(offset))
      const before = sql.literal(
        counts.descending
          ? "x.bucket > c.bucket AND x.bucket <= w.bucket * 16 + 15"
          : "x.bucket >= w.bucket * 16 AND x.bucket < c.bucket"
      )
      const skippedBefore = sql`SELECT coalesce(sum(x.n), 0) FROM ${table} x WHERE x.category_key = c.category_key AND x.level = c.level AND ${before}`
      return sql`WITH RECURSIVE walk (level, bucket, skipped) AS (
        SELECT 14, 0, 0
        UNION ALL
        SELECT c.level, c.bucket, w.skipped + (${skippedBefore})
        FROM walk w JOIN ${table} c
          ON c.category_key = ${scope} AND c.level = w.level - 1 AND c.bucket BETWEEN w.bucket * 16 AND w.bucket * 16 + 15
        WHERE w.level > 0 AND c.n > 0
          AND ${target} - w.skipped >= (${skippedBefore}) AND ${target} - w.skipped < (${skippedBefore}) + c.n
      )`
    }

    const countRows = (from: Fragment, conditions: ReadonlyArray<Fragment>) =>
      sql<{ total: number }>`SELECT count(*) AS total FROM ${from} WHERE ${sql.and(conditions)}`.pipe(
        Effect.map((rows) => rows[0]?.total ?? 0)
      )

    // The FTS5 query that finds the texts holding `q`, and whether its
    // matches are exactly those texts (else `instr` must decide); undefined
    // where the index cannot help (1 character, or 2 with a character the
    // tokenizer reads as another) and a search scans. 3+ characters: the
    // phrase of q's trigrams (trigramIndexDecides). 2 characters: any of the
    // index's trigrams that start with them (migration 0006: every indexed
    // text ends with a mark no `q` holds, so each occurrence of `q` starts a
    // trigram); none, and nothing matches.
    const searchMatch = Effect.fnUntraced(function* (q: string) {
      const length = codePoints(q)
      if (length >= 3) return { phrase: trigramPhrase(q), exact: trigramIndexDecides(q) }
      if (length < 2 || !trigramIndexDecides(q)) return undefined
      const terms = yield* sql<{ term: string }>`
        SELECT term FROM products_fts_terms WHERE term >= ${q} AND term <= ${`${q}\u{10FFFF}`}
      `
      return { phrase: terms.map((row) => trigramPhrase(row.term)).join(" OR "), exact: true }
    })

    // One page (`limit + 1` rows are read to know whether more follow) and the
    // exact total. Without `q` the total comes from the bucket counts and the
    // page from an index in the sort's order; with a `q` of 2+ characters both
    // come from the trigram index's matches (so they cost what the matches
    // cost); a shorter `q` scans, as every search did before.
    const select = <Row extends object>(query: ProductListQuery, columns: Fragment) =>
      Effect.gen(function* () {
        const q = query.q === undefined ? undefined : fold(query.q)
        const categoryKey = query.category === undefined ? undefined : fold(query.category)
        const filters: Array<Fragment> = []
        if (q !== undefined) filters.push(sql`instr(search_text, ${q}) > 0`)
        if (categoryKey !== undefined) filters.push(sql`category_key = ${categoryKey}`)
        if (query.minPrice !== undefined) filters.push(sql`min_price >= ${query.minPrice}`)
        if (query.maxPrice !== undefined) filters.push(sql`min_price <= ${query.maxPrice}`)
        const match = q === undefined ? undefined : yield* searchMatch(q)
        if (match?.phrase === "") return { rows: [] as ReadonlyArray<Row>, total: 0, more: false }
        let from: Fragment
        let total: number
        // Set when the page starts from the bucket counts (offsetWalk).
        let walk: { readonly table: string; readonly descending: boolean; readonly scope: string } | undefined
        const unfiltered = categoryKey === undefined && query.minPrice === undefined && query.maxPrice === undefined
        if (q !== undefined && match !== undefined && unfiltered) {
          // The total from the trigram index alone, reading no text, where it
          // is exact; else the index narrows and `instr` decides, on the
          // index's own copy of the text. Then the page: from the matches,
          // sorted, when they are few; from the sort's index, skipping
          // non-matches, when they are many (it reads about wanted x all /
          // total rows, the matches cost about 3 lookups each).
          total = yield* countRows(
            sql`products_fts`,
            match.exact
              ? [sql`products_fts MATCH ${match.phrase}`]
              : [sql`products_fts MATCH ${match.phrase}`, sql`instr(text, ${q}) > 0`]
          )
          const all = yield* countByPrice("", 0, maxPrice)
          const wanted = query.offset + query.limit + 1
          if (wanted * all < 3 * total * total) {
            from = sql`products INDEXED BY ${sql.literal(sortIndex[query.sort].all)}`
          } else {
            from = sql`products_fts CROSS JOIN product_search_docs ON doc = products_fts.rowid CROSS JOIN products ON product_id = product`
            filters.unshift(sql`products_fts MATCH ${match.phrase}`)
          }
        } else if (match !== undefined) {
          // As above, with filters that live on the product row: the matches
          // joined to their products.
          from = sql`products_fts CROSS JOIN product_search_docs ON doc = products_fts.rowid CROSS JOIN products ON product_id = product`
          filters.unshift(sql`products_fts MATCH ${match.phrase}`)
          total = yield* countRows(from, filters)
        } else if (q !== undefined) {
          from = sql`products`
          total = yield* countRows(from, filters)
        } else {
          const scope = categoryKey ?? ""
          total = yield* countByPrice(scope, query.minPrice ?? 0, query.maxPrice ?? maxPrice)
          let index = sortIndex[query.sort][categoryKey === undefined ? "all" : "category"]
          const priceRange = query.minPrice !== undefined || query.maxPrice !== undefined
          if (priceRange && (query.sort === "newest" || query.sort === "title")) {
            // Walking the sort's index reads about wanted x inScope / total
            // rows before the page is full; walking the price range reads the
            // `total` matching rows and sorts them. Take the smaller.
            const inScope = yield* countByPrice(scope, 0, maxPrice)
            const wanted = query.offset + query.limit + 1
            if (wanted * inScope > total * total)
              index = sortIndex.price_asc[categoryKey === undefined ? "all" : "category"]
          }
          from = sql`products INDEXED BY ${sql.literal(index)}`
          // A deep page of a sort with key counts (not `title`), whose counts
          // are those of the list (no price range: they count every price).
          const counts = offsetCounts[query.sort]
          if (
            counts !== undefined &&
            !priceRange &&
            query.after === undefined &&
            Number.isSafeInteger(query.offset) &&
            query.offset >= walkOffsetFrom
          )
            walk = { ...counts, scope }
        }
        if (total === 0) return { rows: [] as ReadonlyArray<Row>, total, more: false }
        const conditions = query.after === undefined ? filters : [...filters, afterCondition(query.sort, query.after)]
        let rows: ReadonlyArray<Row>
        if (walk === undefined) {
          rows = yield* sql<Row>`
            SELECT ${columns} FROM ${from} WHERE ${sql.and(conditions)}
            ORDER BY ${sql.literal(orderBy[query.sort])}
            LIMIT ${query.limit + 1} OFFSET ${query.offset}
          `
        } else {
          // Should the walk find no bucket (an offset past the end), the
          // page falls back to stepping from the start: the same rows.
          const column = sql.literal(sortColumn[query.sort])
          const start = walk.descending
            ? sql`${column} <= coalesce((SELECT bucket FROM walk WHERE level = 0), ${sql.literal(String(maxPrice))})`
            : sql`${column} >= coalesce((SELECT bucket FROM walk WHERE level = 0), ${sql.literal(String(-maxPrice))})`
          rows = yield* sql<Row>`
            ${offsetWalk(walk, walk.scope, query.offset)}
            SELECT ${columns} FROM ${from} WHERE ${sql.and([...conditions, start])}
            ORDER BY ${sql.literal(orderBy[query.sort])}
            LIMIT ${query.limit + 1} OFFSET ${sql.literal(String(query.offset))} - coalesce((SELECT skipped FROM walk WHERE level = 0), 0)
          `
        }
        return { rows: rows.slice(0, query.limit), total, more: rows.length > query.limit }
      })

    return CatalogRepository.of({
      insert: (product) => insert(product),
      find: (productId: ProductId) =>
        sql<ProductRow>`SELECT ${productColumns} FROM products WHERE product_id = ${productId}`.pipe(
          Effect.flatMap(assemble),
          Effect.map((rows) => Option.fromNullishOr(rows[0])),
          Effect.orDie
        ),
      list: Traced.fn("CatalogRepository.list")(function* (query: ProductListQuery) {
        const { rows, total, more } = yield* select<ProductRow>(query, productColumns)
        return { items: yield* assemble(rows), total, more }
      }, Effect.orDie),
      listIds: Traced.fn("CatalogRepository.listIds")(function* (query: ProductListQuery) {
        const { rows, total, more } = yield* select<{ productId: ProductId }>(
          query,
          sql.literal("product_id AS productId")
        )
        return { items: rows.map((row) => row.productId), total, more }
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
      remove: Traced.fn("CatalogRepository.remove")(function* (productId: ProductId) {
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

export const layerWith = (options: Options) => Layer.effect(CatalogRepository, make(options))

export const layer = layerWith({})
