import { Schema } from "effect"

// Text a client may store: well-formed Unicode (no lone surrogate halves, which
// SQLite would turn into U+FFFD while memory keeps them, and TextEncoder would
// silently replace in passwords) and no control characters other than tab,
// line feed and carriage return (a NUL in a title is never intended).
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const control = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/

export const isPlainText = Schema.makeFilter<string>(
  (text) =>
    loneSurrogate.test(text)
      ? "must be well-formed Unicode text"
      : control.test(text)
        ? "must not contain control characters"
        : undefined,
  { expected: "well-formed text without control characters" }
)

// JSON Schema has no keyword for this rule, so the document states it in words.
export const plainTextRule =
  "Plain text: well-formed Unicode (no lone surrogates), no control characters other than tab, line feed and carriage return."

// Plain text, described: the rule goes into the field's description, set on
// the string itself (before the checks) so the JSON Schema stays flat.
export const plainText = (annotations: { readonly description?: string; readonly format?: string } = {}) =>
  Schema.String.annotate({
    ...annotations,
    description: annotations.description === undefined ? plainTextRule : `${annotations.description}. ${plainTextRule}`
  }).pipe(Schema.check(isPlainText))

export const PlainString = plainText()

// Lengths count Unicode code points, as JSON Schema's minLength/maxLength do,
// so the document states exactly the bound the server checks (a UTF-16 count
// has no JSON Schema form: an emoji is one code point but two code units).

// Plain text of a bounded length, the shape of most input fields.
export const BoundedText = (min: number, max: number) =>
  PlainString.pipe(
    Schema.check(Schema.isBetweenCodePoints(min, max, { toJsonSchema: () => ({ minLength: min, maxLength: max }) }))
  )

// Plain text of at most `max` code points (empty allowed).
export const MaxText = (max: number) => PlainString.pipe(Schema.check(Schema.isMaxCodePoints(max)))

// Every instant the API shows: ISO 8601 in UTC, from the services' Clock.
export const Timestamp = Schema.String.annotate({ format: "date-time", description: "ISO 8601 instant (UTC)" })
