import { assert, describe, it } from "@effect/vitest"
import { refusal, routeOf } from "../src/CartRouting.ts"

// The routing both doors to a cart's Durable Object share: the cart Worker's
// entrypoint and the gateway's Durable Object client (Transports.cartObjects).

const cartId = `cart_${"c".repeat(24)}`
const other = `cart_${"d".repeat(24)}`
const request = (payload: unknown) => ({ _tag: "Request", id: "1", tag: "get", payload, headers: [] })

describe("CartRouting", () => {
  it("routes an exchange to the cart its requests name", () => {
    assert.deepStrictEqual(routeOf([request({ cartId, caller: null }), { _tag: "Eof" }]), { cartId })
  })

  it("refuses what has no single well-formed cart", () => {
    assert.deepStrictEqual(routeOf("nope"), { problem: "Malformed RPC messages" })
    assert.deepStrictEqual(routeOf([42]), { problem: "Malformed RPC messages" })
    assert.deepStrictEqual(routeOf([]), { problem: "An exchange must carry a cart call" })
    assert.deepStrictEqual(routeOf([request({ cartId: "../x" })]), {
      problem: "A cart call must name a well-formed cart id"
    })
    assert.deepStrictEqual(routeOf([request({ cartId }), request({ cartId: other })]), {
      problem: "An exchange must be for one cart"
    })
  })

  it("answers a refusal as a Defect, which the caller's client reads as a failed call", () => {
    assert.deepStrictEqual(refusal("why"), [{ _tag: "Defect", defect: "why" }])
  })
})
