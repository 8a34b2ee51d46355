import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option, Tracer } from "effect"
import * as Traced from "../src/Traced.ts"

class Boom extends Error {}

const inner = Traced.fn("Inner.run")(function* (n: number) {
  const span = yield* Effect.currentSpan
  return { n, span }
})
const outer = Traced.fn("Outer.run")(function* (n: number) {
  return yield* inner(n + 1)
})
const failing = Traced.fn("Failing.run")(function* () {
  return yield* Effect.die(new Boom("boom"))
})

// Counts writes of Error.stackTraceLimit, which both Effect.fn and
// Effect.withSpan make around every stack they capture.
const stackCaptures = <A>(run: () => A): { result: A; captures: number } => {
  const descriptor = Object.getOwnPropertyDescriptor(Error, "stackTraceLimit")
  let value = (Error as { stackTraceLimit?: number }).stackTraceLimit
  let captures = 0
  Object.defineProperty(Error, "stackTraceLimit", {
    configurable: true,
    get: () => value,
    set: (next) => {
      captures++
      value = next
    }
  })
  try {
    return { result: run(), captures }
  } finally {
    if (descriptor !== undefined) Object.defineProperty(Error, "stackTraceLimit", descriptor)
  }
}

describe("Traced.fn", () => {
  it.effect("opens a span named after the method, a child of its caller's", () =>
    Effect.gen(function* () {
      const { n, span } = yield* outer(1)
      assert.strictEqual(n, 2)
      assert.strictEqual(span.name, "Inner.run")
      const parent = Option.getOrUndefined(span.parent)
      assert.isTrue(parent !== undefined && parent._tag === "Span")
      assert.strictEqual((parent as Tracer.Span).name, "Outer.run")
    })
  )

  it.effect("wraps the pipeables in the span too, as Effect.fn does", () =>
    Effect.gen(function* () {
      const piped = Traced.fn("Piped.run")(
        function* () {
          return 1
        },
        (effect) => Effect.flatMap(effect, () => Effect.currentSpan)
      )
      const span = yield* piped()
      assert.strictEqual(span.name, "Piped.run")
    })
  )

  it.effect("renders a failure with the method's name and where it is defined", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(failing())
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const rendered = Cause.pretty(exit.cause)
        assert.include(rendered, "Failing.run")
        assert.include(rendered, "Traced.test.ts")
      }
    })
  )

  it("captures no stack per call, where Effect.fn captures one per call", () => {
    const traced = Traced.fn("Cheap.run")(function* (n: number) {
      return n
    })
    const effectFn = Effect.fn("Costly.run")(function* (n: number) {
      return n
    })
    const cheap = stackCaptures(() => Array.from({ length: 10 }, (_, i) => traced(i)))
    const costly = stackCaptures(() => Array.from({ length: 10 }, (_, i) => effectFn(i)))
    assert.strictEqual(cheap.captures, 0)
    assert.isAtLeast(costly.captures, 10)
    assert.deepStrictEqual(Effect.runSync(Effect.all(cheap.result)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })
})
