// Small images for the upload scenarios: the first bytes of real files of
// each format (enough for the gateway to recognise them), padded to any size.

const bytes = (...parts: ReadonlyArray<string | ReadonlyArray<number>>) =>
  Uint8Array.from(
    parts.flatMap((part) => (typeof part === "string" ? Array.from(part, (c) => c.charCodeAt(0)) : Array.from(part)))
  )

const u32be = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]

// JFIF APP0 segment, then end of image.
const jpegHead = bytes([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10], "JFIF", [0, 1, 1, 0, 0, 1, 0, 1, 0, 0])
// Signature and the IHDR chunk of a 1x1 RGBA image.
const pngHead = bytes(
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  u32be(13),
  "IHDR",
  u32be(1),
  u32be(1),
  [8, 6, 0, 0, 0],
  [0x1f, 0x15, 0xc4, 0x89]
)
// RIFF container of a lossless WebP.
const webpHead = bytes("RIFF", [0x1a, 0, 0, 0], "WEBP", "VP8L", [0x0d, 0, 0, 0, 0x2f, 0, 0, 0])
// The `ftyp` box of an AVIF still image.
const avifHead = bytes(u32be(28), "ftyp", "avif", u32be(0), "avif", "mif1", "miaf")

export type SampleFormat = "jpeg" | "png" | "webp" | "avif"

export const sampleContentTypes: Record<SampleFormat, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  avif: "image/avif"
}

const heads: Record<SampleFormat, Uint8Array> = { jpeg: jpegHead, png: pngHead, webp: webpHead, avif: avifHead }

// A file of `format` of `size` bytes whose tail is `seed`-dependent, so two
// samples of one format differ (their keys and ETags differ).
export const sampleImage = (format: SampleFormat, size = 256, seed = 0) => {
  const head = heads[format]
  const out = new Uint8Array(Math.max(size, head.length))
  out.set(head)
  for (let i = head.length; i < out.length; i++) out[i] = (i * 31 + seed * 7) & 0xff
  return out
}
