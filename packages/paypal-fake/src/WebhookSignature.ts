// How the fake PayPal signs the webhook events it sends, and checks them when
// asked through /v1/notifications/verify-webhook-signature.
//
// Real PayPal signs `<transmission id>|<transmission time>|<webhook id>|<CRC32
// of the body>` with its RSA key (auth algo SHA256withRSA) and publishes the
// certificate at the PAYPAL-CERT-URL. The fake keeps the same headers and the
// same shape of signed text, but signs with HMAC-SHA-256 and a secret shared
// with nobody but itself (auth algo "HMACSHA256"), over the SHA-256 of the
// body rather than its CRC32, which anyone can forge. Like the real thing,
// the receiver never checks the signature itself: it asks the fake through
// the verification endpoint, so the provider's code is the same for both.
//
// The body is `JSON.stringify(event)`. The verification endpoint receives the
// event parsed inside its request and serializes it again: for text that
// JSON.stringify produced, that gives back the same bytes.

export const authAlgo = "HMACSHA256"

const encoder = new TextEncoder()

const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("")

const base64 = (bytes: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(bytes)))

const signedText = async (input: {
  readonly transmissionId: string
  readonly transmissionTime: string
  readonly webhookId: string
  readonly body: string
}) => {
  const digest = hex(await crypto.subtle.digest("SHA-256", encoder.encode(input.body)))
  return `${input.transmissionId}|${input.transmissionTime}|${input.webhookId}|${digest}`
}

// A fake has one secret for its life, so the last key imported is kept:
// importing it again for every sign and verify cost more than the HMAC.
let lastKey: { readonly secret: string; readonly key: Promise<CryptoKey> } | undefined

const hmacKey = (secret: string) => {
  if (lastKey?.secret !== secret) {
    const key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify"
    ])
    lastKey = { secret, key }
    key.catch(() => {
      if (lastKey?.key === key) lastKey = undefined
    })
  }
  return lastKey.key
}

/** The signature header value (base64) for one transmission of `body`. */
export const sign = async (input: {
  readonly secret: string
  readonly transmissionId: string
  readonly transmissionTime: string
  readonly webhookId: string
  readonly body: string
}): Promise<string> =>
  base64(await crypto.subtle.sign("HMAC", await hmacKey(input.secret), encoder.encode(await signedText(input))))

/** Whether `signature` is the fake's signature of this transmission; constant-time through WebCrypto. */
export const verify = async (input: {
  readonly secret: string
  readonly transmissionId: string
  readonly transmissionTime: string
  readonly webhookId: string
  readonly body: string
  readonly signature: string
}): Promise<boolean> => {
  let signature: Uint8Array<ArrayBuffer>
  try {
    signature = Uint8Array.from(atob(input.signature), (c) => c.charCodeAt(0))
  } catch {
    return false
  }
  return crypto.subtle.verify("HMAC", await hmacKey(input.secret), signature, encoder.encode(await signedText(input)))
}
