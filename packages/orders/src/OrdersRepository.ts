import { Context, type Effect, type Option } from "effect"
import type { OrderId, UserId } from "@shop/domain/Ids"
import type { Order, OrderStatus } from "@shop/domain/Orders"

// An order as stored, with the version every change is conditional on.
export interface StoredOrder {
  readonly order: Order
  readonly version: number
}

export interface OrderQuery {
  readonly userId?: UserId | undefined
  readonly status?: OrderStatus | undefined
  readonly limit: number
  readonly offset: number
}

// Where orders live: the service's SQL store (SQLite on node, D1 on
// Cloudflare) or memory. Every method is one atomic step (a single
// statement, or one synchronous update of a Map), which is what lets the
// service stay correct under concurrent calls without transactions.
export class OrdersRepository extends Context.Service<
  OrdersRepository,
  {
    // Stores a new order at version 1 unless its reservation already has
    // one: the store's unique reservation decides, so concurrent inserts for
    // one reservation leave exactly one order. Answers the reservation's
    // order either way, and whether this call stored it.
    readonly insert: (order: Order) => Effect.Effect<{ readonly stored: StoredOrder; readonly created: boolean }>
    readonly find: (orderId: OrderId) => Effect.Effect<Option.Option<StoredOrder>>
    readonly findByReservation: (reservationId: string) => Effect.Effect<Option.Option<StoredOrder>>
    // A page, newest first (createdAt, then orderId, both descending), and
    // how many orders match in all.
    readonly list: (
      query: OrderQuery
    ) => Effect.Effect<{ readonly orders: ReadonlyArray<Order>; readonly total: number }>
    // Writes what changes after creation (status, payment.refunded and
    // payment.refunds, shipments, history, updatedAt) from `order`
    // over the stored order if it is still at `version`, which then becomes
    // version + 1. False, and nothing written, when another change landed
    // first or there is no such order.
    readonly replace: (order: Order, version: number) => Effect.Effect<boolean>
  }
>()("@shop/orders/OrdersRepository") {}
