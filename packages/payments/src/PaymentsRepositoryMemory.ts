import { Effect, Layer, Option } from "effect"
import { PaymentsRepository, type StoredPayment } from "./PaymentsRepository.ts"

// Each method is one synchronous step inside Effect.sync, which is what makes
// it atomic under concurrent fibers.
export const layer = Layer.sync(PaymentsRepository, () => {
  const payments = new Map<string, StoredPayment>()
  const byReservation = new Map<string, string>()
  const byProviderOrder = new Map<string, string>()
  const events = new Set<string>()
  const via = (index: Map<string, string>, key: string) => {
    const paymentId = index.get(key)
    return Option.fromNullishOr(paymentId === undefined ? undefined : payments.get(paymentId))
  }
  return PaymentsRepository.of({
    insert: (payment) =>
      Effect.sync(() => {
        const existing = via(byReservation, payment.reservationId)
        if (Option.isSome(existing)) return { stored: existing.value, created: false }
        // As the SQL store's UNIQUE does: one provider order is one payment.
        if (byProviderOrder.has(payment.providerOrderId)) {
          throw new Error(`Provider order ${payment.providerOrderId} already belongs to another payment`)
        }
        const stored = { payment, version: 1 }
        payments.set(payment.paymentId, stored)
        byReservation.set(payment.reservationId, payment.paymentId)
        byProviderOrder.set(payment.providerOrderId, payment.paymentId)
        return { stored, created: true }
      }),
    find: (paymentId) => Effect.sync(() => Option.fromNullishOr(payments.get(paymentId))),
    findByReservation: (reservationId) => Effect.sync(() => via(byReservation, reservationId)),
    findByProviderOrder: (providerOrderId) => Effect.sync(() => via(byProviderOrder, providerOrderId)),
    replace: (payment, version) =>
      Effect.sync(() => {
        const current = payments.get(payment.paymentId)
        if (current === undefined || current.version !== version) return false
        // Only what changes after creation is taken from `payment`, as the SQL
        // store does.
        const { failure: _, settledAt: __, orderId: ___, ...rest } = current.payment
        payments.set(payment.paymentId, {
          payment: {
            ...rest,
            status: payment.status,
            captures: payment.captures,
            refunds: payment.refunds,
            ...(payment.failure !== undefined ? { failure: payment.failure } : {}),
            ...(payment.settledAt !== undefined ? { settledAt: payment.settledAt } : {}),
            ...(payment.orderId !== undefined ? { orderId: payment.orderId } : {}),
            updatedAt: payment.updatedAt
          },
          version: version + 1
        })
        return true
      }),
    settle: (paymentId, orderId, at) =>
      Effect.sync(() => {
        const current = payments.get(paymentId)
        if (current === undefined || current.payment.settledAt !== undefined) return Option.fromNullishOr(current)
        const iso = new Date(at).toISOString()
        const next: StoredPayment = {
          payment: {
            ...current.payment,
            settledAt: iso,
            ...(orderId !== undefined ? { orderId } : {}),
            updatedAt: iso
          },
          version: current.version + 1
        }
        payments.set(paymentId, next)
        return Option.some(next)
      }),
    listUnsettled: (createdBeforeMillis, limit) =>
      Effect.sync(() =>
        [...payments.values()]
          .map(({ payment }) => payment)
          .filter((payment) => payment.settledAt === undefined && Date.parse(payment.createdAt) < createdBeforeMillis)
          .sort((a, b) => {
            const byTime = Date.parse(a.createdAt) - Date.parse(b.createdAt)
            return byTime !== 0 ? byTime : a.paymentId < b.paymentId ? -1 : a.paymentId > b.paymentId ? 1 : 0
          })
          .slice(0, limit)
      ),
    recordEvent: (eventId) =>
      Effect.sync(() => {
        if (events.has(eventId)) return false
        events.add(eventId)
        return true
      })
  })
})
