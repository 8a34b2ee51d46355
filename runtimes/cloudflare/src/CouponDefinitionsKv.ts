import { Effect, Layer, Option, Schema } from "effect"
import { CouponDefinitions } from "@shop/coupons/CouponsRepository"
import { CouponDefinition } from "@shop/domain/Coupons"

// Coupon definitions in Workers KV (binding COUPONS_KV): read on every cart
// that carries a code, written at admin rate, so a store replicated to the
// edge and read from cache fits. One key per coupon, `coupon:<CODE>`, whose
// value is the definition encoded by its schema and decoded on the way back.
// Redemption counts are not here: they stay in D1 (CouponsRepositorySql),
// because KV is eventually consistent and limits need atomic counts.

const prefix = "coupon:"
const keyOf = (code: string) => `${prefix}${code}`
const Stored = Schema.fromJsonString(CouponDefinition)
const encode = Schema.encodeEffect(Stored)
const decode = Schema.decodeUnknownEffect(Stored)

const promise = <A>(evaluate: () => Promise<A>) => Effect.orDie(Effect.tryPromise(evaluate))

export const layer = (kv: KVNamespace) => {
  const read = (key: string) =>
    promise(() => kv.get(key, "text")).pipe(
      Effect.flatMap((text) =>
        text === null ? Effect.succeedNone : Effect.map(Effect.orDie(decode(text)), Option.some)
      )
    )

  return Layer.succeed(
    CouponDefinitions,
    CouponDefinitions.of({
      // KV has no conditional put (no "only if absent", no compare-and-swap),
      // so this is read-then-put: two creates of one code racing within KV's
      // propagation window (up to about 60 s between locations) could both
      // see "absent" and the later put would win. Acceptable here: coupons
      // are created by an admin, by hand, at admin rate; the outcome of such a
      // race is one well-formed definition, never a torn one; and what must be
      // exact under concurrency (redemption counts and limits) lives in D1.
      insert: (coupon) =>
        Effect.gen(function* () {
          const key = keyOf(coupon.code)
          if (Option.isSome(yield* read(key))) return false
          const value = yield* Effect.orDie(encode(coupon))
          yield* promise(() => kv.put(key, value))
          return true
        }),
      find: (code) => read(keyOf(code)),
      // KV lists keys in lexicographic order, a page (up to 1000) at a time.
      list: () =>
        Effect.gen(function* () {
          const keys: Array<string> = []
          let cursor: string | undefined
          do {
            const page = yield* promise(() => kv.list(cursor === undefined ? { prefix } : { prefix, cursor }))
            keys.push(...page.keys.map((key) => key.name))
            cursor = page.list_complete ? undefined : page.cursor
          } while (cursor !== undefined)
          const found = yield* Effect.forEach(keys, read, { concurrency: 8 })
          return found.flatMap((coupon) => (Option.isSome(coupon) ? [coupon.value] : []))
        }),
      remove: (code) =>
        Effect.gen(function* () {
          const key = keyOf(code)
          if (Option.isNone(yield* read(key))) return false
          yield* promise(() => kv.delete(key))
          return true
        })
    })
  )
}
