import { Context } from "effect"
import type { InventoryRpcs } from "@shop/domain/ServiceContracts"
import type { ServiceOf } from "@shop/domain/ServiceTransport"

// The interface of the inventory service (implementation: InventoryLive.ts).
// Its methods are the procedures of InventoryRpcs (their schemas are the
// single statement of the interface).
export class Inventory extends Context.Service<Inventory, ServiceOf<typeof InventoryRpcs>>()(
  "@shop/inventory/Inventory"
) {}
