import { Context, Effect, Layer } from "effect"
import { SqlClient, type SqlError, type Statement } from "effect/sql"

// Runs a group of statements as one atomic unit. D1 has no interactive
// transactions, so repositories never call `withTransaction` themselves: they
// hand the whole group to this service, which each runtime implements with
// what its database offers (a transaction on SQLite, a batch on D1). Both give
// the same effect: all statements apply, or none. Each statement's rows come
// back in order (both stores answer them), so a group may end with a read of
// what it wrote, seen inside the same atomic unit, at no extra round trip.
export class SqlBatch extends Context.Service<
  SqlBatch,
  {
    readonly run: (
      statements: ReadonlyArray<Statement.Statement<unknown>>
    ) => Effect.Effect<ReadonlyArray<ReadonlyArray<unknown>>, SqlError.SqlError>
  }
>()("@shop/domain/SqlBatch") {
  static readonly layerTransaction = Layer.effect(
    SqlBatch,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      return SqlBatch.of({
        run: (statements) => sql.withTransaction(Effect.forEach(statements, (statement) => statement))
      })
    })
  )
}

// D1 refuses a statement with more than 100 bound parameters. Repositories
// that build one statement from a list split the list with `chunk` so that
// every store, SQLite included, runs the same statements.
export const maxSqlParameters = 100

export const chunk = <A>(items: ReadonlyArray<A>, size: number): Array<Array<A>> => {
  const out: Array<Array<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
