import { Schema } from "effect"
import { BoundedText, PlainString } from "./Text.ts"
import { AddressId, SessionId, UserId } from "./Ids.ts"

const NonBlank = (max: number) =>
  PlainString.pipe(
    Schema.check(Schema.isMaxLength(max)),
    Schema.check(Schema.isPattern(/\S/, { message: "must not be blank" }))
  )

export const Email = PlainString.pipe(
  Schema.check(Schema.isMaxLength(254)),
  Schema.check(Schema.isPattern(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { message: "must be a valid email address" }))
)

export const Password = BoundedText(8, 256)

export const Role = Schema.Literals(["user", "admin"])
export type Role = typeof Role.Type

export const Country = PlainString.pipe(
  Schema.check(Schema.isPattern(/^[A-Z]{2}$/, { message: "must be an ISO 3166-1 alpha-2 code" }))
)

export const AddressFields = {
  name: Schema.optional(NonBlank(200)),
  line1: NonBlank(200),
  line2: Schema.optional(PlainString.pipe(Schema.check(Schema.isMaxLength(200)))),
  city: NonBlank(100),
  region: Schema.optional(PlainString.pipe(Schema.check(Schema.isMaxLength(100)))),
  postalCode: NonBlank(20),
  country: Country,
  phone: Schema.optional(
    PlainString.pipe(Schema.check(Schema.isPattern(/^\+?[0-9 ()-]{3,30}$/, { message: "must be a phone number" })))
  )
}

export const AddressInput = Schema.Struct(AddressFields)
export type AddressInput = typeof AddressInput.Type

export const AddressPatch = Schema.Struct({
  name: Schema.optional(AddressFields.name),
  line1: Schema.optional(AddressFields.line1),
  line2: Schema.optional(AddressFields.line2),
  city: Schema.optional(AddressFields.city),
  region: Schema.optional(AddressFields.region),
  postalCode: Schema.optional(AddressFields.postalCode),
  country: Schema.optional(AddressFields.country),
  phone: Schema.optional(AddressFields.phone)
})
export type AddressPatch = typeof AddressPatch.Type

export const Address = Schema.Struct({
  addressId: AddressId,
  ...AddressFields
})
export type Address = typeof Address.Type

export const SignupInput = Schema.Struct({
  email: Email,
  password: Password,
  name: NonBlank(200)
})
export type SignupInput = typeof SignupInput.Type

export const SignupResult = Schema.Struct({ userId: UserId, email: Schema.String })
export type SignupResult = typeof SignupResult.Type

export const AdminUserResult = Schema.Struct({ userId: UserId, email: Schema.String, role: Role })
export type AdminUserResult = typeof AdminUserResult.Type

export const LoginInput = Schema.Struct({
  email: PlainString.pipe(Schema.check(Schema.isMaxLength(254))),
  password: PlainString.pipe(Schema.check(Schema.isMaxLength(256)))
})
export type LoginInput = typeof LoginInput.Type

export const LoginResult = Schema.Struct({ accessToken: Schema.String, expiresIn: Schema.Int })
export type LoginResult = typeof LoginResult.Type

export const PromoteInput = Schema.Union([Schema.Struct({ email: Email }), Schema.Struct({ userId: UserId })])
export type PromoteInput = typeof PromoteInput.Type

export const Me = Schema.Struct({
  userId: UserId,
  email: Schema.String,
  role: Role,
  name: Schema.String,
  addresses: Schema.Array(Address)
})
export type Me = typeof Me.Type

// What the gateway knows about the caller after the token and its session checked out.
export const Principal = Schema.Struct({
  userId: UserId,
  sessionId: SessionId,
  email: Schema.String,
  role: Role
})
export type Principal = typeof Principal.Type

export const Ok = Schema.Struct({ ok: Schema.Literal(true) })
