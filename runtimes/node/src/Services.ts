import { Layer } from "effect"
import * as AuthLive from "@shop/auth/AuthLive"
import * as AuthRepositorySql from "@shop/auth/AuthRepositorySql"
import * as CartLive from "@shop/cart/CartLive"
import { CartWriter } from "@shop/cart/CartStore"
import * as CartStoreSql from "@shop/cart/CartStoreSql"
import * as CheckoutReconciler from "@shop/cart/CheckoutReconciler"
import { IdGenerator } from "@shop/domain/IdGenerator"
import * as CatalogLive from "@shop/catalog/CatalogLive"
import * as CatalogReconciler from "@shop/catalog/CatalogReconciler"
import * as CatalogRepositoryCached from "@shop/catalog/CatalogRepositoryCached"
import * as CatalogRepositorySql from "@shop/catalog/CatalogRepositorySql"
import { SqlBatch } from "@shop/domain/SqlBatch"
import * as CouponsLive from "@shop/coupons/CouponsLive"
import * as CouponsRepositorySql from "@shop/coupons/CouponsRepositorySql"
import * as FulfillmentLive from "@shop/fulfillment/FulfillmentLive"
import * as FulfillmentRepositorySql from "@shop/fulfillment/FulfillmentRepositorySql"
import * as IdempotencyLive from "@shop/idempotency/IdempotencyLive"
import * as IdempotencyRepositorySql from "@shop/idempotency/IdempotencyRepositorySql"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import * as InventoryRepositoryCached from "@shop/inventory/InventoryRepositoryCached"
import * as InventoryRepositorySql from "@shop/inventory/InventoryRepositorySql"
import * as OrdersLive from "@shop/orders/OrdersLive"
import * as OrdersRepositorySql from "@shop/orders/OrdersRepositorySql"
import * as PaymentsLive from "@shop/payments/PaymentsLive"
import * as PaymentsRepositorySql from "@shop/payments/PaymentsRepositorySql"
import * as Paypal from "./Paypal.ts"
import * as Databases from "./Databases.ts"
import * as ImageStoreFiles from "./ImageStoreFiles.ts"

// Every service on its own SQLite file. The services are the same Layers the
// other runtimes use; each repository gets its database locally, so no
// SqlClient is ever visible to another service's layer.
//
// This process is the only writer of inventory.sqlite and every write goes
// through the one repository below, so its stock rows are kept in memory and
// dropped on every write (InventoryRepositoryCached.ts): a product page or a
// cart change reads availability without a statement, and exactly as stored.
const inventory = InventoryLive.layer.pipe(
  Layer.provide(
    InventoryRepositoryCached.layer.pipe(
      Layer.provide(InventoryRepositorySql.layer.pipe(Layer.provide(Databases.layer("inventory"))))
    )
  )
)

// This process is the only writer of the catalog file, so a product read
// cache invalidated on every write stays coherent; the TTL only bounds it.
const catalogCache = CatalogRepositoryCached.layer({ ttlMillis: 60_000, maxEntries: 10_000 })

const catalogStore = catalogCache.pipe(Layer.provide(CatalogRepositorySql.layer)).pipe(
  // Multi-statement writes run in a transaction on the catalog's own connection.
  Layer.provide(SqlBatch.layerTransaction),
  Layer.provide(Databases.layer("catalog"))
)

// Uploaded product images as files under DATA_DIR/images.
const catalog = CatalogLive.layer.pipe(
  Layer.provide(catalogStore),
  Layer.provide(ImageStoreFiles.layer),
  Layer.provide(inventory)
)

// Repairs what a crash between the catalog's and inventory's writes left, at
// start and every 5 minutes, on the same store and Inventory.
const catalogReconciler = CatalogReconciler.layerSchedule({ every: "5 minutes" }).pipe(
  Layer.provide(CatalogReconciler.layer),
  Layer.provide(catalogStore),
  Layer.provide(inventory)
)

const auth = AuthLive.layer.pipe(Layer.provide(AuthRepositorySql.layer.pipe(Layer.provide(Databases.layer("auth")))))

const fulfillment = FulfillmentLive.layer.pipe(
  Layer.provide(FulfillmentRepositorySql.layer.pipe(Layer.provide(Databases.layer("fulfillment"))))
)

const coupons = CouponsLive.layer.pipe(
  Layer.provide(CouponsRepositorySql.layer.pipe(Layer.provide(Databases.layer("coupons"))))
)

// Idempotency-Key records, with the hourly sweep of expired ones.
const idempotency = IdempotencyLive.layerSweeper.pipe(
  Layer.provideMerge(IdempotencyLive.layer),
  Layer.provide(IdempotencyRepositorySql.layer.pipe(Layer.provide(Databases.layer("idempotency"))))
)

// Payments over PayPal, or over the fake PayPal on loopback when no
// credentials are set (Paypal.ts).
const payments = PaymentsLive.layer.pipe(
  Layer.provide(PaymentsRepositorySql.layer.pipe(Layer.provide(Databases.layer("payments")))),
  Layer.provide(Paypal.layer)
)

// Orders refund through payments and restock through inventory when cancelled.
const orders = OrdersLive.layer.pipe(
  Layer.provide(OrdersRepositorySql.layer.pipe(Layer.provide(Databases.layer("orders")))),
  Layer.provide(Layer.mergeAll(payments, inventory))
)

// Returns the stock of expired holds every min(HOLD_TTL_SECONDS, 30 s), on the same Inventory.
const inventorySweeper = InventoryLive.layerSweeper.pipe(Layer.provide(inventory))

const services = Layer.mergeAll(
  auth,
  catalog,
  catalogReconciler,
  inventory,
  inventorySweeper,
  fulfillment,
  coupons,
  idempotency,
  payments,
  orders
)

// This process is the only one that opens cart.sqlite, and every change to a
// cart runs under its keyed writer, so the store's in-memory copy of hot carts
// cannot go stale (CartStoreSql.ts). The sweeper deletes expired rows; reads
// treat an expired cart as gone before then.
const cart = Layer.mergeAll(CartLive.layer, CartLive.layerSweeper).pipe(
  Layer.provide(Layer.mergeAll(CartStoreSql.layer.pipe(Layer.provide(Databases.layer("cart"))), CartWriter.layerKeyed)),
  // The same catalog, inventory, fulfillment, coupons, payments and orders the gateway's other routes use.
  Layer.provide(Layer.mergeAll(services, IdGenerator.layer))
)

// Settles checkouts a crash (or a buyer who never came back) left half-way:
// at start, then every min(60 s, grace) (CHECKOUT_RECONCILE_GRACE_SECONDS).
const checkoutReconciler = CheckoutReconciler.layerScheduleConfig.pipe(
  Layer.provide(CheckoutReconciler.layer),
  Layer.provide(Layer.mergeAll(cart, payments))
)

/** Auth, Catalog, Inventory, Fulfillment, Coupons, Carts, Idempotency, Payments and Orders; needs AuthConfig, CouponsConfig, CartConfig, InventoryConfig and DataDir. */
export const layer = Layer.mergeAll(cart, checkoutReconciler).pipe(Layer.provideMerge(services))
