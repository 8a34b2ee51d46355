import { Context, Effect, Layer } from "effect"

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Ids and secrets come from this service so that tests can make them
// deterministic. The default draws from WebCrypto, present in Node and Workers.
export class IdGenerator extends Context.Service<IdGenerator, {
  // `prefix_` + 22 base62 characters: about 130 bits, unguessable.
  readonly make: (prefix: string) => Effect.Effect<string>
  readonly bytes: (length: number) => Effect.Effect<Uint8Array>
}>()("@shop/domain/IdGenerator") {
  static readonly layer = Layer.succeed(IdGenerator, IdGenerator.of({
    make: (prefix) =>
      Effect.sync(() => {
        const random = crypto.getRandomValues(new Uint8Array(22))
        let out = `${prefix}_`
        // 62 does not divide 256; the bias of `% 62` is below 1% per character
        // and irrelevant at 22 characters of entropy.
        for (const byte of random) out += alphabet[byte % 62]
        return out
      }),
    bytes: (length) => Effect.sync(() => crypto.getRandomValues(new Uint8Array(length)))
  }))
}
