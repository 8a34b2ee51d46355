import { Effect, Layer, Option } from "effect"
import type { Order } from "@shop/domain/Orders"
import { OrdersRepository, type StoredOrder } from "./OrdersRepository.ts"

// Newest first: createdAt, then orderId (ids sort in creation order), both
// descending, as the SQL store orders them.
const newestFirst = (a: Order, b: Order) => {
  const byTime = Date.parse(b.createdAt) - Date.parse(a.createdAt)
  if (byTime !== 0) return byTime
  return a.orderId < b.orderId ? 1 : a.orderId > b.orderId ? -1 : 0
}

// Each method is one synchronous step inside Effect.sync, which is what makes
// it atomic under concurrent fibers.
export const layer = Layer.sync(OrdersRepository, () => {
  const orders = new Map<string, StoredOrder>()
  const byReservation = new Map<string, string>()
  const findByReservation = (reservationId: string) => {
    const orderId = byReservation.get(reservationId)
    return orderId === undefined ? undefined : orders.get(orderId)
  }
  return OrdersRepository.of({
    insert: (order) =>
      Effect.sync(() => {
        const existing = findByReservation(order.reservationId)
        if (existing !== undefined) return { stored: existing, created: false }
        const stored = { order, version: 1 }
        orders.set(order.orderId, stored)
        byReservation.set(order.reservationId, order.orderId)
        return { stored, created: true }
      }),
    find: (orderId) => Effect.sync(() => Option.fromNullishOr(orders.get(orderId))),
    findByReservation: (reservationId) => Effect.sync(() => Option.fromNullishOr(findByReservation(reservationId))),
    list: (query) =>
      Effect.sync(() => {
        const matching = Array.from(orders.values(), (stored) => stored.order)
          .filter(
            (order) =>
              (query.userId === undefined || order.userId === query.userId) &&
              (query.status === undefined || order.status === query.status)
          )
          .sort(newestFirst)
        return { orders: matching.slice(query.offset, query.offset + query.limit), total: matching.length }
      }),
    replace: (order, version) =>
      Effect.sync(() => {
        const current = orders.get(order.orderId)
        if (current === undefined || current.version !== version) return false
        // Only what changes after creation is taken from `order`, as the SQL
        // store does.
        orders.set(order.orderId, {
          order: {
            ...current.order,
            status: order.status,
            payment: { ...current.order.payment, refunded: order.payment.refunded, refunds: order.payment.refunds },
            shipments: order.shipments,
            history: order.history,
            updatedAt: order.updatedAt
          },
          version: version + 1
        })
        return true
      })
  })
})
