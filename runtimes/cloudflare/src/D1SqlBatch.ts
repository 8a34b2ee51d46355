import { Effect, Layer } from "effect"
import * as D1Client from "@effect/sql-d1/D1Client"
import { SqlBatch } from "@shop/domain/SqlBatch"

// SqlBatch on D1, which has no interactive transactions: the statements go in
// one `db.batch(...)`, which D1 runs atomically (all apply or none). The
// client compiles each statement (`statement.compile()`) and binds it to a
// prepared D1 statement, and answers each statement's rows in order. Same
// effect as SqlBatch.layerTransaction on SQLite.
export const layer = Layer.effect(
  SqlBatch,
  Effect.gen(function* () {
    const d1 = yield* D1Client.D1Client
    return SqlBatch.of({
      run: (statements) => d1.batch(statements)
    })
  })
)
