import { Effect } from "effect"
import * as Traced from "@shop/domain/Traced"

// Stored form: `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`. Keeping the
// parameters beside the hash lets the iteration count be raised later without
// invalidating existing passwords.
const scheme = "pbkdf2-sha256"
const keyBits = 256

const toBase64 = (bytes: Uint8Array): string => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

const fromBase64 = (text: string): Uint8Array => {
  const binary = atob(text)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

const derive = (password: string, salt: Uint8Array, iterations: number) =>
  Effect.promise(async () => {
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
      "deriveBits"
    ])
    const bits = await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt: salt as Uint8Array<ArrayBuffer>, iterations },
      key,
      keyBits
    )
    return new Uint8Array(bits)
  })

// Compares every byte whatever the first difference, so the time taken says
// nothing about how much of the hash matched.
export const constantTimeEqual = (a: Uint8Array, b: Uint8Array): boolean => {
  let diff = a.length ^ b.length
  const length = Math.max(a.length, b.length)
  for (let i = 0; i < length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0)
  return diff === 0
}

export const hash = (password: string, salt: Uint8Array, iterations: number) =>
  Effect.map(
    derive(password, salt, iterations),
    (derived) => `${scheme}$${iterations}$${toBase64(salt)}$${toBase64(derived)}`
  )

export const verify = Traced.fn("Passwords.verify")(function* (stored: string, password: string) {
  const [name, iterationsText, saltText, hashText] = stored.split("$")
  const iterations = Number(iterationsText)
  if (name !== scheme || !Number.isInteger(iterations) || iterations <= 0 || !saltText || !hashText) {
    return false
  }
  const derived = yield* derive(password, fromBase64(saltText), iterations)
  return constantTimeEqual(derived, fromBase64(hashText))
})
