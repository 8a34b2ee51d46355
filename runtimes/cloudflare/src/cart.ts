import { DurableObject, WorkerEntrypoint } from "cloudflare:workers"
import { Context, Duration, Effect, Layer, ManagedRuntime, Schema } from "effect"
import type { RpcMessage } from "effect/rpc"
import { CartConfig } from "@shop/cart/CartConfig"
import * as CartLive from "@shop/cart/CartLive"
import * as CheckoutReconciler from "@shop/cart/CheckoutReconciler"
import { Carts } from "@shop/cart/Carts"
import { CartWriter } from "@shop/cart/CartStore"
import { NotFound } from "@shop/domain/Errors"
import { IdGenerator } from "@shop/domain/IdGenerator"
import { CartRpcs } from "@shop/domain/ServiceContracts"
import { layerHandlers } from "@shop/domain/ServiceTransport"
import * as CartObjectStore from "./CartObjectStore.ts"
import * as CatalogProducts from "./CatalogProducts.ts"
import { refusal, routeOf } from "./CartRouting.ts"
import * as Clients from "./Clients.ts"
import type { CartEnv, ServiceBinding } from "./Env.ts"
import * as Observability from "./Observability.ts"
import * as RpcExchange from "./RpcExchange.ts"
import * as Settings from "./Settings.ts"
import * as Transports from "./Transports.ts"

// The cart Worker. Each cart is a SQLite-backed Durable Object of its own
// (CartObject, one per cart id, `getByName(cartId)`), which runs the same
// CartLive as the other runtimes over its own storage, one operation at a
// time (CartWriter.layerSingle), and deletes itself with an alarm once the
// cart has expired. The Worker's entrypoint only routes: it reads the cart id
// of a call and hands the call, still encoded, to that cart's object.
//
// It has one door, `call`, for the gateway's CART service binding, with the
// same exchange shape as the other service Workers (RpcExchange.ts). There
// is no URL door (README.md): a signed URL call needs replay protection in a
// store of its own, and the cart has no D1.

const serviceName = "shop-cart"

const encodeNotFound = Schema.encodeSync(NotFound)

class CartServer extends Context.Service<
  CartServer,
  {
    // One exchange: encoded RPC messages in, encoded responses out.
    readonly serve: (messages: unknown) => Effect.Effect<ReadonlyArray<RpcMessage.FromServerEncoded>>
  }
>()("@shop/runtime-cloudflare/CartServer") {}

// One object's services: CartLive over this object's storage, its single
// writer, the clients of the services a cart calls (over this Worker's
// bindings), the settings from the env, logs and spans like every Worker.
const makeRuntime = (ctx: DurableObjectState, env: CartEnv) => {
  const handlers = Layer.unwrap(
    Effect.map(Effect.service(Carts), (implementation) => layerHandlers(CartRpcs, "Cart", implementation))
  )
  const server = Layer.effect(
    CartServer,
    Effect.map(RpcExchange.makeServer(CartRpcs, "CartServer"), (serve) => CartServer.of({ serve }))
  ).pipe(Layer.provide(handlers))
  const services = Layer.mergeAll(
    // Products and their availability from this isolate's memory while the
    // catalog version stands (CatalogProducts.ts): a cart change on products
    // already seen calls neither the catalog Worker nor inventory.
    CatalogProducts.layer(env.CATALOG_VERSION, { ttlMillis: 60_000, maxEntries: 10_000 }).pipe(
      Layer.provide(Clients.catalog(env.CATALOG))
    ),
    Clients.fulfillment(env.FULFILLMENT),
    Clients.coupons(env.COUPONS),
    Clients.inventory(env.INVENTORY),
    Clients.payments(env.PAYMENTS),
    Clients.orders(env.ORDERS),
    // The ids of checkout's stock holds.
    IdGenerator.layer
  )
  const app = server.pipe(
    Layer.provide(CartLive.layer),
    Layer.provide(Layer.mergeAll(CartObjectStore.layer(ctx.storage), services)),
    // Merged: the alarm takes its turn with the same writer as the calls.
    Layer.provideMerge(CartWriter.layerSingle),
    Layer.provideMerge(
      Observability.layer(serviceName).pipe(
        Layer.provideMerge(Settings.cart),
        Layer.provideMerge(Settings.provider(env))
      )
    )
  )
  return ManagedRuntime.make(app.pipe(Layer.provideMerge(Observability.layerScheduler)))
}

// Refused settings are found once per isolate, before any object builds its
// runtime: every call then fails with one log line naming the setting.
let settingsProblem: Promise<string | undefined> | undefined

/** One cart: its storage, its alarm, and the cart service over them. */
export class CartObject extends DurableObject<CartEnv> {
  // Built on the first event (not in the constructor, which must not do
  // I/O), once per instance, and kept while the object stays in memory.
  private runtime: ReturnType<typeof makeRuntime> | undefined

  private async run<A>(program: Effect.Effect<A, never, CartServer | CartWriter>): Promise<A> {
    const problem = await (settingsProblem ??= Settings.check(Settings.cart, this.env))
    if (problem !== undefined) throw new Error(Settings.refuseCall(serviceName, problem))
    const current = (this.runtime ??= makeRuntime(this.ctx, this.env))
    const result = current.runPromise(program)
    if (Observability.exporting(this.env)) {
      const flush = () => current.runPromise(Observability.flush)
      this.ctx.waitUntil(result.then(flush, flush))
    }
    return result
  }

  // The entrypoint's call, routed here by cart id. Typed failures and
  // results go back schema-encoded, as every exchange's do.
  async call(messages: unknown): Promise<ReadonlyArray<RpcMessage.FromServerEncoded>> {
    return this.run(Effect.flatMap(CartServer, ({ serve }) => serve(messages)))
  }

  // Set at the cart's expiry by every save. Runs as one more writer, so that
  // it never deletes a cart under an operation that is about to save it.
  override async alarm(): Promise<void> {
    const storage = this.ctx.storage
    await this.run(
      Effect.gen(function* () {
        const writer = yield* CartWriter
        return yield* writer.withCart("")(CartObjectStore.sweep(storage))
      }).pipe(Effect.tap((outcome) => Effect.logInfo("cart alarm").pipe(Effect.annotateLogs({ outcome }))))
    )
  }
}

// The checkout reconciliation of the cart Worker's Cron Trigger: the same
// CheckoutReconciler as memory and node, reaching payments over PAYMENTS and
// each cart's object through this Worker's own routing (`route`), so that
// every capture runs inside its cart's object like the buyer's.
const makeReconcilerRuntime = (env: CartEnv, route: ServiceBinding) =>
  ManagedRuntime.make(
    CheckoutReconciler.layer.pipe(
      Layer.provide(Layer.mergeAll(Clients.carts(route), Clients.payments(env.PAYMENTS))),
      Layer.provideMerge(
        Observability.layer(serviceName).pipe(
          Layer.provideMerge(Settings.cart),
          Layer.provideMerge(Settings.provider(env))
        )
      ),
      Layer.provideMerge(Observability.layerScheduler)
    )
  )

let reconcilerRuntime: ReturnType<typeof makeReconcilerRuntime> | undefined

/** The routing entrypoint: the gateway's CART binding calls `call`. */
export default class CartWorker extends WorkerEntrypoint<CartEnv> {
  // The Cron Trigger (cart/wrangler.jsonc): one reconciliation pass over the
  // unsettled payments older than CHECKOUT_RECONCILE_GRACE_SECONDS.
  override async scheduled(controller: ScheduledController): Promise<void> {
    const problem = await (settingsProblem ??= Settings.check(Settings.cart, this.env))
    if (problem !== undefined) throw new Error(Settings.refuseCall(serviceName, problem))
    const route: ServiceBinding = { call: (messages) => this.call(messages) }
    const current = (reconcilerRuntime ??= makeReconcilerRuntime(this.env, route))
    const program = Effect.gen(function* () {
      const config = yield* CartConfig
      const reconciler = yield* CheckoutReconciler.CheckoutReconciler
      const result = yield* reconciler.reconcile({ grace: Duration.seconds(config.reconcileGraceSeconds) })
      if (result.visited > 0) yield* Effect.logInfo("Reconciled checkouts").pipe(Effect.annotateLogs({ ...result }))
    }).pipe(
      Effect.tapCause((cause) => Effect.logError("Scheduled run failed", cause)),
      Effect.withSpan("CartCron.scheduled", { attributes: { cron: controller.cron } }),
      Effect.annotateLogs({ via: "cron", cron: controller.cron })
    )
    const work = current
      .runPromise(program)
      .finally(() => (Observability.exporting(this.env) ? current.runPromise(Observability.flush) : undefined))
    this.ctx.waitUntil(work)
    await work
  }

  // Never throws for what it is sent: garbage gets a Defect answer, which
  // the caller's client reads like any other.
  async call(messages: unknown): Promise<ReadonlyArray<RpcMessage.FromServerEncoded>> {
    const route = routeOf(messages)
    if ("problem" in route) return refusal(route.problem)
    return Transports.cartObject(this.env.CART_OBJECTS, route.cartId).call(messages)
  }

  // No URL door: a binding's fetch() (or any request) finds nothing here.
  override async fetch(): Promise<Response> {
    return Response.json(encodeNotFound(new NotFound({})), { status: 404 })
  }
}
