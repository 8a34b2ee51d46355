import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import type { CreateProductInput, ListProducts, Product, ProductSort } from "@shop/domain/Catalog"
import { ProductId } from "@shop/domain/Ids"
import { Currency } from "@shop/domain/Money"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import { TestClock } from "effect/testing"
import { Catalog } from "../src/Catalog.ts"
import * as CatalogLive from "../src/CatalogLive.ts"
import { fold, searchText } from "../src/CatalogRepository.ts"

const usd = Currency.make("USD")
const sorts: ReadonlyArray<ProductSort> = ["newest", "price_asc", "price_desc", "title"]

const withCatalog = Effect.provide(CatalogLive.layerMemory.pipe(Layer.provide(InventoryLive.layerMemory)))

// Texts that fold in ways SQLite alone would not (accents, ß, dotted I,
// astral code points), ties in price and title, and several categories.
const titles = [
  "Blue mug",
  "blue MUG",
  "Café crème",
  "CAFÉ Noir",
  "Straße map",
  "İstanbul print",
  "Emoji 😀 tee",
  "日本の茶碗",
  "Zebra socks",
  "a",
  "Ab",
  "Cable 10% off_"
]

const input = (n: number): CreateProductInput => ({
  sku: `SKU-${n}`,
  title: titles[n % titles.length]!,
  description: n % 3 === 0 ? `Hand made, batch ${n}` : `Item number ${n} "quoted"`,
  category: ["Kitchen", "kitchen", "Prints", "Wear"][n % 4]!,
  price: { amount: 100 * (n % 7) + 99, currency: usd },
  stock: 1
})

// Every product, in one page (the catalog here is smaller than 100).
const everything = (catalog: Catalog["Service"], query: Omit<ListProducts, "limit">) =>
  catalog.list({ ...query, limit: 100 }).pipe(Effect.map((page) => page.items.map((p) => p.productId)))

// Walks the list with `cursor`, `limit` at a time; `between` runs after each page.
const walk = Effect.fn(function* (
  catalog: Catalog["Service"],
  query: Omit<ListProducts, "limit" | "offset" | "cursor">,
  limit: number,
  between: Effect.Effect<void> = Effect.void
) {
  const seen: Array<ProductId> = []
  const totals: Array<number> = []
  let cursor: string | null | undefined
  for (let pages = 0; pages < 1000; pages++) {
    const page = yield* catalog.list({ ...query, limit, ...(cursor ? { cursor } : {}) })
    assert.isAtMost(page.items.length, limit)
    assert.strictEqual(page.offset, 0)
    seen.push(...page.items.map((p: Product) => p.productId))
    totals.push(page.total)
    if (page.nextCursor === null) return { seen, totals }
    assert.strictEqual(page.items.length, limit)
    cursor = page.nextCursor
    yield* between
  }
  return assert.fail("the walk never ended")
})

const seed = Effect.fn(function* (catalog: Catalog["Service"], from: number, to: number) {
  for (let n = from; n < to; n++) {
    yield* catalog.create(input(n))
    // Two products per millisecond: `newest` has ties, broken by id.
    if (n % 2 === 1) yield* TestClock.adjust("1 millis")
  }
})

const filters: ReadonlyArray<Omit<ListProducts, "limit" | "offset" | "cursor" | "sort">> = [
  {},
  { category: "KITCHEN" },
  { minPrice: 199, maxPrice: 499 },
  { q: "blue" },
  { q: "É" },
  { category: "prints", minPrice: 300 }
]

describe("Catalog list paging", () => {
  it.effect("cursor pages cover the list exactly once, in order, for every sort and filter", () =>
    withCatalog(
      Effect.gen(function* () {
        const catalog = yield* Catalog
        yield* seed(catalog, 0, 45)
        for (const sort of sorts) {
          for (const filter of filters) {
            const query = { sort, ...filter }
            const expected = yield* everything(catalog, { ...query, offset: 0 })
            for (const limit of [1, 4, 7, 100]) {
              const { seen, totals } = yield* walk(catalog, query, limit)
              assert.deepStrictEqual(seen, expected, `${JSON.stringify(query)} by ${limit}`)
              for (const total of totals) assert.strictEqual(total, expected.length)
            }
          }
        }
      })
    )
  )

  it.effect("offset pages carry nextCursor too, and it continues where the page ended", () =>
    withCatalog(
      Effect.gen(function* () {
        const catalog = yield* Catalog
        yield* seed(catalog, 0, 20)
        const all = yield* everything(catalog, { sort: "price_desc", offset: 0 })
        const first = yield* catalog.list({ limit: 5, offset: 3, sort: "price_desc" })
        assert.deepStrictEqual(
          first.items.map((p) => p.productId),
          all.slice(3, 8)
        )
        assert.isNotNull(first.nextCursor)
        const next = yield* catalog.list({ limit: 5, sort: "price_desc", cursor: first.nextCursor! })
        assert.deepStrictEqual(
          next.items.map((p) => p.productId),
          all.slice(8, 13)
        )
        const last = yield* catalog.list({ limit: 5, offset: 15, sort: "price_desc" })
        assert.strictEqual(last.items.length, 5)
        assert.isNull(last.nextCursor)
        assert.isNull((yield* catalog.list({ limit: 5, offset: 40, sort: "price_desc" })).nextCursor)
      })
    )
  )

  it.effect("products added while paging never make a page repeat or skip one that was there", () =>
    withCatalog(
      Effect.gen(function* () {
        const catalog = yield* Catalog
        yield* seed(catalog, 0, 30)
        let next = 100
        for (const sort of sorts) {
          const before = yield* everything(catalog, { sort, offset: 0 })
          const { seen } = yield* walk(
            catalog,
            { sort },
            4,
            Effect.suspend(() => {
              next += 2
              return Effect.orDie(seed(catalog, next - 2, next))
            })
          )
          assert.strictEqual(new Set(seen).size, seen.length, `${sort}: a product came twice`)
          const shown = new Set(seen)
          for (const id of before) assert.isTrue(shown.has(id), `${sort}: ${id} was skipped`)
          // Newest first: what is added while paging comes before the pages
          // already read, so it is not shown at all.
          if (sort === "newest") assert.strictEqual(seen.length, before.length)
        }
      })
    )
  )

  it.effect("a cursor with an offset, for another list, or not from the shop is a ValidationError", () =>
    withCatalog(
      Effect.gen(function* () {
        const catalog = yield* Catalog
        yield* seed(catalog, 0, 10)
        const page = yield* catalog.list({ limit: 1, sort: "price_asc", q: "Blue", category: "kitchen" })
        const cursor = page.nextCursor!
        assert.isString(cursor)
        const refused = (query: ListProducts) =>
          catalog.list(query).pipe(
            Effect.flip,
            Effect.map((e) => e._tag)
          )
        const base = { limit: 1, sort: "price_asc", q: "Blue", category: "kitchen" } as const
        assert.strictEqual(yield* refused({ ...base, cursor, offset: 0 }), "ValidationError")
        assert.strictEqual(yield* refused({ ...base, cursor, sort: "price_desc" }), "ValidationError")
        assert.strictEqual(yield* refused({ ...base, cursor, q: "mug" }), "ValidationError")
        assert.strictEqual(yield* refused({ ...base, cursor, category: "wear" }), "ValidationError")
        assert.strictEqual(yield* refused({ ...base, cursor, minPrice: 1 }), "ValidationError")
        for (const forged of ["x", "!!!", cursor.slice(0, -3), `${cursor}A`, btoa("{}"), btoa('{"v":1}')]) {
          assert.strictEqual(yield* refused({ ...base, cursor: forged }), "ValidationError", forged)
        }
        // Well formed but with the wrong kind of key for its sort.
        const payload = Schema.decodeUnknownSync(Schema.fromJsonString(Schema.Record(Schema.String, Schema.Unknown)))(
          new TextDecoder().decode(
            Uint8Array.from(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0))
          )
        )
        const encode = (value: unknown) =>
          btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "")
        assert.strictEqual(yield* refused({ ...base, cursor: encode({ ...payload, k: "text" }) }), "ValidationError")
        assert.strictEqual(
          yield* refused({ ...base, cursor: encode({ ...payload, i: "not-an-id" }) }),
          "ValidationError"
        )
        // q and category match case-insensitively: the same list, the same cursor.
        const same = yield* catalog.list({ ...base, q: "BLUE", category: "KITCHEN", cursor })
        assert.isAtLeast(same.total, 1)
      })
    )
  )

  it.effect("search is a case-insensitive substring of title, description and SKU, however short", () =>
    withCatalog(
      Effect.gen(function* () {
        const catalog = yield* Catalog
        yield* seed(catalog, 0, 36)
        const products = yield* catalog.list({ limit: 100, sort: "newest" })
        for (const q of [
          "a",
          "É",
          "é",
          "ab",
          "ss",
          "ß",
          "straße",
          "STRASSE",
          "i̇stanbul",
          "İSTANBUL",
          "😀",
          "😀 t",
          "茶",
          "日本の",
          "cafe",
          "CAFÉ",
          "fé c",
          "10%",
          "%",
          "_",
          "off_",
          '"quoted"',
          '"',
          "sku-1",
          "SKU-35",
          "made, b",
          "number 2",
          "nothing like this"
        ]) {
          const expected = products.items.filter((p) => searchText(p).includes(fold(q))).map((p) => p.productId)
          const page = yield* catalog.list({ limit: 100, sort: "newest", q })
          assert.deepStrictEqual(
            page.items.map((p) => p.productId),
            expected,
            q
          )
          assert.strictEqual(page.total, expected.length, q)
        }
      })
    )
  )
})
