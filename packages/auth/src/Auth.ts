import { Context, type Effect } from "effect"
import type {
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
} from "@shop/domain/Auth"
import type {
  AddressNotFound,
  AlreadyAdmin,
  EmailExists,
  InvalidCredentials,
  RateLimited,
  Unauthorized,
  UserNotFound
} from "@shop/domain/Errors"
import type { AddressId, SessionId, UserId } from "@shop/domain/Ids"

// The interface of the auth service. Other packages and runtimes import only
// this module; the implementation lives in AuthLive.ts. Every method takes one
// plain object so that the same call can cross a service binding as data.
export class Auth extends Context.Service<
  Auth,
  {
    readonly signup: (input: SignupInput) => Effect.Effect<SignupResult, EmailExists>
    readonly adminSignup: (
      input: SignupInput & { readonly secret: string | undefined; readonly client: string }
    ) => Effect.Effect<AdminUserResult, Unauthorized | EmailExists | RateLimited>
    readonly login: (
      input: LoginInput & { readonly client: string }
    ) => Effect.Effect<LoginResult, InvalidCredentials | RateLimited>
    readonly authenticate: (input: { readonly token: string }) => Effect.Effect<Principal, Unauthorized>
    readonly logout: (input: { readonly sessionId: SessionId }) => Effect.Effect<void>
    readonly me: (input: { readonly userId: UserId }) => Effect.Effect<Me, Unauthorized>
    readonly promote: (input: PromoteInput) => Effect.Effect<AdminUserResult, UserNotFound | AlreadyAdmin>
    readonly listAddresses: (input: { readonly userId: UserId }) => Effect.Effect<ReadonlyArray<Address>>
    readonly createAddress: (input: {
      readonly userId: UserId
      readonly address: AddressInput
    }) => Effect.Effect<Address>
    readonly updateAddress: (input: {
      readonly userId: UserId
      readonly addressId: AddressId
      readonly patch: AddressPatch
    }) => Effect.Effect<Address, AddressNotFound>
    readonly deleteAddress: (input: {
      readonly userId: UserId
      readonly addressId: AddressId
    }) => Effect.Effect<void, AddressNotFound>
  }
>()("@shop/auth/Auth") {}
