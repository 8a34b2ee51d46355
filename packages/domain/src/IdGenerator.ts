import { Clock, Context, Effect, Layer } from "effect"
import { SecureRandom } from "effect/crypto"
import * as Traced from "./Traced.ts"

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Fixed-width base62: the alphabet is in ASCII order, so ids compare as their
// numbers do, both in JavaScript and in SQLite's binary collation.
const base62 = (value: number, width: number) => {
  let out = ""
  for (let i = 0; i < width; i++) {
    out = alphabet[value % 62] + out
    value = Math.floor(value / 62)
  }
  return out
}

// 62 does not divide 256; the bias of `% 62` is below 1% per character and
// irrelevant at these lengths.
const toText = (bytes: Uint8Array) => {
  let out = ""
  for (const byte of bytes) out += alphabet[byte % 62]
  return out
}

// Ids and secrets come from this service, their time from the `Clock` and
// their randomness from `SecureRandom`, so that a test controls both (a
// `TestClock` and a seeded `SecureRandom.make`). `layer` draws from WebCrypto,
// present in Node and Workers.
export class IdGenerator extends Context.Service<
  IdGenerator,
  {
    // `prefix_` + creation time + a counter + 12 random characters (~71 bits):
    // ids sort in creation order, which makes "newest first" stable even for
    // rows created in the same millisecond.
    readonly make: (prefix: string) => Effect.Effect<string>
    // `prefix_` + 24 random characters (~143 bits), for ids that must not be
    // guessable (cart ids).
    readonly secret: (prefix: string) => Effect.Effect<string>
    readonly bytes: (length: number) => Effect.Effect<Uint8Array>
  }
>()("@shop/domain/IdGenerator") {
  static readonly layerNoDeps = Layer.effect(
    IdGenerator,
    Effect.gen(function* () {
      const random = yield* SecureRandom.SecureRandom
      let lastMillis = -1
      let counter = 0
      return IdGenerator.of({
        make: Traced.fn("IdGenerator.make")(function* (prefix: string) {
          // A clock that steps back keeps the last time: ids still sort in
          // creation order.
          const now = Math.max(yield* Clock.currentTimeMillis, lastMillis)
          if (now === lastMillis) counter++
          else {
            lastMillis = now
            counter = 0
          }
          // The counter has 3 characters; past them, borrow the next millisecond.
          if (counter === 62 ** 3) {
            lastMillis++
            counter = 0
          }
          const time = `${base62(lastMillis, 8)}${base62(counter, 3)}`
          return `${prefix}_${time}${toText(yield* random.randomBytes(12))}`
        }),
        secret: Traced.fn("IdGenerator.secret")(function* (prefix: string) {
          return `${prefix}_${toText(yield* random.randomBytes(24))}`
        }),
        bytes: random.randomBytes
      })
    })
  )

  static readonly layer = IdGenerator.layerNoDeps.pipe(Layer.provide(SecureRandom.layerWebCrypto))
}
