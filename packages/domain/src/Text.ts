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

export const PlainString = Schema.String.pipe(Schema.check(isPlainText))

// Plain text of a bounded length, the shape of most input fields.
export const BoundedText = (min: number, max: number) =>
  PlainString.pipe(Schema.check(Schema.isBetweenLength(min, max)))
