import { Context, type Effect, type Option } from "effect"
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

// Redemptions: SQL (D1 on Cloudflare) in every runtime, since usage limits
// are enforced atomically at checkout. Codes arrive upper-cased.
export class CouponRedemptions extends Context.Service<
  CouponRedemptions,
  {
    // The number of redemptions of each code asked for (codes without any
    // are absent).
    readonly counts: (codes: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, number>>
    // Drops the redemptions of a deleted coupon, so that a new coupon with the
    // same code starts from zero.
    readonly forget: (code: string) => Effect.Effect<void>
  }
>()("@shop/coupons/CouponRedemptions") {}
