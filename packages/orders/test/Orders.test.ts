import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { OrderId, ProductId, UserId, VariantId } from "@shop/domain/Ids"
import { Currency, type Money } from "@shop/domain/Money"
import type { CreateOrderInput, Order, OrderStatus } from "@shop/domain/Orders"
import { Orders } from "../src/Orders.ts"
import * as OrdersLive from "../src/OrdersLive.ts"
import { OrdersRepository } from "../src/OrdersRepository.ts"
import * as OrdersRepositoryMemory from "../src/OrdersRepositoryMemory.ts"
import { layerStandIns } from "./Fixtures.ts"

const usd = Currency.make("USD")
const eur = Currency.make("EUR")
const money = (amount: number): Money => ({ amount, currency: usd })
const hour = 3_600_000
// Wednesday 2026-12-02, 10:00 UTC.
const start = Date.UTC(2026, 11, 2, 10)
const at = (millis: number) => new Date(millis).toISOString()

const alice = UserId.make("usr_alice")
const bob = UserId.make("usr_bob")
const aliceCaller = { userId: alice, role: "user" as const }
const admin = { userId: UserId.make("usr_admin"), role: "admin" as const }

const orderInput = (reservationId: string, userId: UserId = alice, total = 5_000): CreateOrderInput => ({
  reservationId,
  userId,
  items: [
    {
      productId: ProductId.make("prd_1"),
      variantId: VariantId.make("var_1"),
      title: "Mug",
      quantity: 2,
      unitPrice: money(2_000),
      lineTotal: money(4_000)
    }
  ],
  address: { line1: "1 Main St", city: "Springfield", region: "IL", postalCode: "62701", country: "US" },
  shippingMethod: { methodId: "standard", title: "Standard", cost: money(500), transitDays: 5, eta: "2026-12-09" },
  summary: {
    subtotal: money(4_000),
    discount: money(0),
    shipping: money(500),
    tax: money(total - 4_500),
    total: money(total)
  },
  payment: {
    paymentId: `pay_${reservationId.replaceAll("_", "")}`,
    provider: "paypal",
    captureId: `cap_${reservationId}`,
    captured: money(total)
  }
})

// The store with a yield around every step, so that concurrent calls really
// interleave: each reads the order before any of them writes it back, which
// is the race the compare-and-set must survive.
const interleavingStore = Layer.effect(
  OrdersRepository,
  Effect.gen(function* () {
    const real = yield* OrdersRepository
    const yielding = <A>(effect: Effect.Effect<A>) =>
      Effect.yieldNow.pipe(
        Effect.andThen(effect),
        Effect.tap(() => Effect.yieldNow)
      )
    return OrdersRepository.of({
      insert: (order) => yielding(real.insert(order)),
      find: (orderId) => yielding(real.find(orderId)),
      findByReservation: (reservationId) => yielding(real.findByReservation(reservationId)),
      list: (query) => yielding(real.list(query)),
      replace: (order, version) => yielding(real.replace(order, version))
    })
  })
).pipe(Layer.provide(OrdersRepositoryMemory.layer))

// Payments and inventory stand-ins that move nothing: these tests look at the
// order's own record (Operations.test.ts has the money and the stock).
const withOrders = Effect.provide(OrdersLive.layerMemory.pipe(Layer.provide(layerStandIns)))
const withRacingOrders = Effect.provide(
  OrdersLive.layer.pipe(Layer.provide(interleavingStore), Layer.provide(layerStandIns))
)

const create = (input: CreateOrderInput) =>
  Effect.gen(function* () {
    const orders = yield* Orders
    return yield* orders.create(input)
  })

// The code of a failure (`error` of the body), or "ok".
const outcome = <A, E extends { readonly error: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.match(effect, { onFailure: (error) => error.error, onSuccess: () => "ok" })

// The body of a failure: its code and its details, whichever error it is.
const failureOf = <A, E extends { readonly error: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(effect), (error) => ({
    error: error.error,
    details: "details" in error ? error.details : undefined
  }))

const count = (outcomes: ReadonlyArray<string>, code: string) => outcomes.filter((o) => o === code).length

// The way to each status through allowed steps only.
const pathTo: { readonly [S in OrderStatus]: ReadonlyArray<OrderStatus> } = {
  paid: [],
  processing: ["processing"],
  shipped: ["processing", "shipped"],
  delivered: ["processing", "shipped", "delivered"],
  cancelled: ["cancelled"],
  refunded: ["processing", "shipped", "delivered", "refunded"]
}

const orderIn = (status: OrderStatus, reservationId = "res_1") =>
  Effect.gen(function* () {
    const orders = yield* Orders
    let order = yield* create(orderInput(reservationId))
    for (const step of pathTo[status]) order = yield* orders.setStatus({ orderId: order.orderId, status: step })
    return order
  })

// API.md, "Orders", written out here independently of the code's table.
const allowed: { readonly [S in OrderStatus]: ReadonlyArray<OrderStatus> } = {
  paid: ["processing", "cancelled"],
  processing: ["shipped", "cancelled"],
  shipped: ["delivered"],
  delivered: ["refunded"],
  cancelled: [],
  refunded: []
}
const statuses: ReadonlyArray<OrderStatus> = ["paid", "processing", "shipped", "delivered", "cancelled", "refunded"]

describe("Orders", () => {
  it.effect("creates a paid order with its first history entry, from the checkout's record", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const input = { ...orderInput("res_1"), couponCode: "SAVE10" }
      const order = yield* create(input)
      assert.match(order.orderId, /^ord_[A-Za-z0-9]+$/)
      assert.deepStrictEqual(order, {
        orderId: order.orderId,
        userId: alice,
        status: "paid",
        items: input.items,
        address: input.address,
        shippingMethod: input.shippingMethod,
        summary: input.summary,
        payment: {
          paymentId: "pay_res1",
          provider: "paypal",
          captureId: "cap_res_1",
          captured: money(5_000),
          refunded: money(0),
          refunds: []
        },
        shipments: [],
        history: [{ status: "paid", at: at(start) }],
        reservationId: "res_1",
        couponCode: "SAVE10",
        createdAt: at(start),
        updatedAt: at(start)
      })
    }).pipe(withOrders)
  )

  it.effect("refuses an order without lines, or paid in another currency than its summary", () =>
    Effect.gen(function* () {
      const empty = yield* Effect.flip(create({ ...orderInput("res_1"), items: [] }))
      assert.strictEqual(empty.error, "validation_error")
      const input = orderInput("res_2")
      const foreign = yield* Effect.flip(
        create({ ...input, payment: { ...input.payment, captured: { amount: 5_000, currency: eur } } })
      )
      assert.deepStrictEqual(foreign.details, {
        issues: [{ path: "payment.captured.currency", message: "must be the currency of the summary" }]
      })
    }).pipe(withOrders)
  )

  it.effect("create is idempotent per reservation: a repeat answers the first order and writes nothing", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const orders = yield* Orders
      const first = yield* create(orderInput("res_1"))
      yield* TestClock.adjust(hour)
      const again = yield* create({ ...orderInput("res_1", bob, 9_000) })
      assert.deepStrictEqual(again, first)
      const page = yield* orders.listAll({ limit: 10, offset: 0 })
      assert.strictEqual(page.total, 1)
      assert.deepStrictEqual(yield* orders.findByReservation({ reservationId: "res_1" }), first)
      assert.isNull(yield* orders.findByReservation({ reservationId: "res_2" }))
    }).pipe(withOrders)
  )

  it.effect("20 concurrent creates for one reservation make one order, which all of them answer", () =>
    Effect.gen(function* () {
      const orders = yield* Orders
      const created = yield* Effect.all(
        Array.from({ length: 20 }, () => create(orderInput("res_race"))),
        { concurrency: "unbounded" }
      )
      const ids = new Set(created.map((order) => order.orderId))
      assert.strictEqual(ids.size, 1)
      const page = yield* orders.listAll({ limit: 100, offset: 0 })
      assert.strictEqual(page.total, 1)
      assert.strictEqual(page.orders[0]?.orderId, created[0]?.orderId)
    }).pipe(withRacingOrders)
  )

  describe("transitions", () => {
    for (const from of statuses) {
      for (const to of statuses) {
        const ok = allowed[from].includes(to)
        // Cancelling a cancelled order repeats the cancellation: it finishes
        // the refund and the restock (Operations.test.ts) and writes nothing.
        const repeat = from === "cancelled" && to === "cancelled"
        it.effect(`${from} -> ${to}: ${ok ? "allowed" : repeat ? "a repeat" : "invalid_transition"}`, () =>
          Effect.gen(function* () {
            yield* TestClock.setTime(start)
            const orders = yield* Orders
            const order = yield* orderIn(from)
            assert.strictEqual(order.status, from)
            yield* TestClock.adjust(hour)
            if (repeat) {
              assert.deepStrictEqual(yield* orders.setStatus({ orderId: order.orderId, status: to }), order)
              assert.deepStrictEqual(yield* orders.get({ orderId: order.orderId, caller: admin }), order)
            } else if (ok) {
              const moved = yield* orders.setStatus({ orderId: order.orderId, status: to })
              assert.strictEqual(moved.status, to)
              assert.deepStrictEqual(moved.history.at(-1), { status: to, at: at(start + hour) })
              assert.strictEqual(moved.history.length, order.history.length + 1)
              assert.strictEqual(moved.updatedAt, at(start + hour))
            } else {
              const refused = yield* failureOf(orders.setStatus({ orderId: order.orderId, status: to }))
              assert.strictEqual(refused.error, "invalid_transition")
              assert.deepStrictEqual(refused.details, { from, to, allowed: allowed[from] })
              // Nothing was written.
              assert.deepStrictEqual(yield* orders.get({ orderId: order.orderId, caller: admin }), order)
            }
          }).pipe(withOrders)
        )
      }
    }
  })

  it.effect("an unknown status is invalid_status with the valid ones, for a change and for the admin filter", () =>
    Effect.gen(function* () {
      const orders = yield* Orders
      const order = yield* create(orderInput("res_1"))
      const change = yield* failureOf(orders.setStatus({ orderId: order.orderId, status: "lost" }))
      assert.strictEqual(change.error, "invalid_status")
      assert.deepStrictEqual(change.details, { validStatuses: statuses })
      const filter = yield* Effect.flip(orders.listAll({ status: "PAID", limit: 10, offset: 0 }))
      assert.strictEqual(filter.error, "invalid_status")
      // Even for an order that does not exist: the request itself is wrong.
      const unknown = yield* Effect.flip(orders.setStatus({ orderId: OrderId.make("ord_none"), status: "lost" }))
      assert.strictEqual(unknown.error, "invalid_status")
    }).pipe(withOrders)
  )

  it.effect("every change appends a history entry at the Clock's time, with its note", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const orders = yield* Orders
      const order = yield* create(orderInput("res_1"))
      yield* TestClock.adjust(hour)
      yield* orders.setStatus({ orderId: order.orderId, status: "processing", note: "picked" })
      yield* TestClock.adjust(24 * hour)
      yield* orders.addShipment({ orderId: order.orderId, carrier: "UPS", trackingNumber: "1Z999" })
      yield* TestClock.adjust(48 * hour)
      const delivered = yield* orders.setStatus({ orderId: order.orderId, status: "delivered" })
      assert.deepStrictEqual(delivered.history, [
        { status: "paid", at: at(start) },
        { status: "processing", at: at(start + hour), note: "picked" },
        { status: "shipped", at: at(start + 25 * hour), note: "UPS 1Z999" },
        { status: "delivered", at: at(start + 73 * hour) }
      ])
      assert.strictEqual(delivered.createdAt, at(start))
      assert.strictEqual(delivered.updatedAt, at(start + 73 * hour))
    }).pipe(withOrders)
  )

  it.effect("an owner sees their order, another user gets order_not_found, an admin sees every order", () =>
    Effect.gen(function* () {
      const orders = yield* Orders
      const order = yield* create(orderInput("res_1"))
      assert.deepStrictEqual(yield* orders.get({ orderId: order.orderId, caller: aliceCaller }), order)
      assert.deepStrictEqual(yield* orders.get({ orderId: order.orderId, caller: admin }), order)
      const other = yield* Effect.flip(orders.get({ orderId: order.orderId, caller: { userId: bob, role: "user" } }))
      assert.strictEqual(other.error, "order_not_found")
      const missing = yield* Effect.flip(orders.get({ orderId: OrderId.make("ord_none"), caller: admin }))
      assert.strictEqual(missing.error, "order_not_found")
      const changes: ReadonlyArray<Effect.Effect<Order, { readonly error: string }>> = [
        orders.setStatus({ orderId: OrderId.make("ord_none"), status: "processing" }),
        orders.addShipment({ orderId: OrderId.make("ord_none"), carrier: "UPS", trackingNumber: "1" }),
        orders.recordRefund({ orderId: OrderId.make("ord_none"), amount: money(1), refundId: "ref_1" })
      ]
      for (const change of changes) {
        assert.strictEqual((yield* Effect.flip(change)).error, "order_not_found")
      }
    }).pipe(withOrders)
  )

  it.effect("lists a user's orders newest first in pages, with the total", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const orders = yield* Orders
      const created: Array<Order> = []
      for (let i = 0; i < 25; i++) {
        created.push(yield* create(orderInput(`res_a${i}`)))
        // Two orders in each millisecond: the id breaks the tie in creation order.
        if (i % 2 === 1) yield* TestClock.adjust(1)
        if (i % 5 === 0) yield* create(orderInput(`res_b${i}`, bob))
      }
      const newestFirst = created.map((order) => order.orderId).reverse()
      const first = yield* orders.listForUser({ userId: alice, limit: 10, offset: 0 })
      assert.strictEqual(first.total, 25)
      assert.strictEqual(first.limit, 10)
      assert.strictEqual(first.offset, 0)
      assert.deepStrictEqual(
        first.orders.map((order) => order.orderId),
        newestFirst.slice(0, 10)
      )
      const last = yield* orders.listForUser({ userId: alice, limit: 10, offset: 20 })
      assert.deepStrictEqual(
        last.orders.map((order) => order.orderId),
        newestFirst.slice(20)
      )
      assert.strictEqual(last.total, 25)
      const beyond = yield* orders.listForUser({ userId: alice, limit: 10, offset: 30 })
      assert.deepStrictEqual(beyond, { orders: [], total: 25, limit: 10, offset: 30 })
      const bobs = yield* orders.listForUser({ userId: bob, limit: 100, offset: 0 })
      assert.strictEqual(bobs.total, 5)
      assert.isTrue(bobs.orders.every((order) => order.userId === bob))
      for (const page of [
        { limit: 0, offset: 0 },
        { limit: 101, offset: 0 },
        { limit: 10, offset: -1 },
        { limit: 1.5, offset: 0 }
      ]) {
        const refused = yield* Effect.flip(orders.listForUser({ userId: alice, ...page }))
        assert.strictEqual(refused.error, "validation_error")
      }
    }).pipe(withOrders)
  )

  it.effect("the admin list holds every user's orders, newest first, and filters by status", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const orders = yield* Orders
      const a = yield* create(orderInput("res_1"))
      yield* TestClock.adjust(1)
      const b = yield* create(orderInput("res_2", bob))
      yield* TestClock.adjust(1)
      const c = yield* create(orderInput("res_3"))
      yield* orders.setStatus({ orderId: a.orderId, status: "processing" })
      yield* orders.setStatus({ orderId: c.orderId, status: "cancelled" })
      const all = yield* orders.listAll({ limit: 10, offset: 0 })
      assert.deepStrictEqual(
        all.orders.map((order) => order.orderId),
        [c.orderId, b.orderId, a.orderId]
      )
      assert.strictEqual(all.total, 3)
      const paid = yield* orders.listAll({ status: "paid", limit: 10, offset: 0 })
      assert.deepStrictEqual(
        paid.orders.map((order) => order.orderId),
        [b.orderId]
      )
      assert.strictEqual(paid.total, 1)
      const processing = yield* orders.listAll({ status: "processing", limit: 10, offset: 0 })
      assert.deepStrictEqual(
        processing.orders.map((order) => [order.orderId, order.status]),
        [[a.orderId, "processing"]]
      )
      const shipped = yield* orders.listAll({ status: "shipped", limit: 10, offset: 0 })
      assert.deepStrictEqual(shipped, { orders: [], total: 0, limit: 10, offset: 0 })
      const page = yield* orders.listAll({ limit: 1, offset: 1 })
      assert.deepStrictEqual(
        page.orders.map((order) => order.orderId),
        [b.orderId]
      )
      assert.strictEqual(page.total, 3)
    }).pipe(withOrders)
  )

  describe("shipments", () => {
    for (const from of ["paid", "processing"] as const) {
      it.effect(`a shipment moves a ${from} order to shipped and is recorded`, () =>
        Effect.gen(function* () {
          yield* TestClock.setTime(start)
          const orders = yield* Orders
          const order = yield* orderIn(from)
          yield* TestClock.adjust(hour)
          const shipped = yield* orders.addShipment({
            orderId: order.orderId,
            carrier: "DHL",
            trackingNumber: "JD0002",
            labelUrl: "https://labels.example.com/JD0002.pdf"
          })
          assert.strictEqual(shipped.status, "shipped")
          assert.strictEqual(shipped.shipments.length, 1)
          const [shipment] = shipped.shipments
          assert.match(shipment?.shipmentId ?? "", /^shp_[A-Za-z0-9]+$/)
          assert.deepStrictEqual(shipment, {
            shipmentId: shipment?.shipmentId ?? "",
            carrier: "DHL",
            trackingNumber: "JD0002",
            labelUrl: "https://labels.example.com/JD0002.pdf",
            createdAt: at(start + hour)
          })
          assert.deepStrictEqual(shipped.history.at(-1), {
            status: "shipped",
            at: at(start + hour),
            note: "DHL JD0002"
          })
        }).pipe(withOrders)
      )
    }

    for (const from of ["shipped", "delivered", "cancelled", "refunded"] as const) {
      it.effect(`a shipment of a ${from} order is invalid_transition and records nothing`, () =>
        Effect.gen(function* () {
          const orders = yield* Orders
          const order = yield* orderIn(from)
          const refused = yield* failureOf(
            orders.addShipment({ orderId: order.orderId, carrier: "UPS", trackingNumber: "1Z" })
          )
          assert.strictEqual(refused.error, "invalid_transition")
          assert.deepStrictEqual(refused.details, { from, to: "shipped", allowed: allowed[from] })
          assert.deepStrictEqual(yield* orders.get({ orderId: order.orderId, caller: admin }), order)
        }).pipe(withOrders)
      )
    }

    it.effect("a shipment needs a carrier and a tracking number", () =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const order = yield* create(orderInput("res_1"))
        const refused = yield* Effect.flip(
          orders.addShipment({ orderId: order.orderId, carrier: " ", trackingNumber: "" })
        )
        assert.strictEqual(refused.error, "validation_error")
        assert.strictEqual((yield* orders.get({ orderId: order.orderId, caller: admin })).status, "paid")
      }).pipe(withOrders)
    )
  })

  describe("refunds", () => {
    it.effect("partial refunds add up to what was captured and never past it", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const orders = yield* Orders
        const order = yield* create(orderInput("res_1"))
        yield* TestClock.adjust(hour)
        const first = yield* orders.recordRefund({ orderId: order.orderId, amount: money(2_000), refundId: "ref_1" })
        assert.strictEqual(first.status, "paid")
        assert.deepStrictEqual(first.payment.refunded, money(2_000))
        assert.deepStrictEqual(first.payment.refunds, [
          { refundId: "ref_1", amount: money(2_000), at: at(start + hour) }
        ])
        assert.strictEqual(first.history.length, 1)
        assert.strictEqual(first.updatedAt, at(start + hour))
        const over = yield* failureOf(
          orders.recordRefund({ orderId: order.orderId, amount: money(3_001), refundId: "ref_2" })
        )
        assert.strictEqual(over.error, "refund_exceeds_captured")
        assert.deepStrictEqual(over.details, {
          captured: money(5_000),
          refunded: money(2_000),
          requested: money(3_001)
        })
        const rest = yield* orders.recordRefund({ orderId: order.orderId, amount: money(3_000), refundId: "ref_3" })
        assert.deepStrictEqual(rest.payment.refunded, money(5_000))
        // A paid order refunded in full is still paid: cancelling is its own step.
        assert.strictEqual(rest.status, "paid")
        const more = yield* Effect.flip(
          orders.recordRefund({ orderId: order.orderId, amount: money(1), refundId: "ref_4" })
        )
        assert.strictEqual(more.error, "refund_exceeds_captured")
      }).pipe(withOrders)
    )

    it.effect("a refund recorded again under its id changes nothing", () =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const order = yield* create(orderInput("res_1"))
        const once = yield* orders.recordRefund({ orderId: order.orderId, amount: money(1_000), refundId: "ref_1" })
        const twice = yield* orders.recordRefund({ orderId: order.orderId, amount: money(1_000), refundId: "ref_1" })
        assert.deepStrictEqual(twice, once)
        assert.deepStrictEqual(twice.payment.refunded, money(1_000))
      }).pipe(withOrders)
    )

    it.effect("refuses a refund of nothing, or in another currency", () =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const order = yield* create(orderInput("res_1"))
        for (const amount of [money(0), money(-5), money(1.5), { amount: 100, currency: eur }]) {
          const refused = yield* Effect.flip(orders.recordRefund({ orderId: order.orderId, amount, refundId: "ref_1" }))
          assert.strictEqual(refused.error, "validation_error")
        }
        const blank = yield* Effect.flip(
          orders.recordRefund({ orderId: order.orderId, amount: money(1), refundId: "" })
        )
        assert.strictEqual(blank.error, "validation_error")
        assert.deepStrictEqual(yield* orders.get({ orderId: order.orderId, caller: admin }), order)
      }).pipe(withOrders)
    )

    it.effect("a delivered order refunded in full becomes refunded; in part it stays delivered", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(start)
        const orders = yield* Orders
        const order = yield* orderIn("delivered")
        yield* TestClock.adjust(hour)
        const part = yield* orders.recordRefund({ orderId: order.orderId, amount: money(1_500), refundId: "ref_1" })
        assert.strictEqual(part.status, "delivered")
        assert.strictEqual(part.history.length, order.history.length)
        yield* TestClock.adjust(hour)
        const full = yield* orders.recordRefund({ orderId: order.orderId, amount: money(3_500), refundId: "ref_2" })
        assert.strictEqual(full.status, "refunded")
        assert.deepStrictEqual(full.payment.refunded, money(5_000))
        assert.deepStrictEqual(full.history.at(-1), {
          status: "refunded",
          at: at(start + 2 * hour),
          note: "refund ref_2"
        })
      }).pipe(withOrders)
    )

    it.effect("a refund of a cancelled order is recorded without a transition", () =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const order = yield* orderIn("cancelled")
        const refunded = yield* orders.recordRefund({ orderId: order.orderId, amount: money(5_000), refundId: "ref_1" })
        assert.strictEqual(refunded.status, "cancelled")
        assert.deepStrictEqual(refunded.history, order.history)
        assert.deepStrictEqual(refunded.payment.refunded, money(5_000))
      }).pipe(withOrders)
    )
  })

  describe("racing changes", () => {
    it.effect("concurrent partial refunds that together exceed the capture: exactly the ones that fit land", () =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const order = yield* orderIn("delivered")
        const outcomes = yield* Effect.all(
          Array.from({ length: 12 }, (_, i) =>
            outcome(orders.recordRefund({ orderId: order.orderId, amount: money(1_000), refundId: `ref_${i}` }))
          ),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(count(outcomes, "ok"), 5)
        assert.strictEqual(count(outcomes, "refund_exceeds_captured"), 7)
        const final = yield* orders.get({ orderId: order.orderId, caller: admin })
        assert.deepStrictEqual(final.payment.refunded, money(5_000))
        assert.strictEqual(final.payment.refunds.length, 5)
        assert.strictEqual(final.status, "refunded")
        assert.strictEqual(final.history.filter((entry) => entry.status === "refunded").length, 1)
      }).pipe(withRacingOrders)
    )

    it.effect("uneven concurrent refunds never add up past the capture", () =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const order = yield* create(orderInput("res_1"))
        const amounts = [3_000, 2_500, 2_000, 1_500, 1_000, 500, 250]
        const outcomes = yield* Effect.all(
          amounts.map((amount, i) =>
            outcome(orders.recordRefund({ orderId: order.orderId, amount: money(amount), refundId: `ref_${i}` }))
          ),
          { concurrency: "unbounded" }
        )
        const final = yield* orders.get({ orderId: order.orderId, caller: admin })
        const landed = amounts.filter((_, i) => outcomes[i] === "ok")
        assert.deepStrictEqual(final.payment.refunds.map((refund) => refund.amount.amount).sort(), [...landed].sort())
        const total = landed.reduce((sum, amount) => sum + amount, 0)
        assert.isAtMost(total, 5_000)
        assert.deepStrictEqual(final.payment.refunded, money(total))
        // Every refused refund was refused because it did not fit what was left.
        assert.isTrue(outcomes.every((o) => o === "ok" || o === "refund_exceeds_captured"))
        assert.isTrue(amounts.every((amount, i) => outcomes[i] === "ok" || total + amount > 5_000))
      }).pipe(withRacingOrders)
    )

    it.effect("of ten racing moves to processing one lands; the others find it there: invalid_transition", () =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const order = yield* create(orderInput("res_1"))
        const outcomes = yield* Effect.all(
          Array.from({ length: 10 }, () => outcome(orders.setStatus({ orderId: order.orderId, status: "processing" }))),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(count(outcomes, "ok"), 1)
        assert.strictEqual(count(outcomes, "invalid_transition"), 9)
        const final = yield* orders.get({ orderId: order.orderId, caller: admin })
        assert.deepStrictEqual(
          final.history.map((entry) => entry.status),
          ["paid", "processing"]
        )
      }).pipe(withRacingOrders)
    )

    it.effect("a loser still allowed after the winner lands as well: processing and cancelled from paid", () =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const order = yield* create(orderInput("res_1"))
        const outcomes = yield* Effect.all(
          [
            outcome(orders.setStatus({ orderId: order.orderId, status: "processing" })),
            outcome(orders.setStatus({ orderId: order.orderId, status: "cancelled" }))
          ],
          { concurrency: "unbounded" }
        )
        const final = yield* orders.get({ orderId: order.orderId, caller: admin })
        // Processing first, then cancelled (still allowed) — or cancelled
        // first, and processing refused.
        if (outcomes[0] === "ok") {
          assert.deepStrictEqual(outcomes, ["ok", "ok"])
          assert.deepStrictEqual(
            final.history.map((entry) => entry.status),
            ["paid", "processing", "cancelled"]
          )
        } else {
          assert.deepStrictEqual(outcomes, ["invalid_transition", "ok"])
          assert.deepStrictEqual(
            final.history.map((entry) => entry.status),
            ["paid", "cancelled"]
          )
        }
        assert.strictEqual(final.status, "cancelled")
      }).pipe(withRacingOrders)
    )

    it.effect("a shipment racing a cancellation: exactly one of them lands", () =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const order = yield* create(orderInput("res_1"))
        const outcomes = yield* Effect.all(
          [
            outcome(orders.addShipment({ orderId: order.orderId, carrier: "UPS", trackingNumber: "1Z" })),
            outcome(orders.setStatus({ orderId: order.orderId, status: "cancelled" }))
          ],
          { concurrency: "unbounded" }
        )
        assert.strictEqual(count(outcomes, "ok"), 1)
        assert.strictEqual(count(outcomes, "invalid_transition"), 1)
        const final = yield* orders.get({ orderId: order.orderId, caller: admin })
        assert.strictEqual(final.history.length, 2)
        assert.strictEqual(final.shipments.length, final.status === "shipped" ? 1 : 0)
      }).pipe(withRacingOrders)
    )

    it.effect("an order that keeps changing under a caller ends in update_conflict, with nothing written", () =>
      Effect.gen(function* () {
        const orders = yield* Orders
        const order = yield* create(orderInput("res_1"))
        const refused = yield* Effect.flip(orders.setStatus({ orderId: order.orderId, status: "processing" }))
        assert.strictEqual(refused.error, "update_conflict")
        assert.deepStrictEqual(yield* orders.get({ orderId: order.orderId, caller: admin }), order)
      }).pipe(
        Effect.provide(
          OrdersLive.layer.pipe(
            Layer.provide(
              // Every compare-and-set loses, as if another change always landed first.
              Layer.effect(
                OrdersRepository,
                Effect.gen(function* () {
                  const real = yield* OrdersRepository
                  return OrdersRepository.of({ ...real, replace: () => Effect.succeed(false) })
                })
              ).pipe(Layer.provide(OrdersRepositoryMemory.layer))
            ),
            Layer.provide(layerStandIns)
          )
        )
      )
    )
  })
})
