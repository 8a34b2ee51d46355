import { Schema } from "effect"

// Ids are opaque prefixed strings (API.md). The prefix is checked so that an id
// of one kind can never be passed where another is expected, on the wire too.
const prefixed = (prefix: string) =>
  Schema.String.pipe(Schema.check(Schema.isPattern(new RegExp(`^${prefix}_[A-Za-z0-9]{1,64}$`, "u"))))

export const UserId = prefixed("usr").pipe(Schema.brand("UserId"))
export type UserId = typeof UserId.Type

export const SessionId = prefixed("ses").pipe(Schema.brand("SessionId"))
export type SessionId = typeof SessionId.Type

export const AddressId = prefixed("adr").pipe(Schema.brand("AddressId"))
export type AddressId = typeof AddressId.Type

export const ProductId = prefixed("prd").pipe(Schema.brand("ProductId"))
export type ProductId = typeof ProductId.Type

export const VariantId = prefixed("var").pipe(Schema.brand("VariantId"))
export type VariantId = typeof VariantId.Type

// Cart ids are secrets: a guest cart is reachable by whoever holds its id, so
// the id is 24 random characters (IdGenerator.secret), never a sequence.
export const CartId = Schema.String.pipe(
  Schema.check(Schema.isPattern(/^cart_[A-Za-z0-9]{24}$/u)),
  Schema.brand("CartId")
)
export type CartId = typeof CartId.Type

export const IdPrefixes = {
  user: "usr",
  session: "ses",
  address: "adr",
  product: "prd",
  variant: "var",
  cart: "cart"
} as const

export const OrderId = prefixed("ord").pipe(Schema.brand("OrderId"))
export type OrderId = typeof OrderId.Type
