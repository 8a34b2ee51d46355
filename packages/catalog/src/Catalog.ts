import { Context } from "effect"
import type { CatalogRpcs } from "@shop/domain/ServiceContracts"
import type { ServiceOf } from "@shop/domain/ServiceTransport"

// The interface of the catalog service (implementation: CatalogLive.ts).
// Its methods are the procedures of CatalogRpcs (their schemas are the single
// statement of the interface).
export class Catalog extends Context.Service<Catalog, ServiceOf<typeof CatalogRpcs>>()("@shop/catalog/Catalog") {}
