import { Clock, Context, Duration, Effect, Exit, Layer, Schedule } from "effect"
import type { Payment } from "@shop/domain/Payments"
import * as Traced from "@shop/domain/Traced"
import { Payments } from "@shop/payments/Payments"
import { CartConfig } from "./CartConfig.ts"
import { Carts } from "./Carts.ts"

// Checkouts left half-way (docs/CHECKOUT.md, "Reconciliation"): a browser
// that never came back from PayPal, a capture whose answer was lost, a crash
// or an unreachable orders service between the capture and the order. Every
// unsettled payment older than the grace period goes through the same
// capture as the buyer's (as the shop, caller null), which is idempotent
// step by step and settles the payment once it is done with: the order
// exists, or nothing is kept (never charged, or refunded). A payment whose
// buyer has not approved yet and whose hold is still active is left as it is.
// It works through the Carts and Payments interfaces only, so it runs the
// same in process (memory, node) and from a Worker's Cron Trigger.

export interface ReconcileOptions {
  // Payments younger than this are left alone: their buyer is probably at
  // PayPal right now, and their own capture is on its way.
  readonly grace?: Duration.Input
}

export interface ReconcileResult {
  // Payments visited.
  readonly visited: number
  // Captured, or found captured, and their order made (or found).
  readonly completed: number
  // Given up: nothing charged, or the money given back.
  readonly abandoned: number
  // Left for a later pass: not approved yet, declined, or a step failed.
  readonly pending: number
}

export class CheckoutReconciler extends Context.Service<
  CheckoutReconciler,
  { readonly reconcile: (options?: ReconcileOptions) => Effect.Effect<ReconcileResult> }
>()("@shop/cart/CheckoutReconciler") {}

// Short of the hold's 15 minutes, so that an approved payment whose buyer
// never came back is still captured while its stock is held.
export const defaultGrace = Duration.minutes(2)

const pageSize = 100
// Pages per pass: a pass is bounded whatever it meets; the next continues.
const maxPages = 20

// Outcomes that end a checkout: the payment is settled by them.
const ending = new Set(["HoldExpired", "PaymentFailed", "CouponExhausted"])

/** Reconciliation of checkouts; needs Carts and Payments. */
export const layer = Layer.effect(
  CheckoutReconciler,
  Effect.gen(function* () {
    const carts = yield* Carts
    const payments = yield* Payments

    const visit = (payment: Payment) =>
      Effect.exit(carts.capture({ cartId: payment.cartId, paymentId: payment.paymentId, caller: null })).pipe(
        Effect.flatMap((exit): Effect.Effect<"completed" | "abandoned" | "pending"> => {
          if (Exit.isSuccess(exit)) return Effect.succeed("completed")
          const reason = exit.cause.reasons[0]
          const tag =
            reason !== undefined && reason._tag === "Fail"
              ? (reason.error as { readonly _tag: string })._tag
              : undefined
          if (tag !== undefined && ending.has(tag)) return Effect.succeed("abandoned")
          // Not approved yet, or declined: the buyer's move.
          if (tag === "PaymentNotApproved" || tag === "PaymentDeclined") return Effect.succeed("pending")
          const log = payment.captures.length > 0 ? Effect.logError : Effect.logWarning
          return log("A checkout could not be reconciled yet; the next pass repeats it", exit.cause).pipe(
            Effect.annotateLogs({ paymentId: payment.paymentId, status: payment.status, createdAt: payment.createdAt }),
            Effect.as("pending" as const)
          )
        })
      )

    const reconcile = Traced.fn("Checkout.reconcile")(function* (options?: ReconcileOptions) {
      const now = yield* Clock.currentTimeMillis
      const createdBefore = new Date(now - Duration.toMillis(options?.grace ?? defaultGrace)).toISOString()
      const totals = { visited: 0, completed: 0, abandoned: 0, pending: 0 }
      // Oldest first: what stays unsettled (a buyer still at PayPal) is the
      // newest, so a page that settles nothing means the rest waits too.
      for (let page = 0; page < maxPages; page++) {
        const unsettled = yield* payments.listUnsettled({ createdBefore, limit: pageSize })
        const outcomes = yield* Effect.forEach(unsettled, visit, { concurrency: 4 })
        let settled = 0
        for (const outcome of outcomes) {
          totals[outcome]++
          if (outcome !== "pending") settled++
        }
        totals.visited += unsettled.length
        if (unsettled.length < pageSize || settled === 0) break
      }
      return totals
    })

    return CheckoutReconciler.of({ reconcile })
  })
)

/**
 * Runs the reconciliation at once and then every `every` on the Clock, for
 * the runtimes that are one long-lived process (memory, node); a Worker runs
 * it from a Cron Trigger. A failed pass is logged and the next runs as usual.
 * Needs CheckoutReconciler.
 */
export const layerSchedule = (options: { readonly every: Duration.Input; readonly grace?: Duration.Input }) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const reconciler = yield* CheckoutReconciler
      const pass = reconciler.reconcile(options.grace === undefined ? {} : { grace: options.grace }).pipe(
        Effect.tap((result) =>
          result.visited > 0
            ? Effect.logInfo("Reconciled checkouts").pipe(Effect.annotateLogs({ ...result }))
            : Effect.void
        ),
        Effect.catchCause((cause) => Effect.logError("Reconciling checkouts failed", cause))
      )
      yield* Effect.forkScoped(Effect.repeat(pass, Schedule.spaced(options.every)))
    })
  )

/**
 * The schedule of one long-lived process: a pass at start, then every
 * min(60 s, max(grace, 5 s)), with CHECKOUT_RECONCILE_GRACE_SECONDS
 * (CartConfig) as the grace. Needs CheckoutReconciler and CartConfig.
 */
export const layerScheduleConfig = Layer.unwrap(
  Effect.gen(function* () {
    const config = yield* CartConfig
    return layerSchedule({
      every: Duration.seconds(Math.min(60, Math.max(config.reconcileGraceSeconds, 5))),
      grace: Duration.seconds(config.reconcileGraceSeconds)
    })
  })
)
