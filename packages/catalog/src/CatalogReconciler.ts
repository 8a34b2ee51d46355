import { Clock, Context, Duration, Effect, Layer, Schedule } from "effect"
import type { VariantId } from "@shop/domain/Ids"
import * as Traced from "@shop/domain/Traced"
import { Inventory } from "@shop/inventory/Inventory"
import { CatalogRepository } from "./CatalogRepository.ts"

// The catalog and inventory keep their data in two stores (two SQLite files on
// node, two D1 databases on Workers), so a product create or delete is two
// writes with no transaction around them, and a process can die between them.
// CatalogLive orders the writes so that every crash point leaves only stock
// rows that no variant claims (harmless: nothing reaches them). This pass
// removes those, and also gives a stock row (stock 0) to any variant that
// lacks one, which is what the older order left behind (and what a sweep that
// raced a create stalled past the grace period would leave). It works through
// the Inventory interface only, so it runs the same in-process and between
// Workers.

export interface ReconcileOptions {
  // A stock row written less than this long ago is never removed: it may
  // belong to a product whose create is between its two writes right now.
  readonly grace?: Duration.Input
}

export interface ReconcileResult {
  // Variants that had no stock row and now have one (stock 0).
  readonly stockCreated: number
  // Stock rows that no variant claimed, older than the grace period, removed.
  readonly stockRemoved: number
}

export class CatalogReconciler extends Context.Service<
  CatalogReconciler,
  { readonly reconcile: (options?: ReconcileOptions) => Effect.Effect<ReconcileResult> }
>()("@shop/catalog/CatalogReconciler") {}

// A create's two writes take milliseconds; ten minutes leaves room for a
// process that stalls between them without keeping orphans around for long.
export const defaultGrace = Duration.minutes(10)

// Rows per call: within D1's 100 bound parameters for the reads it causes.
const pageSize = 100

/** The reconciliation over the catalog's store; needs CatalogRepository and Inventory. */
export const layer = Layer.effect(
  CatalogReconciler,
  Effect.gen(function* () {
    const repo = yield* CatalogRepository
    const inventory = yield* Inventory

    // Stock rows no variant claims. Rows are judged by their last write on
    // inventory's Clock against this service's Clock; the grace period is far
    // longer than any skew between the two.
    const sweepOrphans = Traced.fn("Catalog.sweepOrphanStock")(function* (grace: Duration.Input) {
      const cutoff = (yield* Clock.currentTimeMillis) - Duration.toMillis(grace)
      let after: VariantId | undefined
      let removed = 0
      for (;;) {
        const rows = yield* inventory.stockRows(after === undefined ? { limit: pageSize } : { after, limit: pageSize })
        const idle = rows.filter((row) => row.updatedAt <= cutoff).map((row) => row.variantId)
        if (idle.length > 0) {
          const claimed = new Set(yield* repo.existingVariants(idle))
          const orphans = idle.filter((variantId) => !claimed.has(variantId))
          if (orphans.length > 0) {
            yield* inventory.remove({ variantIds: orphans })
            yield* Effect.logWarning("Removed stock rows that no variant claims").pipe(
              Effect.annotateLogs({ variantIds: orphans })
            )
            removed += orphans.length
          }
        }
        if (rows.length < pageSize) return removed
        after = rows[rows.length - 1]!.variantId
      }
    })

    // Variants without a stock row get one with stock 0, so that an admin can
    // set their stock (`set` answers variant_not_found without a row).
    // `initialize` leaves a row that exists meanwhile as it is.
    const repairMissing = Traced.fn("Catalog.repairMissingStock")(function* () {
      let after: VariantId | undefined
      let created = 0
      for (;;) {
        const variantIds = yield* repo.variantIds(after, pageSize)
        if (variantIds.length === 0) return created
        const missing = (yield* inventory.missing({ variantIds })).variantIds
        if (missing.length > 0) {
          yield* inventory.initialize({ levels: missing.map((variantId) => ({ variantId, stock: 0 })) })
          yield* Effect.logWarning("Created the missing stock rows of variants").pipe(
            Effect.annotateLogs({ variantIds: missing })
          )
          created += missing.length
        }
        if (variantIds.length < pageSize) return created
        after = variantIds[variantIds.length - 1]
      }
    })

    // The sweep runs first: if it raced a create stalled past the grace
    // period and took its rows, the repair in the same pass gives them back.
    const reconcile = Traced.fn("Catalog.reconcile")(function* (options?: ReconcileOptions) {
      const stockRemoved = yield* sweepOrphans(options?.grace ?? defaultGrace)
      const stockCreated = yield* repairMissing()
      return { stockCreated, stockRemoved }
    })

    return CatalogReconciler.of({ reconcile })
  })
)

/**
 * Runs the reconciliation at once and then every `every` on the Clock, for the
 * runtimes that are one long-lived process (memory, node); a Worker runs it
 * from a Cron Trigger. A failed pass is logged and the next runs as usual.
 * Needs CatalogReconciler.
 */
export const layerSchedule = (options: { readonly every: Duration.Input; readonly grace?: Duration.Input }) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const reconciler = yield* CatalogReconciler
      const pass = reconciler.reconcile(options.grace === undefined ? {} : { grace: options.grace }).pipe(
        Effect.tap((result) =>
          result.stockCreated + result.stockRemoved > 0
            ? Effect.logInfo("Reconciled the catalog with inventory").pipe(Effect.annotateLogs({ ...result }))
            : Effect.void
        ),
        Effect.catchCause((cause) => Effect.logError("Reconciling the catalog with inventory failed", cause))
      )
      yield* Effect.forkScoped(Effect.repeat(pass, Schedule.spaced(options.every)))
    })
  )
