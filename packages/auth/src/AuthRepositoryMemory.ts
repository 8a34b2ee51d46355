import { Effect, Layer, Option } from "effect"
import type { Address } from "@shop/domain/Auth"
import type { AddressId, SessionId, UserId } from "@shop/domain/Ids"
import { type Attempts, AuthRepository, type SessionRow, type UserRow } from "./AuthRepository.ts"

interface StoredSession {
  readonly sessionId: SessionId
  readonly userId: UserId
  readonly expiresAt: number
  revokedAt: number | null
}

// In-memory store for the test runtime. Each method runs synchronously inside
// one Effect.sync, which is what makes it atomic under concurrent fibers.
export const layer = Layer.sync(AuthRepository, () => {
  const users = new Map<UserId, UserRow>()
  const byEmail = new Map<string, UserId>()
  const sessions = new Map<SessionId, StoredSession>()
  const addresses = new Map<UserId, Array<Address & { createdAt: number }>>()
  const attempts = new Map<string, Attempts>()

  const strip = ({ createdAt: _, ...address }: Address & { createdAt: number }): Address => address

  return AuthRepository.of({
    insertUser: (user) =>
      Effect.sync(() => {
        if (byEmail.has(user.email)) return false
        users.set(user.userId, user)
        byEmail.set(user.email, user.userId)
        return true
      }),
    findUserByEmail: (email) =>
      Effect.sync(() =>
        Option.fromNullishOr(byEmail.get(email)).pipe(Option.flatMap((id) => Option.fromNullishOr(users.get(id))))
      ),
    findUserById: (userId) => Effect.sync(() => Option.fromNullishOr(users.get(userId))),
    promote: (userId) =>
      Effect.sync(() => {
        const user = users.get(userId)
        if (!user || user.role === "admin") return false
        users.set(userId, { ...user, role: "admin" })
        return true
      }),
    insertSession: (session) =>
      Effect.sync(() => {
        sessions.set(session.sessionId, { ...session, revokedAt: null })
      }),
    findSession: (sessionId) =>
      Effect.sync(() => {
        const session = sessions.get(sessionId)
        const user = session && users.get(session.userId)
        if (!session || !user) return Option.none()
        const row: SessionRow = {
          sessionId: session.sessionId,
          userId: session.userId,
          email: user.email,
          role: user.role,
          expiresAt: session.expiresAt,
          revokedAt: session.revokedAt
        }
        return Option.some(row)
      }),
    revokeSession: (sessionId, at) =>
      Effect.sync(() => {
        const session = sessions.get(sessionId)
        if (session && session.revokedAt === null) session.revokedAt = at
      }),
    listAddresses: (userId) => Effect.sync(() => (addresses.get(userId) ?? []).map(strip)),
    insertAddress: (userId, address, createdAt) =>
      Effect.sync(() => {
        const list = addresses.get(userId) ?? []
        list.push({ ...address, createdAt })
        addresses.set(userId, list)
      }),
    updateAddress: (userId, addressId, patch) =>
      Effect.sync(() => {
        const list = addresses.get(userId) ?? []
        const index = list.findIndex((a) => a.addressId === addressId)
        if (index < 0) return Option.none()
        const updated = { ...list[index]!, ...patch }
        list[index] = updated
        return Option.some(strip(updated))
      }),
    deleteAddress: (userId, addressId: AddressId) =>
      Effect.sync(() => {
        const list = addresses.get(userId) ?? []
        const index = list.findIndex((a) => a.addressId === addressId)
        if (index < 0) return false
        list.splice(index, 1)
        return true
      }),
    recordAttempt: (key, now, windowMs) =>
      Effect.sync(() => {
        const current = attempts.get(key)
        const next =
          current && current.windowStart > now - windowMs
            ? { count: current.count + 1, windowStart: current.windowStart }
            : { count: 1, windowStart: now }
        attempts.set(key, next)
        return next
      }),
    releaseAttempt: (key) =>
      Effect.sync(() => {
        const current = attempts.get(key)
        if (current) attempts.set(key, { ...current, count: Math.max(0, current.count - 1) })
      }),
    purge: (attemptsBefore, sessionsBefore) =>
      Effect.sync(() => {
        for (const [key, value] of attempts) if (value.windowStart < attemptsBefore) attempts.delete(key)
        for (const [id, session] of sessions) if (session.expiresAt < sessionsBefore) sessions.delete(id)
      }),
    clearAttempts: (key) =>
      Effect.sync(() => {
        attempts.delete(key)
      })
  })
})
