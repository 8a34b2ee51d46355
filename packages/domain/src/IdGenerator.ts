import { Context, Effect, Layer } from "effect"

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

const random = (length: number) => {
  const bytes = crypto.getRandomValues(new Uint8Array(length))
  let out = ""
  // 62 does not divide 256; the bias of `% 62` is below 1% per character and
  // irrelevant at these lengths.
  for (const byte of bytes) out += alphabet[byte % 62]
  return out
}

// Ids and secrets come from this service so that tests can make them
// deterministic. The default draws from WebCrypto, present in Node and Workers.
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
  static readonly layer = Layer.sync(IdGenerator, () => {
    let lastMillis = 0
    let counter = 0
    return IdGenerator.of({
      make: (prefix) =>
        Effect.sync(() => {
          const now = Date.now()
          if (now === lastMillis) counter++
          else {
            lastMillis = now
            counter = 0
          }
          return `${prefix}_${base62(now, 8)}${base62(counter, 3)}${random(12)}`
        }),
      secret: (prefix) => Effect.sync(() => `${prefix}_${random(24)}`),
      bytes: (length) => Effect.sync(() => crypto.getRandomValues(new Uint8Array(length)))
    })
  })
}
