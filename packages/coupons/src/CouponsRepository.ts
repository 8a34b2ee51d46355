import { Context, type Effect, type Option, Schema } from "effect"
import type { CouponDefinition } from "@shop/domain/Coupons"

// Where coupon definitions live: the service's SQL store or memory, and
// Workers KV on Cloudflare (runtimes/cloudflare/src/CouponDefinitionsKv.ts).
// Codes arrive upper-cased.
export class CouponDefinitions extends Context.Service<
  CouponDefinitions,
  {
    // Stores a new definition; false (and nothing written) when the code exists.
    readonly insert: (coupon: CouponDefinition) => Effect.Effect<boolean>
    readonly find: (code: string) => Effect.Effect<Option.Option<CouponDefinition>>
    // Every definition, ordered by code.
    readonly list: () => Effect.Effect<ReadonlyArray<CouponDefinition>>
    // False when there was no such code.
    readonly remove: (code: string) => Effect.Effect<boolean>
  }
>()("@shop/coupons/CouponDefinitions") {}

// One use of a coupon by one checkout: `redemptionId` is the checkout's
// payment or hold id, unique across codes. `redeemedAt` is epoch milliseconds.
export const Redemption = Schema.Struct({
  redemptionId: Schema.String,
  code: Schema.String,
  userId: Schema.String,
  redeemedAt: Schema.Int
})
export type Redemption = typeof Redemption.Type

// A coupon's limits; an absent limit is no limit.
export type RedemptionLimits = Pick<CouponDefinition, "usageLimit" | "perCustomerLimit">

// Redemptions: SQL (D1 on Cloudflare) in every runtime, since usage limits
// are enforced atomically at checkout. Codes arrive upper-cased. `record` and
// `release` are each one atomic step (a single statement, or one synchronous
// update of a Map): a limit is checked and the row written in the same step,
// so concurrent checkouts cannot both see the last use free.
export class CouponRedemptions extends Context.Service<
  CouponRedemptions,
  {
    // The number of redemptions of each code asked for (codes without any
    // are absent).
    readonly counts: (codes: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, number>>
    // Drops the redemptions of a deleted coupon, so that a new coupon with the
    // same code starts from zero.
    readonly forget: (code: string) => Effect.Effect<void>
    // Writes the redemption only if its code has fewer than `usageLimit`
    // redemptions and its user fewer than `perCustomerLimit` of that code, and
    // its id is not taken; true when written. False does not say why: the
    // caller asks `find` and `usage`, which only explain a decision already
    // made.
    readonly record: (redemption: Redemption, limits: RedemptionLimits) => Effect.Effect<boolean>
    readonly find: (redemptionId: string) => Effect.Effect<Option.Option<Redemption>>
    // A code's redemptions in all and those of one user.
    readonly usage: (code: string, userId: string) => Effect.Effect<{ readonly total: number; readonly byUser: number }>
    // Deletes one redemption; false when there was none (already released,
    // never made, or its coupon deleted).
    readonly release: (redemptionId: string) => Effect.Effect<boolean>
  }
>()("@shop/coupons/CouponRedemptions") {}

// One throttle key's bad codes in its current window.
export const Attempts = Schema.Struct({ count: Schema.Int, windowStart: Schema.Int })
export type Attempts = typeof Attempts.Type

// Bad coupon codes per throttle key (`cart:<id>`, `client:<ip>`): SQL (D1 on
// Cloudflare) or memory, never KV, since counts must be exact under
// concurrency. Every method is one atomic step (a single statement, or one
// synchronous update of a Map). Times are epoch milliseconds; a window runs
// from `windowStart` for `windowMs`.
export class CouponAttempts extends Context.Service<
  CouponAttempts,
  {
    // The keys whose window started after `since` (is still running), with
    // their counts; keys without one are absent.
    readonly current: (keys: ReadonlyArray<string>, since: number) => Effect.Effect<ReadonlyMap<string, Attempts>>
    // Counts one bad code for `key` and returns the new count. An ended window
    // (or one whose count was given back to zero) restarts at `now` in place,
    // so a key never has more than one row. Concurrent calls each get their
    // own count.
    readonly record: (key: string, now: number, windowMs: number) => Effect.Effect<Attempts>
    // Gives back one count of the window that started at `windowStart`, never
    // below zero; nothing when that window has since been restarted.
    readonly release: (key: string, windowStart: number) => Effect.Effect<void>
    // Forgets windows that started at or before `before`: keys that are never
    // seen again would otherwise stay forever.
    readonly prune: (before: number) => Effect.Effect<void>
  }
>()("@shop/coupons/CouponAttempts") {}
