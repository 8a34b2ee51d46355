import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Schema } from "effect"
import type { RpcGroup, RpcMessage } from "effect/rpc"
import { VariantNotFound } from "@shop/domain/Errors"
import { VariantId } from "@shop/domain/Ids"
import { InventoryRpcs } from "@shop/domain/ServiceContracts"
import { type Implementation, isServiceUnreachable, layerHandlers, makeClient } from "@shop/domain/ServiceTransport"
import * as RpcExchange from "../src/RpcExchange.ts"

// The exchange protocol without Workers: client and server in one process,
// with every message passed through JSON as a binding or HTTP would.

const known = Schema.decodeSync(VariantId)("var_known")
const boom = Schema.decodeSync(VariantId)("var_boom")

const inventory: Implementation<RpcGroup.Rpcs<typeof InventoryRpcs>> = {
  get: ({ variantId }) =>
    variantId === boom
      ? Effect.die(new Error("the store broke"))
      : variantId === known
        ? Effect.succeed({ variantId, stock: 5, reserved: 1, available: 4 })
        : Effect.fail(new VariantNotFound({})),
  set: ({ variantId, stock }) => Effect.succeed({ variantId, stock, reserved: 0, available: stock }),
  adjust: ({ variantId, delta }) => Effect.succeed({ variantId, stock: delta, reserved: 0, available: delta }),
  availability: ({ variantIds }) => Effect.succeed(variantIds.map((variantId) => ({ variantId, available: 0 }))),
  initialize: () => Effect.void,
  remove: () => Effect.void,
  missing: () => Effect.succeed({ variantIds: [] }),
  stockRows: () => Effect.succeed([]),
  // Holds are not what these tests exercise: the protocol is.
  reserve: () => Effect.die(new Error("not used by these tests")),
  commit: () => Effect.die(new Error("not used by these tests")),
  release: () => Effect.die(new Error("not used by these tests")),
  getHold: () => Effect.die(new Error("not used by these tests")),
  restock: () => Effect.die(new Error("not used by these tests")),
  expireHolds: () => Effect.succeed({ expired: 0 })
}

const json = <A>(a: A): A => JSON.parse(JSON.stringify(a))

const connect = (exchangeFails = false, garbled?: unknown) =>
  Effect.gen(function* () {
    const serve = yield* RpcExchange.makeServer(InventoryRpcs, "InventoryServer").pipe(
      Effect.provide(layerHandlers(InventoryRpcs, "Inventory", inventory))
    )
    const exchange: RpcExchange.Exchange = (messages: ReadonlyArray<RpcMessage.FromClientEncoded>) =>
      exchangeFails
        ? Effect.fail(new Error("binding gone"))
        : garbled !== undefined
          ? // A URL that answers 200 with other JSON than RPC responses.
            Effect.succeed(garbled as ReadonlyArray<RpcMessage.FromServerEncoded>)
          : Effect.map(serve(json(messages)), json)
    return yield* makeClient(InventoryRpcs, "Inventory").pipe(
      Effect.provide(RpcExchange.layerClient("inventory", exchange))
    )
  })

describe("RpcExchange", () => {
  it.effect("answers with the decoded success", () =>
    Effect.gen(function* () {
      const client = yield* connect()
      const level = yield* client.get({ variantId: known })
      assert.deepStrictEqual(level, { variantId: known, stock: 5, reserved: 1, available: 4 })
    })
  )

  it.effect("gives a typed failure back as an instance of its class", () =>
    Effect.gen(function* () {
      const client = yield* connect()
      const error = yield* Effect.flip(client.get({ variantId: Schema.decodeSync(VariantId)("var_unknown") }))
      assert.instanceOf(error, VariantNotFound)
    })
  )

  it.effect("gives a handler's defect back as that call's defect, and the next call still works", () =>
    Effect.gen(function* () {
      const client = yield* connect()
      const exit = yield* Effect.exit(client.get({ variantId: boom }))
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
      assert.isFalse(Exit.isFailure(exit) && isServiceUnreachable(Cause.squash(exit.cause)))
      assert.strictEqual((yield* client.get({ variantId: known })).stock, 5)
    })
  )

  it.effect("answers concurrent calls, each with its own result", () =>
    Effect.gen(function* () {
      const client = yield* connect()
      const ids = Array.from({ length: 20 }, (_, i) => Schema.decodeSync(VariantId)(`var_${i}`))
      const levels = yield* Effect.forEach(ids, (variantId, i) => client.set({ variantId, stock: i }), {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(
        levels.map((level) => level.stock),
        ids.map((_, i) => i)
      )
    })
  )

  it.effect("turns a failed exchange into the ServiceUnreachable defect", () =>
    Effect.gen(function* () {
      const client = yield* connect(true)
      const exit = yield* Effect.exit(client.get({ variantId: known }))
      assert.isTrue(Exit.isFailure(exit) && isServiceUnreachable(Cause.squash(exit.cause)))
    })
  )

  it.effect("turns a reply that is not RPC responses into the ServiceUnreachable defect (502, not 500)", () =>
    Effect.gen(function* () {
      for (const garbled of [{ error: "x" }, "oops", null, [{ _tag: "Pong" }]]) {
        const client = yield* connect(false, garbled)
        const exit = yield* Effect.exit(client.get({ variantId: known }))
        assert.isTrue(Exit.isFailure(exit) && isServiceUnreachable(Cause.squash(exit.cause)), JSON.stringify(garbled))
      }
    })
  )

  it.effect("answers a malformed exchange with a defect", () =>
    Effect.gen(function* () {
      const serve = yield* RpcExchange.makeServer(InventoryRpcs, "InventoryServer").pipe(
        Effect.provide(layerHandlers(InventoryRpcs, "Inventory", inventory))
      )
      const answer = yield* serve({ not: "a list" })
      assert.strictEqual(answer[0]?._tag, "Defect")
    })
  )
})
