import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Layer, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Catalog } from "@shop/catalog/Catalog"
import * as CatalogLive from "@shop/catalog/CatalogLive"
import { Coupons } from "@shop/coupons/Coupons"
import * as CouponsLive from "@shop/coupons/CouponsLive"
import { IdGenerator } from "@shop/domain/IdGenerator"
import { CartId, UserId, type VariantId } from "@shop/domain/Ids"
import { Currency } from "@shop/domain/Money"
import type { PaymentId } from "@shop/domain/Payments"
import * as FulfillmentLive from "@shop/fulfillment/FulfillmentLive"
import { Inventory } from "@shop/inventory/Inventory"
import * as InventoryLive from "@shop/inventory/InventoryLive"
import { Orders } from "@shop/orders/Orders"
import * as OrdersLive from "@shop/orders/OrdersLive"
import { Payments } from "@shop/payments/Payments"
import type * as PaypalFake from "@shop/paypal-fake/PaypalFake"
import { CartConfig } from "../src/CartConfig.ts"
import * as CartLive from "../src/CartLive.ts"
import { Carts } from "../src/Carts.ts"
import { CartStore, CartWriter } from "../src/CartStore.ts"
import * as CheckoutReconciler from "../src/CheckoutReconciler.ts"
import { makeFake, paymentsOver } from "./Fixtures.ts"

// The checkout saga on memory layers: cart, catalog, inventory (with its
// hold sweeper), coupons, fulfillment, payments over an in-process fake
// PayPal, orders. TestClock throughout: the provider's timeout and the hold's
// expiry happen when a test moves the clock.

const usd = Currency.make("USD")
// Wednesday 2026-12-02, 10:00 UTC.
const start = Date.UTC(2026, 11, 2, 10)
const timeoutMs = 5_000
const holdTtlMs = 15 * 60 * 1000
const apiBase = "https://paypal.fake"
const returnUrl = "https://shop.test/checkout/return"
const cancelUrl = "https://shop.test/checkout/cancel"
const address = {
  name: "Ada Buyer",
  line1: "1 Main St",
  city: "Springfield",
  region: "IL",
  postalCode: "62701",
  country: "US"
}
const admin = { userId: UserId.make("usr_admin"), role: "admin" as const }

let counter = 0
const cartId = () => Schema.decodeSync(CartId)(`cart_${String(++counter).padStart(24, "0")}`)
const buyer = () => UserId.make(`usr_buyer${++counter}`)

const world = (
  fake: PaypalFake.PaypalFake,
  orders: Layer.Layer<Orders, never, Payments | Inventory> = OrdersLive.layerMemory
) => {
  const services = Layer.mergeAll(
    FulfillmentLive.layerMemory,
    CouponsLive.layerMemory,
    // Orders refund through payments and restock through inventory: the same instances.
    orders.pipe(
      Layer.provideMerge(paymentsOver(fake, timeoutMs)),
      Layer.provideMerge(CatalogLive.layerMemory.pipe(Layer.provideMerge(InventoryLive.layerMemory)))
    ),
    IdGenerator.layer
  )
  return CheckoutReconciler.layer.pipe(
    Layer.provideMerge(CartLive.layer),
    Layer.provideMerge(
      Layer.mergeAll(CartStore.layerMemory, CartWriter.layerKeyed, CartConfig.layer({ ttlSeconds: 7 * 24 * 3600 }))
    ),
    Layer.provideMerge(services)
  )
}

type World = Layer.Success<ReturnType<typeof world>>

// Each test gets its own fake PayPal and its own stores, at `start`.
const run = <A, E>(
  test: (fake: PaypalFake.PaypalFake) => Effect.Effect<A, E, World>,
  orders?: Layer.Layer<Orders, never, Payments | Inventory>
) => {
  const fake = makeFake()
  // The clock is set before the layers start their sweepers: setting it
  // later would run decades of sweeps at once.
  return Effect.gen(function* () {
    yield* TestClock.setTime(start)
    return yield* test(fake).pipe(Effect.provide(world(fake, orders)))
  })
}

const product = (price: number, stock: number) =>
  Effect.gen(function* () {
    const created = yield* (yield* Catalog).create({
      sku: `SKU-${++counter}`,
      title: `Product ${counter}`,
      price: { amount: price, currency: usd },
      stock
    })
    return { productId: created.productId, variantId: created.variants[0]!.variantId }
  })

// A signed-in buyer's cart, ready for checkout.
const readyCart = (item: { readonly productId: string }, quantity = 1, coupon?: string) =>
  Effect.gen(function* () {
    const carts = yield* Carts
    const id = cartId()
    const user = buyer()
    yield* carts.create({ cartId: id, userId: user })
    yield* carts.add({ cartId: id, caller: user, productId: item.productId as never, quantity })
    yield* carts.setAddress({ cartId: id, caller: user, address })
    yield* carts.chooseShipping({ cartId: id, caller: user, methodId: "standard" })
    if (coupon !== undefined) yield* carts.applyCoupon({ cartId: id, caller: user, code: coupon, client: "test" })
    return { cartId: id, user }
  })

const startOf = (cart: { readonly cartId: CartId; readonly user: UserId }) =>
  Effect.flatMap(Effect.service(Carts), (carts) =>
    carts.startCheckout({ cartId: cart.cartId, caller: cart.user, returnUrl, cancelUrl })
  )

const captureOf = (cart: { readonly cartId: CartId; readonly user: UserId | null }, paymentId: PaymentId) =>
  Effect.flatMap(Effect.service(Carts), (carts) => carts.capture({ cartId: cart.cartId, paymentId, caller: cart.user }))

/** The buyer follows the approve link at the fake. */
const approve = (fake: PaypalFake.PaypalFake, approveUrl: string) =>
  Effect.promise(() => fake.handler(new Request(approveUrl, { redirect: "manual" }))).pipe(
    Effect.tap((answer) => Effect.sync(() => assert.strictEqual(answer.status, 302)))
  )

const control = (fake: PaypalFake.PaypalFake, method: string, path: string, body?: unknown) =>
  Effect.promise(() =>
    fake.handler(
      new Request(`${apiBase}${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
      })
    )
  )

const fault = (fake: PaypalFake.PaypalFake, step: PaypalFake.Step, mode: PaypalFake.FaultMode) =>
  Effect.asVoid(control(fake, "POST", "/__fake/faults", { step, mode }))

const stats = (fake: PaypalFake.PaypalFake) =>
  Effect.flatMap(control(fake, "GET", "/__fake/stats"), (answer) =>
    Effect.promise(
      () =>
        answer.json() as Promise<{
          readonly requests: Record<PaypalFake.Step, number>
          readonly orders: number
          readonly captures: number
        }>
    )
  )

// Lets the fake's promises run until `done` holds: real time, a millisecond
// at a time, since the TestClock does not move by itself.
const until = (fake: PaypalFake.PaypalFake, done: (counts: Record<PaypalFake.Step, number>) => boolean) =>
  Effect.gen(function* () {
    while (!done((yield* stats(fake)).requests)) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 1)))
  })

const stock = (variantId: VariantId) =>
  Effect.flatMap(Effect.service(Inventory), (inventory) => inventory.get({ variantId }))
const payment = (paymentId: PaymentId) =>
  Effect.flatMap(Effect.service(Payments), (payments) => payments.get({ paymentId, caller: admin }))
const allOrders = Effect.flatMap(Effect.service(Orders), (orders) => orders.listAll({ limit: 100, offset: 0 }))

const failureOf = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.exit(effect), (exit) => {
    if (Exit.isSuccess(exit)) return assert.fail("expected a failure")
    const reason = exit.cause.reasons[0]
    return reason !== undefined && reason._tag === "Fail" ? (reason.error as E) : undefined
  })

// No money without an order: every payment that keeps money is settled
// with its order, and every order's payment is settled with it. Unsettled
// payments (a checkout still open) have taken nothing.
const assertInvariant = Effect.gen(function* () {
  const payments = yield* Payments
  const listed = yield* payments.listUnsettled({
    createdBefore: new Date(start + 100 * holdTtlMs).toISOString(),
    limit: 500
  })
  for (const open of listed) assert.deepStrictEqual(open.captures, [])
  const orders = (yield* allOrders).orders
  for (const order of orders) {
    const paid = yield* payment(order.payment.paymentId as PaymentId)
    assert.strictEqual(paid.orderId, order.orderId)
    assert.isDefined(paid.settledAt)
  }
})

describe("Checkout: start and capture", () => {
  it.effect("start, approve, capture: the order exists, the cart is empty, the stock sold, the payment settled", () =>
    run((fake) =>
      Effect.gen(function* () {
        const carts = yield* Carts
        const item = yield* product(2_500, 10)
        const cart = yield* readyCart(item, 2)
        const started = yield* startOf(cart)
        assert.match(started.reservationId, /^res_/)
        assert.strictEqual(started.expiresAt, new Date(start + holdTtlMs).toISOString())
        const held = yield* carts.get({ cartId: cart.cartId, caller: cart.user })
        assert.deepStrictEqual(held.checkout, {
          status: "pending",
          reservationId: started.reservationId,
          paymentId: started.paymentId,
          approveUrl: started.approveUrl,
          expiresAt: started.expiresAt
        })
        assert.deepStrictEqual(started.summary, held.summary)
        assert.deepStrictEqual(yield* stock(item.variantId), {
          variantId: item.variantId,
          stock: 10,
          reserved: 2,
          available: 8
        })
        // Not approved yet: nothing happens.
        const early = yield* failureOf(captureOf(cart, started.paymentId))
        assert.strictEqual(early?._tag, "PaymentNotApproved")

        yield* approve(fake, started.approveUrl)
        const captured = yield* captureOf(cart, started.paymentId)
        assert.strictEqual(captured.status, "paid")
        assert.strictEqual(captured.paymentId, started.paymentId)

        const order = yield* (yield* Orders).get({ orderId: captured.orderId, caller: admin })
        assert.strictEqual(order.userId, cart.user)
        assert.strictEqual(order.reservationId, started.reservationId)
        assert.deepStrictEqual(order.summary, started.summary)
        assert.strictEqual(order.payment.captureId, captured.captureId)
        const after = yield* carts.get({ cartId: cart.cartId, caller: cart.user })
        assert.deepStrictEqual(after.items, [])
        assert.isNull(after.checkout)
        assert.deepStrictEqual(after.address, held.address)
        assert.deepStrictEqual(yield* stock(item.variantId), {
          variantId: item.variantId,
          stock: 8,
          reserved: 0,
          available: 8
        })
        const paid = yield* payment(started.paymentId)
        assert.strictEqual(paid.status, "captured")
        assert.strictEqual(paid.orderId, captured.orderId)
        assert.isDefined(paid.settledAt)
        // Again, by the buyer or by the shop: the same answer, charged once.
        assert.deepStrictEqual(yield* captureOf(cart, started.paymentId), captured)
        assert.deepStrictEqual(yield* captureOf({ cartId: cart.cartId, user: null }, started.paymentId), captured)
        assert.strictEqual((yield* stats(fake)).captures, 1)
        // Someone else's payment is not found.
        const stranger = yield* failureOf(captureOf({ cartId: cart.cartId, user: buyer() }, started.paymentId))
        assert.strictEqual(stranger?._tag, "PaymentNotFound")
        yield* assertInvariant
      })
    )
  )

  it.effect("start refuses an empty cart, a cart without address or without shipping method", () =>
    run(() =>
      Effect.gen(function* () {
        const carts = yield* Carts
        const item = yield* product(1_000, 10)
        const user = buyer()
        const id = cartId()
        yield* carts.create({ cartId: id, userId: user })
        const begin = startOf({ cartId: id, user })
        assert.strictEqual((yield* failureOf(begin))?._tag, "CartEmpty")
        yield* carts.add({ cartId: id, caller: user, productId: item.productId, quantity: 1 })
        assert.strictEqual((yield* failureOf(begin))?._tag, "AddressRequired")
        yield* carts.setAddress({ cartId: id, caller: user, address })
        assert.strictEqual((yield* failureOf(begin))?._tag, "ShippingRequired")
        // Someone else's cart is not found.
        assert.strictEqual((yield* failureOf(startOf({ cartId: id, user: buyer() })))?._tag, "CartNotFound")
        assert.strictEqual((yield* stock(item.variantId)).reserved, 0)
      })
    )
  )

  it.effect("a guest cart becomes the buyer's at start", () =>
    run(() =>
      Effect.gen(function* () {
        const carts = yield* Carts
        const item = yield* product(1_000, 10)
        const id = cartId()
        yield* carts.create({ cartId: id, userId: null })
        yield* carts.add({ cartId: id, caller: null, productId: item.productId, quantity: 1 })
        yield* carts.setAddress({ cartId: id, caller: null, address })
        yield* carts.chooseShipping({ cartId: id, caller: null, methodId: "standard" })
        const user = buyer()
        yield* startOf({ cartId: id, user })
        assert.strictEqual((yield* carts.get({ cartId: id, caller: user })).userId, user)
        assert.strictEqual((yield* failureOf(carts.get({ cartId: id, caller: null })))?._tag, "CartNotFound")
      })
    )
  )

  it.effect(
    "start again on an unchanged cart answers the same; a change releases the hold, one that changes nothing keeps it",
    () =>
      run((fake) =>
        Effect.gen(function* () {
          const carts = yield* Carts
          const item = yield* product(1_000, 10)
          const cart = yield* readyCart(item, 3)
          const first = yield* startOf(cart)
          yield* TestClock.adjust(60_000)
          assert.deepStrictEqual(yield* startOf(cart), first)
          // The same method again leaves the fingerprint as it was.
          const same = yield* carts.chooseShipping({ cartId: cart.cartId, caller: cart.user, methodId: "standard" })
          assert.strictEqual(same.checkout?.reservationId, first.reservationId)
          assert.strictEqual((yield* stock(item.variantId)).reserved, 3)
          assert.strictEqual((yield* stats(fake)).orders, 1)

          const changed = yield* carts.update({
            cartId: cart.cartId,
            caller: cart.user,
            variantId: item.variantId,
            quantity: 2
          })
          assert.isNull(changed.checkout)
          assert.deepStrictEqual(yield* stock(item.variantId), {
            variantId: item.variantId,
            stock: 10,
            reserved: 0,
            available: 10
          })
          // The old payment cannot be captured any more: nothing is charged.
          yield* approve(fake, first.approveUrl)
          const stale = yield* failureOf(captureOf(cart, first.paymentId))
          assert.strictEqual(stale?._tag, "HoldExpired")
          assert.strictEqual((yield* stats(fake)).captures, 0)
          assert.strictEqual((yield* payment(first.paymentId)).status, "failed")

          const second = yield* startOf(cart)
          assert.notStrictEqual(second.reservationId, first.reservationId)
          assert.notStrictEqual(second.paymentId, first.paymentId)
          assert.strictEqual((yield* stock(item.variantId)).reserved, 2)
        })
      )
  )

  it.effect("20 parallel starts on one cart: one hold, one PayPal order, one answer", () =>
    run((fake) =>
      Effect.gen(function* () {
        const item = yield* product(1_000, 10)
        const cart = yield* readyCart(item, 2)
        const answers = yield* Effect.all(
          Array.from({ length: 20 }, () => startOf(cart)),
          { concurrency: "unbounded" }
        )
        for (const answer of answers) assert.deepStrictEqual(answer, answers[0])
        assert.strictEqual((yield* stats(fake)).orders, 1)
        assert.strictEqual((yield* stock(item.variantId)).reserved, 2)
      })
    )
  )

  it.effect("20 parallel captures: one capture, one order, the same answer", () =>
    run((fake) =>
      Effect.gen(function* () {
        const item = yield* product(1_000, 10)
        const cart = yield* readyCart(item, 1)
        const started = yield* startOf(cart)
        yield* approve(fake, started.approveUrl)
        const answers = yield* Effect.all(
          Array.from({ length: 20 }, (_, i) =>
            captureOf(i % 2 === 0 ? cart : { cartId: cart.cartId, user: null }, started.paymentId)
          ),
          { concurrency: "unbounded" }
        )
        for (const answer of answers) assert.deepStrictEqual(answer, answers[0])
        assert.strictEqual((yield* stats(fake)).captures, 1)
        assert.strictEqual((yield* allOrders).total, 1)
        assert.strictEqual((yield* stock(item.variantId)).stock, 9)
        yield* assertInvariant
      })
    )
  )

  it.effect("12 buyers racing for 3 units: 3 holds, 9 insufficient_stock, then 3 orders", () =>
    run((fake) =>
      Effect.gen(function* () {
        const item = yield* product(1_000, 3)
        const buyers = yield* Effect.forEach(Array.from({ length: 12 }), () => readyCart(item, 1))
        const results = yield* Effect.all(
          buyers.map((cart) => Effect.result(startOf(cart))),
          { concurrency: "unbounded" }
        )
        const won = results.flatMap((result, i) =>
          result._tag === "Success" ? [{ cart: buyers[i]!, started: result.success }] : []
        )
        const lost = results.flatMap((result) => (result._tag === "Failure" ? [result.failure._tag] : []))
        assert.strictEqual(won.length, 3)
        assert.deepStrictEqual(
          lost,
          Array.from({ length: 9 }, () => "InsufficientStock")
        )
        assert.strictEqual((yield* stock(item.variantId)).available, 0)
        assert.strictEqual((yield* stats(fake)).orders, 3)
        for (const { started } of won) yield* approve(fake, started.approveUrl)
        yield* Effect.all(
          won.map(({ cart, started }) => captureOf(cart, started.paymentId)),
          { concurrency: "unbounded" }
        )
        assert.strictEqual((yield* allOrders).total, 3)
        assert.deepStrictEqual(yield* stock(item.variantId), {
          variantId: item.variantId,
          stock: 0,
          reserved: 0,
          available: 0
        })
        yield* assertInvariant
      })
    )
  )

  it.effect(
    "a usageLimit 1 coupon raced by 5 checkouts: one discounted order, the others coupon_exhausted, charged nothing",
    () =>
      run((fake) =>
        Effect.gen(function* () {
          yield* (yield* Coupons).create({ code: "ONCE", type: "percent", value: 10, usageLimit: 1 })
          const item = yield* product(1_000, 10)
          const buyers = yield* Effect.forEach(Array.from({ length: 5 }), () => readyCart(item, 1, "ONCE"))
          const started = yield* Effect.forEach(buyers, startOf)
          for (const s of started) {
            assert.strictEqual(s.summary.discount.amount, 100)
            yield* approve(fake, s.approveUrl)
          }
          const results = yield* Effect.all(
            buyers.map((cart, i) => Effect.result(captureOf(cart, started[i]!.paymentId))),
            { concurrency: "unbounded" }
          )
          const won = results.filter((result) => result._tag === "Success")
          const lost = results.flatMap((result) => (result._tag === "Failure" ? [result.failure._tag] : []))
          assert.strictEqual(won.length, 1)
          assert.deepStrictEqual(
            lost,
            Array.from({ length: 4 }, () => "CouponExhausted")
          )
          assert.strictEqual((yield* stats(fake)).captures, 1)
          const orders = (yield* allOrders).orders
          assert.strictEqual(orders.length, 1)
          assert.strictEqual(orders[0]!.couponCode, "ONCE")
          assert.strictEqual(orders[0]!.summary.discount.amount, 100)
          // The losers' stock went back; their carts may start again.
          assert.deepStrictEqual(yield* stock(item.variantId), {
            variantId: item.variantId,
            stock: 9,
            reserved: 0,
            available: 9
          })
          for (const [i, cart] of buyers.entries()) {
            const current = yield* (yield* Carts).get({ cartId: cart.cartId, caller: cart.user })
            if (results[i]!._tag === "Failure") assert.isNull(current.checkout)
          }
          yield* assertInvariant
        })
      )
  )
})

describe("Checkout: faults", () => {
  it.effect("PayPal create fails (5xx): the hold is released and start fails", () =>
    run((fake) =>
      Effect.gen(function* () {
        const item = yield* product(1_000, 10)
        const cart = yield* readyCart(item, 2)
        yield* fault(fake, "create", "5xx")
        const failed = yield* failureOf(startOf(cart))
        assert.strictEqual(failed?._tag, "PaymentProviderUnavailable")
        assert.strictEqual((yield* stock(item.variantId)).reserved, 0)
        assert.isNull((yield* (yield* Carts).get({ cartId: cart.cartId, caller: cart.user })).checkout)
        // Again, PayPal back: it works.
        const started = yield* startOf(cart)
        assert.strictEqual((yield* stock(item.variantId)).reserved, 2)
        assert.strictEqual((yield* payment(started.paymentId)).status, "created")
      })
    )
  )

  it.effect("PayPal capture fails (5xx): nothing is kept, a later capture works", () =>
    run((fake) =>
      Effect.gen(function* () {
        const item = yield* product(1_000, 10)
        const cart = yield* readyCart(item, 1)
        const started = yield* startOf(cart)
        yield* approve(fake, started.approveUrl)
        yield* fault(fake, "capture", "5xx")
        const failed = yield* failureOf(captureOf(cart, started.paymentId))
        assert.strictEqual(failed?._tag, "PaymentProviderUnavailable")
        assert.strictEqual((yield* stats(fake)).captures, 0)
        assert.strictEqual((yield* allOrders).total, 0)
        assert.strictEqual((yield* stock(item.variantId)).reserved, 1)
        const captured = yield* captureOf(cart, started.paymentId)
        assert.strictEqual(captured.status, "paid")
        assert.strictEqual((yield* stats(fake)).captures, 1)
        yield* assertInvariant
      })
    )
  )

  it.effect("a capture whose answer was lost (timeout) is recovered: one capture, one order", () =>
    run((fake) =>
      Effect.gen(function* () {
        const item = yield* product(1_000, 10)
        const cart = yield* readyCart(item, 1)
        const started = yield* startOf(cart)
        yield* approve(fake, started.approveUrl)
        yield* fault(fake, "capture", "lost_answer")
        const fiber = yield* Effect.forkChild(captureOf(cart, started.paymentId))
        yield* until(fake, (counts) => counts.capture === 1)
        yield* TestClock.adjust(timeoutMs)
        const captured = yield* Fiber.join(fiber)
        assert.strictEqual(captured.status, "paid")
        assert.strictEqual((yield* stats(fake)).captures, 1)
        assert.strictEqual((yield* allOrders).total, 1)
        yield* assertInvariant
      })
    )
  )

  it.effect("a capture that times out with nothing done is repeated later: one capture", () =>
    run((fake) =>
      Effect.gen(function* () {
        const item = yield* product(1_000, 10)
        const cart = yield* readyCart(item, 1)
        const started = yield* startOf(cart)
        yield* approve(fake, started.approveUrl)
        yield* fault(fake, "capture", "timeout")
        const fiber = yield* Effect.forkChild(Effect.exit(captureOf(cart, started.paymentId)))
        yield* until(fake, (counts) => counts.capture === 1)
        yield* TestClock.adjust(timeoutMs)
        const exit = yield* Fiber.join(fiber)
        assert.isTrue(Exit.isFailure(exit))
        assert.strictEqual((yield* stats(fake)).captures, 0)
        const captured = yield* captureOf(cart, started.paymentId)
        assert.strictEqual(captured.status, "paid")
        assert.strictEqual((yield* stats(fake)).captures, 1)
        yield* assertInvariant
      })
    )
  )

  // Orders that fail the first `failures` creates, as an unreachable orders service does.
  const flakyOrders = (failures: { count: number }) =>
    Layer.effect(
      Orders,
      Effect.gen(function* () {
        const real = yield* Orders
        return Orders.of({
          ...real,
          create: (input) =>
            failures.count > 0
              ? Effect.suspend(() => {
                  failures.count--
                  return Effect.die(new Error("orders unavailable"))
                })
              : real.create(input)
        })
      })
    ).pipe(Layer.provide(OrdersLive.layerMemory))

  it.effect("the money is captured, then order creation fails: the reconciliation pass creates the order", () => {
    const failures = { count: 2 }
    return run(
      (fake) =>
        Effect.gen(function* () {
          const item = yield* product(1_000, 10)
          const cart = yield* readyCart(item, 1)
          const started = yield* startOf(cart)
          yield* approve(fake, started.approveUrl)
          const exit = yield* Effect.exit(captureOf(cart, started.paymentId))
          assert.isTrue(Exit.isFailure(exit))
          // Captured and committed, but no order yet: unsettled, so reconciliation visits it.
          const captured = yield* payment(started.paymentId)
          assert.strictEqual(captured.status, "captured")
          assert.isUndefined(captured.settledAt)
          assert.strictEqual((yield* allOrders).total, 0)

          const reconciler = yield* CheckoutReconciler.CheckoutReconciler
          yield* TestClock.adjust(Duration.sum(CheckoutReconciler.defaultGrace, Duration.seconds(1)))
          // The first pass meets orders down once more; the next one makes the order.
          const firstPass = yield* reconciler.reconcile()
          assert.deepStrictEqual(firstPass, { visited: 1, completed: 0, abandoned: 0, pending: 1 })
          const secondPass = yield* reconciler.reconcile()
          assert.deepStrictEqual(secondPass, { visited: 1, completed: 1, abandoned: 0, pending: 0 })
          assert.strictEqual((yield* allOrders).total, 1)
          assert.strictEqual((yield* stats(fake)).captures, 1)
          assert.deepStrictEqual((yield* (yield* Carts).get({ cartId: cart.cartId, caller: cart.user })).items, [])
          // The buyer's own repeat gets the same answer.
          const again = yield* captureOf(cart, started.paymentId)
          assert.strictEqual(again.orderId, (yield* allOrders).orders[0]!.orderId)
          yield* assertInvariant
        }),
      flakyOrders(failures)
    )
  })

  it.effect("the hold expires before capture: hold_expired, nothing charged, the stock back", () =>
    run((fake) =>
      Effect.gen(function* () {
        const item = yield* product(1_000, 10)
        const cart = yield* readyCart(item, 4)
        const started = yield* startOf(cart)
        yield* approve(fake, started.approveUrl)
        // In steps, so the hold sweeper runs as time passes.
        for (let i = 0; i < 16; i++) yield* TestClock.adjust(60_000)
        const expired = yield* failureOf(captureOf(cart, started.paymentId))
        assert.strictEqual(expired?._tag, "HoldExpired")
        assert.strictEqual((yield* stats(fake)).captures, 0)
        assert.deepStrictEqual(yield* stock(item.variantId), {
          variantId: item.variantId,
          stock: 10,
          reserved: 0,
          available: 10
        })
        const failed = yield* payment(started.paymentId)
        assert.strictEqual(failed.status, "failed")
        assert.isDefined(failed.settledAt)
        assert.isNull((yield* (yield* Carts).get({ cartId: cart.cartId, caller: cart.user })).checkout)
        // Again: the same refusal, still nothing charged.
        const again = yield* failureOf(captureOf(cart, started.paymentId))
        assert.strictEqual(again?._tag, "HoldExpired")
        assert.strictEqual((yield* stats(fake)).captures, 0)
        // A new start places a new hold.
        const restarted = yield* startOf(cart)
        assert.notStrictEqual(restarted.reservationId, started.reservationId)
        yield* assertInvariant
      })
    )
  )
})

describe("Checkout: reconciliation", () => {
  it.effect(
    "approved but never captured: the pass captures it and creates the order; unapproved ones wait, then are abandoned",
    () =>
      run((fake) =>
        Effect.gen(function* () {
          const reconciler = yield* CheckoutReconciler.CheckoutReconciler
          const item = yield* product(1_000, 10)
          const approved = yield* readyCart(item, 1)
          const waiting = yield* readyCart(item, 2)
          const approvedStart = yield* startOf(approved)
          const waitingStart = yield* startOf(waiting)
          yield* approve(fake, approvedStart.approveUrl)

          // Within the grace period nothing is touched.
          assert.deepStrictEqual(yield* reconciler.reconcile(), { visited: 0, completed: 0, abandoned: 0, pending: 0 })
          yield* TestClock.adjust(Duration.sum(CheckoutReconciler.defaultGrace, Duration.seconds(1)))
          assert.deepStrictEqual(yield* reconciler.reconcile(), { visited: 2, completed: 1, abandoned: 0, pending: 1 })
          const orders = (yield* allOrders).orders
          assert.strictEqual(orders.length, 1)
          assert.strictEqual(orders[0]!.payment.paymentId, approvedStart.paymentId)
          assert.deepStrictEqual(
            (yield* (yield* Carts).get({ cartId: approved.cartId, caller: approved.user })).items,
            []
          )
          assert.strictEqual((yield* payment(waitingStart.paymentId)).status, "created")

          // The other buyer never approves: once the hold is gone, the pass gives up on it.
          for (let i = 0; i < 15; i++) yield* TestClock.adjust(60_000)
          assert.deepStrictEqual(yield* reconciler.reconcile(), { visited: 1, completed: 0, abandoned: 1, pending: 0 })
          assert.strictEqual((yield* payment(waitingStart.paymentId)).status, "failed")
          assert.strictEqual((yield* stats(fake)).captures, 1)
          assert.deepStrictEqual(yield* stock(item.variantId), {
            variantId: item.variantId,
            stock: 9,
            reserved: 0,
            available: 9
          })
          yield* assertInvariant
        })
      )
  )
})
