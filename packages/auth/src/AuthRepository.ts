import { Context, type Effect, type Option, Schema } from "effect"
import { Address, Role } from "@shop/domain/Auth"
import type { AddressPatch } from "@shop/domain/Auth"
import { AddressId, SessionId, UserId } from "@shop/domain/Ids"

export const UserRow = Schema.Struct({
  userId: UserId,
  email: Schema.String,
  name: Schema.String,
  role: Role,
  passwordHash: Schema.String,
  createdAt: Schema.Number
})
export type UserRow = typeof UserRow.Type

export const SessionRow = Schema.Struct({
  sessionId: SessionId,
  userId: UserId,
  email: Schema.String,
  role: Role,
  expiresAt: Schema.Number,
  revokedAt: Schema.NullOr(Schema.Number)
})
export type SessionRow = typeof SessionRow.Type

export const Attempts = Schema.Struct({ count: Schema.Number, windowStart: Schema.Number })
export type Attempts = typeof Attempts.Type

// Storage of the auth service. Every method is one atomic step on every store
// (a single SQL statement, or one synchronous update of the memory maps), so
// concurrent requests cannot observe or produce half a change.
export class AuthRepository extends Context.Service<
  AuthRepository,
  {
    // false when the email is taken (compared case-insensitively by the caller
    // normalising it).
    readonly insertUser: (user: UserRow) => Effect.Effect<boolean>
    readonly findUserByEmail: (email: string) => Effect.Effect<Option.Option<UserRow>>
    readonly findUserById: (userId: UserId) => Effect.Effect<Option.Option<UserRow>>
    // false when the user was already an admin (checked and set in one step).
    readonly promote: (userId: UserId) => Effect.Effect<boolean>
    readonly insertSession: (session: {
      sessionId: SessionId
      userId: UserId
      createdAt: number
      expiresAt: number
    }) => Effect.Effect<void>
    readonly findSession: (sessionId: SessionId) => Effect.Effect<Option.Option<SessionRow>>
    readonly revokeSession: (sessionId: SessionId, at: number) => Effect.Effect<void>
    readonly listAddresses: (userId: UserId) => Effect.Effect<ReadonlyArray<Address>>
    readonly insertAddress: (userId: UserId, address: Address, createdAt: number) => Effect.Effect<void>
    readonly updateAddress: (
      userId: UserId,
      addressId: AddressId,
      patch: AddressPatch
    ) => Effect.Effect<Option.Option<Address>>
    readonly deleteAddress: (userId: UserId, addressId: AddressId) => Effect.Effect<boolean>
    // Counts one login attempt for `key` inside a fixed window starting at the
    // first attempt, and returns the new count; an attempt after the window
    // starts a new one. Atomic: concurrent attempts each get their own count.
    readonly recordAttempt: (key: string, now: number, windowMs: number) => Effect.Effect<Attempts>
    // Gives one attempt back (a login that succeeded), never below zero.
    readonly releaseAttempt: (key: string) => Effect.Effect<void>
    readonly clearAttempts: (key: string) => Effect.Effect<void>
    // Forgets attempt windows that started before `attemptsBefore` and
    // sessions that expired before `sessionsBefore`: both only grow otherwise.
    readonly purge: (attemptsBefore: number, sessionsBefore: number) => Effect.Effect<void>
  }
>()("@shop/auth/AuthRepository") {}
