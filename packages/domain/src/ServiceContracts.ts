import { Schema } from "effect"
import {
  Address,
  AddressInput,
  AddressPatch,
  AdminUserResult,
  LoginInput,
  LoginResult,
  Me,
  Principal,
  PromoteInput,
  SignupInput,
  SignupResult
} from "./Auth.ts"
import { CreateProductInput, ListProducts, Product, ProductPage, UpdateProductInput } from "./Catalog.ts"
import {
  AddressNotFound,
  AlreadyAdmin,
  EmailExists,
  InvalidCredentials,
  ProductNotFound,
  RateLimited,
  SkuExists,
  StockBelowReserved,
  Unauthorized,
  UpdateConflict,
  UserNotFound,
  ValidationError,
  VariantNotFound
} from "./Errors.ts"
import { AddressId, ProductId, SessionId, UserId, VariantId } from "./Ids.ts"
import { Availability, StockLevel } from "./Inventory.ts"
import { method } from "./ServiceTransport.ts"

// The internal contracts: one entry per method of each service interface
// (packages/<service>/src/<Service>.ts), with the schemas of what crosses a
// process boundary. A runtime that splits services apart (Cloudflare Workers)
// builds its clients and servers from these; the compiler checks each
// contract against its service interface where the two meet.

const ByUser = Schema.Struct({ userId: UserId })

export const AuthContract = {
  signup: method(SignupInput, SignupResult, EmailExists),
  adminSignup: method(
    Schema.Struct({ ...SignupInput.fields, secret: Schema.UndefinedOr(Schema.String), client: Schema.String }),
    AdminUserResult,
    Schema.Union([Unauthorized, EmailExists, RateLimited])
  ),
  login: method(
    Schema.Struct({ ...LoginInput.fields, client: Schema.String }),
    LoginResult,
    Schema.Union([InvalidCredentials, RateLimited])
  ),
  authenticate: method(Schema.Struct({ token: Schema.String }), Principal, Unauthorized),
  logout: method(Schema.Struct({ sessionId: SessionId }), Schema.Void, Schema.Never),
  me: method(ByUser, Me, Unauthorized),
  promote: method(PromoteInput, AdminUserResult, Schema.Union([UserNotFound, AlreadyAdmin])),
  listAddresses: method(ByUser, Schema.Array(Address), Schema.Never),
  createAddress: method(Schema.Struct({ userId: UserId, address: AddressInput }), Address, Schema.Never),
  updateAddress: method(
    Schema.Struct({ userId: UserId, addressId: AddressId, patch: AddressPatch }),
    Address,
    AddressNotFound
  ),
  deleteAddress: method(Schema.Struct({ userId: UserId, addressId: AddressId }), Schema.Void, AddressNotFound)
}

const ByProduct = Schema.Struct({ productId: ProductId })

export const CatalogContract = {
  list: method(ListProducts, ProductPage, Schema.Never),
  get: method(ByProduct, Product, ProductNotFound),
  create: method(CreateProductInput, Product, Schema.Union([SkuExists, ValidationError])),
  update: method(
    Schema.Struct({ productId: ProductId, patch: UpdateProductInput }),
    Product,
    Schema.Union([ProductNotFound, SkuExists, UpdateConflict, ValidationError])
  ),
  remove: method(ByProduct, Schema.Void, ProductNotFound)
}

const ByVariant = Schema.Struct({ variantId: VariantId })
const Variants = Schema.Struct({ variantIds: Schema.Array(VariantId) })

export const InventoryContract = {
  get: method(ByVariant, StockLevel, VariantNotFound),
  set: method(
    Schema.Struct({ variantId: VariantId, stock: Schema.Int }),
    StockLevel,
    Schema.Union([VariantNotFound, StockBelowReserved, ValidationError])
  ),
  adjust: method(
    Schema.Struct({ variantId: VariantId, delta: Schema.Int }),
    StockLevel,
    Schema.Union([VariantNotFound, StockBelowReserved, ValidationError])
  ),
  availability: method(Variants, Schema.Array(Availability), Schema.Never),
  initialize: method(
    Schema.Struct({ levels: Schema.Array(Schema.Struct({ variantId: VariantId, stock: Schema.Int })) }),
    Schema.Void,
    Schema.Never
  ),
  remove: method(Variants, Schema.Void, Schema.Never)
}
