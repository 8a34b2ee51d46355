import { Schema } from "effect"
import { BoundedText, MaxText, PlainString, plainText } from "./Text.ts"
import * as Examples from "./Examples.ts"
import { AddressId, SessionId, UserId } from "./Ids.ts"

const NonBlank = (max: number) =>
  MaxText(max).pipe(Schema.check(Schema.isPattern(/\S/u, { message: "must not be blank" })))

export const Email = plainText({
  format: "email",
  description: "An email address (the pattern is what the server checks)"
}).pipe(
  Schema.check(Schema.isMaxCodePoints(254)),
  Schema.check(Schema.isPattern(/^[^\s@]+@[^\s@]+\.[^\s@]+$/u, { message: "must be a valid email address" }))
)

export const Password = BoundedText(8, 256)

export const Role = Schema.Literals(["user", "admin"])
export type Role = typeof Role.Type

export const Country = PlainString.pipe(
  Schema.check(Schema.isPattern(/^[A-Z]{2}$/u, { message: "must be an ISO 3166-1 alpha-2 code" }))
)

const Phone = PlainString.pipe(
  Schema.check(Schema.isPattern(/^\+?[0-9 ()-]{3,30}$/u, { message: "must be a phone number" }))
)

// Each field's schema once; AddressFields says which are optional, AddressPatch
// makes all of them optional.
const address = {
  name: NonBlank(200),
  line1: NonBlank(200),
  line2: MaxText(200),
  city: NonBlank(100),
  region: MaxText(100),
  postalCode: NonBlank(20),
  country: Country,
  phone: Phone
}

export const AddressFields = {
  name: Schema.optional(address.name),
  line1: address.line1,
  line2: Schema.optional(address.line2),
  city: address.city,
  region: Schema.optional(address.region),
  postalCode: address.postalCode,
  country: address.country,
  phone: Schema.optional(address.phone)
}

export const AddressInput = Schema.Struct(AddressFields).annotate({ examples: [Examples.addressInput] })
export type AddressInput = typeof AddressInput.Type

export const AddressPatch = Schema.Struct({
  name: Schema.optional(address.name),
  line1: Schema.optional(address.line1),
  line2: Schema.optional(address.line2),
  city: Schema.optional(address.city),
  region: Schema.optional(address.region),
  postalCode: Schema.optional(address.postalCode),
  country: Schema.optional(address.country),
  phone: Schema.optional(address.phone)
}).annotate({ examples: [{ line2: "Apt 5", phone: "+1 415 555 0199" }] })
export type AddressPatch = typeof AddressPatch.Type

export const Address = Schema.Struct({
  addressId: AddressId,
  ...AddressFields
}).annotate({ examples: [Examples.address] })
export type Address = typeof Address.Type

export const SignupInput = Schema.Struct({
  email: Email,
  password: Password,
  name: NonBlank(200)
}).annotate({ examples: [{ email: Examples.email, password: "correct horse battery staple", name: "Ada Lovelace" }] })
export type SignupInput = typeof SignupInput.Type

export const SignupResult = Schema.Struct({ userId: UserId, email: Schema.String }).annotate({
  examples: [{ userId: Examples.userId, email: Examples.email }]
})
export type SignupResult = typeof SignupResult.Type

export const AdminUserResult = Schema.Struct({ userId: UserId, email: Schema.String, role: Role }).annotate({
  examples: [{ userId: Examples.adminId, email: "grace@example.com", role: "admin" }]
})
export type AdminUserResult = typeof AdminUserResult.Type

export const LoginInput = Schema.Struct({
  email: MaxText(254),
  password: MaxText(256)
}).annotate({ examples: [{ email: Examples.email, password: "correct horse battery staple" }] })
export type LoginInput = typeof LoginInput.Type

export const LoginResult = Schema.Struct({ accessToken: Schema.String, expiresIn: Schema.Int }).annotate({
  examples: [
    {
      accessToken:
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c3JfOGYza3EybTl4N2M0Iiwic2lkIjoic2VzXzZ2OXk0YjJuN20xayIsImV4cCI6MTc5NjExOTMzMH0.Xq3v8mKc1pT0wZr5nB2yH7cJ4dL6fA9sE1gU3iO0kQ",
      expiresIn: 3600
    }
  ]
})
export type LoginResult = typeof LoginResult.Type

export const PromoteInput = Schema.Union([Schema.Struct({ email: Email }), Schema.Struct({ userId: UserId })]).annotate(
  {
    examples: [{ email: "grace@example.com" }, { userId: Examples.adminId }]
  }
)
export type PromoteInput = typeof PromoteInput.Type

export const Me = Schema.Struct({
  userId: UserId,
  email: Schema.String,
  role: Role,
  name: Schema.String,
  addresses: Schema.Array(Address)
}).annotate({ examples: [Examples.me] })
export type Me = typeof Me.Type

// What the gateway knows about the caller after the token and its session checked out.
export const Principal = Schema.Struct({
  userId: UserId,
  sessionId: SessionId,
  email: Schema.String,
  role: Role
})
export type Principal = typeof Principal.Type

export const Ok = Schema.Struct({ ok: Schema.Literal(true) }).annotate({ examples: [{ ok: true }] })
