import { Effect, Layer } from "effect"
import { Catalog } from "@shop/catalog/Catalog"
import * as CatalogLive from "@shop/catalog/CatalogLive"
import * as CatalogReconciler from "@shop/catalog/CatalogReconciler"
import * as CatalogRepositorySql from "@shop/catalog/CatalogRepositorySql"
import { CatalogRpcs } from "@shop/domain/ServiceContracts"
import * as CatalogRecordCache from "./CatalogRecordCache.ts"
import * as CatalogVersion from "./CatalogVersion.ts"
import * as Clients from "./Clients.ts"
import * as D1SqlBatch from "./D1SqlBatch.ts"
import * as ImageStoreR2 from "./ImageStoreR2.ts"
import type { CatalogEnv } from "./Env.ts"
import * as ServiceWorker from "./ServiceWorker.ts"

// Catalog depends on the Inventory interface; here it is a client over the
// INVENTORY binding (or INVENTORY_URL), where memory and node give it the
// implementation itself. Uploaded product images live in the IMAGES R2
// bucket; the gateway reaches them only through this Worker's methods.
// Every write bumps the catalog version (CatalogVersion.ts, an object of the
// inventory Worker), so neither the gateway's edge cache nor this Worker's
// record cache serves a product as it was before a write that has answered.
export default ServiceWorker.make({
  name: "catalog",
  group: CatalogRpcs,
  tag: Catalog,
  layer: (env: CatalogEnv) =>
    Layer.mergeAll(
      CatalogVersion.catalog(env.CATALOG_VERSION).pipe(Layer.provide(CatalogLive.layer)),
      CatalogReconciler.layer
    ).pipe(
      // Records from the isolate's memory while the catalog version stands
      // (CatalogRecordCache.ts): a cart change re-prices without reading D1.
      Layer.provide(
        CatalogRecordCache.layer(env.CATALOG_VERSION, { ttlMillis: 60_000, maxEntries: 10_000 }).pipe(
          Layer.provide(CatalogRepositorySql.layer)
        )
      ),
      Layer.provide(D1SqlBatch.layer),
      Layer.provide(ImageStoreR2.layer(env.IMAGES)),
      Layer.provide(Clients.inventory(env.INVENTORY))
    ),
  // The Cron Trigger (wrangler.jsonc) runs the reconciliation that node runs
  // at start and every 5 minutes: stock rows a crash left unclaimed are
  // removed, variants without a stock row get one (docs/ARCHITECTURE.md,
  // "Writes that span two services' stores"). A quiet pass logs nothing.
  // An image upload by URL is up to 5 MiB of bytes, base64 in the call's JSON
  // (4/3 of it), plus the envelope.
  maxCallBytes: 8 * 1024 * 1024,
  scheduled: Effect.gen(function* () {
    const reconciler = yield* CatalogReconciler.CatalogReconciler
    const result = yield* reconciler.reconcile()
    if (result.stockCreated + result.stockRemoved > 0) {
      yield* Effect.logInfo("Reconciled the catalog with inventory").pipe(Effect.annotateLogs({ ...result }))
    }
  })
})
