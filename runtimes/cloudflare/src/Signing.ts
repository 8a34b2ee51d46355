import { Effect, Redacted } from "effect"
import * as Traced from "@shop/domain/Traced"

// Signed service-to-service calls over a URL (when a service binding is
// absent). HMAC-SHA-256 with INTERNAL_SECRET over the method, path with
// query, timestamp, nonce and body: a request cannot be forged without the
// secret, altered in transit, replayed later than the window, or replayed
// inside it (the receiver remembers nonces, see NonceStore.ts).
//
// Only WebCrypto: runs in Workers and in Node (tests, scripts).

export const SignatureHeaders = {
  timestamp: "x-shop-timestamp",
  nonce: "x-shop-nonce",
  signature: "x-shop-signature"
} as const

// A signed request is accepted this long either side of the receiver's clock.
export const maxSkewMillis = 60_000

export const noncePattern = /^[A-Za-z0-9_-]{16,128}$/

export interface Signed {
  readonly method: string
  readonly pathAndQuery: string
  readonly timestamp: number
  readonly nonce: string
  readonly body: Uint8Array
}

const encoder = new TextEncoder()

// The header fields cannot contain a newline (method, path, decimal
// timestamp, nonce pattern), so the newline-joined prefix is unambiguous and
// the body follows it as raw bytes.
const message = (signed: Signed): Uint8Array<ArrayBuffer> => {
  const head = encoder.encode(
    `${signed.method.toUpperCase()}\n${signed.pathAndQuery}\n${signed.timestamp}\n${signed.nonce}\n`
  )
  const out = new Uint8Array(head.length + signed.body.length)
  out.set(head, 0)
  out.set(signed.body, head.length)
  return out
}

const toHex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("")

const fromHex = (hex: string): Uint8Array<ArrayBuffer> | undefined => {
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return undefined
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

// One import per secret (a setting read once per isolate), not per call:
// the import cost more than the HMAC itself. Keyed by the Redacted value, so
// the secret's text is never a key and the entry goes with the setting.
const keys = new WeakMap<Redacted.Redacted<string>, Promise<CryptoKey>>()

const importKey = (secret: Redacted.Redacted<string>) =>
  Effect.promise(() => {
    let key = keys.get(secret)
    if (key === undefined) {
      key = crypto.subtle.importKey(
        "raw",
        encoder.encode(Redacted.value(secret)),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign", "verify"]
      )
      keys.set(secret, key)
      // A refused secret is not kept: the next call tries again and fails the same way.
      key.catch(() => keys.delete(secret))
    }
    return key
  })

export const sign = Traced.fn("Signing.sign")(function* (secret: Redacted.Redacted<string>, signed: Signed) {
  const key = yield* importKey(secret)
  return toHex(yield* Effect.promise(() => crypto.subtle.sign("HMAC", key, message(signed))))
})

// crypto.subtle.verify compares in constant time.
export const verify = Traced.fn("Signing.verify")(function* (
  secret: Redacted.Redacted<string>,
  signed: Signed,
  signature: string
) {
  const expected = fromHex(signature)
  if (expected === undefined) return false
  const key = yield* importKey(secret)
  return yield* Effect.promise(() => crypto.subtle.verify("HMAC", key, expected, message(signed)))
})

export const newNonce = () => toHex(crypto.getRandomValues(new Uint8Array(16)).buffer)

// The headers that sign one request.
export const signatureHeaders = Traced.fn("Signing.signatureHeaders")(function* (
  secret: Redacted.Redacted<string>,
  request: { readonly method: string; readonly pathAndQuery: string; readonly body: Uint8Array; readonly now: number }
) {
  const nonce = newNonce()
  const signature = yield* sign(secret, {
    method: request.method,
    pathAndQuery: request.pathAndQuery,
    timestamp: request.now,
    nonce,
    body: request.body
  })
  return {
    [SignatureHeaders.timestamp]: String(request.now),
    [SignatureHeaders.nonce]: nonce,
    [SignatureHeaders.signature]: signature
  }
})
