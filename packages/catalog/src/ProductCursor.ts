import { Effect, Option, Schema } from "effect"
import { type ListProducts, ProductSort } from "@shop/domain/Catalog"
import { ValidationError } from "@shop/domain/Errors"
import { ProductId } from "@shop/domain/Ids"
import { fold, type ListPosition, type ProductRecord, sortKey } from "./CatalogRepository.ts"

// A cursor is the position of the last product of a page (its sort key and
// id) with the sort and a fingerprint of the filters it was made for, as
// base64url JSON. It is opaque to clients but not secret: one that decodes
// to a well-formed position only moves where a page starts, which any client
// may do with `offset`. What it must not do is carry a position of one list
// into another, hence the fingerprint.
const Payload = Schema.Struct({
  v: Schema.Literal(1),
  s: ProductSort,
  f: Schema.String,
  k: Schema.Union([Schema.Int, Schema.String]),
  i: ProductId
})

const CursorString = Schema.StringFromBase64Url.pipe(Schema.decodeTo(Schema.fromJsonString(Payload)))
const decodeCursor = Schema.decodeUnknownOption(CursorString)
const encodeCursor = Schema.encodeSync(CursorString)

// FNV-1a, 32 bits: only tells lists apart, nothing rests on its secrecy.
const fnv1a = (text: string) => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0).toString(16).padStart(8, "0")
}

// q and category match case-insensitively, so their folded forms are the list.
const fingerprint = (query: ListProducts) =>
  fnv1a(
    JSON.stringify([
      query.q === undefined ? null : fold(query.q),
      query.category === undefined ? null : fold(query.category),
      query.minPrice ?? null,
      query.maxPrice ?? null
    ])
  )

const invalid = (message: string) => new ValidationError({ message, details: { in: "query", field: "cursor" } })

export const encode = (query: ListProducts, last: ProductRecord): string =>
  encodeCursor({ v: 1, s: query.sort, f: fingerprint(query), k: sortKey(query.sort, last), i: last.productId })

/** The position a `cursor` stands for, refused unless it was made for this very list. */
export const decode = (query: ListProducts, cursor: string): Effect.Effect<ListPosition, ValidationError> => {
  const payload = decodeCursor(cursor)
  if (Option.isNone(payload)) return Effect.fail(invalid("`cursor` is not a cursor this shop gave out"))
  const { s, f, k, i } = payload.value
  if (s !== query.sort || f !== fingerprint(query)) {
    return Effect.fail(invalid("`cursor` belongs to another list: keep q, category, price range and sort as they were"))
  }
  if ((s === "title") !== (typeof k === "string")) {
    return Effect.fail(invalid("`cursor` is not a cursor this shop gave out"))
  }
  return Effect.succeed({ key: k, id: i })
}
