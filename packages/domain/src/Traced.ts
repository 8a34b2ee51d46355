import { Effect } from "effect"

// V8 (node, workerd) reads the depth of a captured stack from here.
const V8Error: ErrorConstructor & { stackTraceLimit?: number } = Error

/**
 * A service method with its own span: `Traced.fn("Catalog.get")(function* ...)`
 * is `Effect.fn("Catalog.get")(function* ...)` without the call-site stack
 * `Effect.fn` captures on every call.
 *
 * That capture is a `new Error()` per call: 3 to 8 µs on the bench VM, and 8%
 * of the node runtime's CPU on GET product, which makes two such calls (the
 * profile of `node bench/profile.ts product`). The span, its name, its parent
 * and its timing are the same; the stack frame that errors render still names
 * the method and where it is defined (captured once, here), only not the line
 * that called it, which the parent span already tells.
 */
export const fn = (name: string): Effect.fn.Untraced => {
  // Where the method is defined: the caller of `fn`, the third line of a
  // stack of two frames ("Error", this function, its caller).
  const limit = V8Error.stackTraceLimit
  V8Error.stackTraceLimit = 2
  const definedAt = new Error()
  V8Error.stackTraceLimit = limit
  let line: string | undefined
  const captureStackTrace = () => {
    if (line === undefined) line = definedAt.stack?.split("\n")[2]?.trim()
    return line
  }
  const span = Effect.withSpan(name, undefined, { captureStackTrace })
  // The span goes last, so that it covers the body and every pipeable, as
  // `Effect.fn`'s does.
  return ((...args: ReadonlyArray<unknown>) =>
    (Effect.fnUntraced as (...all: ReadonlyArray<unknown>) => unknown)(...args, span)) as Effect.fn.Untraced
}
