import { Context } from "effect"
import type { OrdersRpcs } from "@shop/domain/ServiceContracts"
import type { ServiceOf } from "@shop/domain/ServiceTransport"

// The interface of the orders service (implementation: OrdersLive.ts): the
// record of every sale and its state machine. Its methods are the procedures
// of OrdersRpcs.
export class Orders extends Context.Service<Orders, ServiceOf<typeof OrdersRpcs>>()("@shop/orders/Orders") {}
