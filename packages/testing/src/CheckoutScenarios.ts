import { Schema } from "effect"
import { expect, it } from "vitest"
import { CheckoutCaptured, CheckoutStarted, PaymentView } from "@shop/domain/Checkout"
import { Cart } from "@shop/domain/Cart"
import { StockLevel } from "@shop/domain/Inventory"
import { Order, OrderPage } from "@shop/domain/Orders"
import { type Call, errorBody, json, type Reply } from "./Client.ts"
import type { Account, Fixtures } from "./Fixtures.ts"
import { usd } from "./Fixtures.ts"
import type { Target } from "./Scenarios.ts"

// Checkout, payments and orders through the gateway (API.md, "Checkout and
// payments", "Orders"), the same on every runtime. The buyer's approval at
// PayPal is a GET of the approve link at the fake PayPal the runtime runs
// (Target.paypal), as a browser would follow it; faults are injected through
// the fake's control API at the same origin.

export interface CheckoutContext {
  readonly target: () => Target
  readonly api: (method: string, path: string, call?: Call) => Promise<Reply>
  readonly shop: () => Fixtures
  readonly admin: () => Account
}

const expectError = (reply: Reply, status: number, error: string) => {
  expect({ status: reply.status, error: errorBody(reply).error }, JSON.stringify(reply.body)?.slice(0, 300)).toEqual({
    status,
    error
  })
}

const Stats = Schema.Struct({
  requests: Schema.Record(Schema.String, Schema.Number),
  orders: Schema.Number,
  captures: Schema.Number
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const texas = {
  name: "Ada Buyer",
  line1: "500 Congress Ave",
  city: "Austin",
  region: "TX",
  postalCode: "78701",
  country: "US"
}

export const checkoutScenarios = (context: CheckoutContext) => {
  const { api } = context
  const paypal = (request: Request) => context.target().paypal.fetch(request)

  // The fake PayPal's control API, at the origin of its approve links.
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await paypal(
      new Request(`${context.target().paypal.origin}${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? null : JSON.stringify(body)
      })
    )
    const text = await response.text()
    expect(response.status, text).toBeLessThan(300)
    return text.length > 0 ? (JSON.parse(text) as unknown) : undefined
  }
  const fault = (step: string, mode: string, times = 1) => control("POST", "/__fake/faults", { step, mode, times })
  const clearFaults = () => control("DELETE", "/__fake/faults")
  const stats = async () => Schema.decodeUnknownSync(Stats)(await control("GET", "/__fake/stats"))

  // The buyer approves at PayPal: the fake answers 302 to the return URL.
  const approve = async (started: CheckoutStarted) => {
    const response = await paypal(new Request(started.approveUrl, { redirect: "manual" }))
    await response.body?.cancel()
    expect(response.status).toBe(302)
    return response.headers.get("location") ?? ""
  }

  const stockOf = async (variantId: string) =>
    json(await api("GET", `/api/admin/inventory/${variantId}`, { token: context.admin().token }), StockLevel)

  // A signed-in buyer's cart with `quantity` of a new product (stock
  // `stock`), an address in Texas and standard shipping: ready to check out.
  const readyCart = async (
    buyer: Account,
    options: { readonly stock?: number; readonly quantity?: number; readonly price?: number } = {}
  ) => {
    const product = await context
      .shop()
      .createProduct(context.admin().token, { price: usd(options.price ?? 2500), stock: options.stock ?? 10 })
    return { product, cart: await cartFor(buyer, product.productId, options.quantity ?? 1) }
  }
  const cartFor = async (buyer: Account, productId: string, quantity: number) => {
    const created = await api("POST", "/api/cart/init", { token: buyer.token })
    expect(created.status).toBe(201)
    const cartId = json(created, Cart).cartId
    const steps: Array<[string, unknown]> = [
      ["/add", { productId, quantity }],
      ["/address", { address: texas }],
      ["/shipping", { methodId: "standard" }]
    ]
    let cart: Cart | undefined
    for (const [path, body] of steps) {
      const reply = await api("POST", `/api/cart/${cartId}${path}`, { token: buyer.token, body })
      expect(reply.status, JSON.stringify(reply.body)).toBe(200)
      cart = json(reply, Cart)
    }
    return cart as Cart
  }
  const start = (buyer: Account, cartId: string, extra: Record<string, unknown> = {}) =>
    api("POST", "/api/checkout/start", { token: buyer.token, body: { cartId, ...extra } })
  const started = async (buyer: Account, cartId: string) => {
    const reply = await start(buyer, cartId)
    expect(reply.status, JSON.stringify(reply.body)).toBe(201)
    return json(reply, CheckoutStarted)
  }
  const capture = (buyer: Account, paypalOrderId: string) =>
    api("POST", "/api/checkout/capture", { token: buyer.token, body: { paypalOrderId } })
  const captured = async (buyer: Account, paypalOrderId: string) => {
    const reply = await capture(buyer, paypalOrderId)
    expect(reply.status, JSON.stringify(reply.body)).toBe(200)
    return json(reply, CheckoutCaptured)
  }
  // Start, approve and capture: the whole purchase.
  const buy = async (buyer: Account, cartId: string) => {
    const checkout = await started(buyer, cartId)
    await approve(checkout)
    return { checkout, result: await captured(buyer, checkout.paypalOrderId) }
  }

  it("sells a cart: start holds the stock, the buyer approves, capture takes the money once and creates the order", async () => {
    const buyer = await context.shop().newUser("buyer")
    const { product, cart } = await readyCart(buyer, { stock: 5, quantity: 2 })
    const variantId = product.variants[0].variantId

    const checkout = await started(buyer, cart.cartId)
    expect(checkout.reservationId).toMatch(/^res_/)
    expect(checkout.paymentId).toMatch(/^pay_/)
    expect(checkout.summary).toEqual(cart.summary)
    expect(Date.parse(checkout.expiresAt)).toBeGreaterThan(Date.now())
    expect(await stockOf(variantId)).toMatchObject({ stock: 5, reserved: 2, available: 3 })
    const withCheckout = json(await api("GET", `/api/cart/${cart.cartId}`, { token: buyer.token }), Cart)
    expect(withCheckout.checkout).toMatchObject({
      status: "pending",
      reservationId: checkout.reservationId,
      paymentId: checkout.paymentId,
      approveUrl: checkout.approveUrl
    })

    // Not approved yet: nothing is taken.
    expectError(await capture(buyer, checkout.paypalOrderId), 409, "payment_not_approved")

    const returnedTo = await approve(checkout)
    expect(returnedTo).toContain(checkout.paypalOrderId)
    const result = await captured(buyer, checkout.paypalOrderId)
    expect(result).toMatchObject({ status: "paid", paymentId: checkout.paymentId })
    expect(result.orderId).toMatch(/^ord_/)
    // Repeated: the same answer, charged once.
    expect(await captured(buyer, checkout.paypalOrderId)).toEqual(result)

    const order = json(await api("GET", `/api/orders/${result.orderId}`, { token: buyer.token }), Order)
    expect(order).toMatchObject({
      orderId: result.orderId,
      userId: buyer.userId,
      status: "paid",
      summary: cart.summary,
      payment: { paymentId: checkout.paymentId, provider: "paypal", captureId: result.captureId }
    })
    expect(order.items.map((line) => [line.variantId, line.quantity])).toEqual([[variantId, 2]])
    expect(order.history.map((entry) => entry.status)).toEqual(["paid"])

    const mine = json(await api("GET", "/api/orders", { token: buyer.token }), OrderPage)
    expect(mine.orders.map((o) => o.orderId)).toEqual([result.orderId])
    expect(mine.total).toBe(1)

    const payment = json(await api("GET", `/api/payments/${checkout.paymentId}`, { token: buyer.token }), PaymentView)
    expect(payment).toMatchObject({ paymentId: checkout.paymentId, status: "captured", amount: cart.summary.total })
    expect(payment.captures).toHaveLength(1)
    expect(Object.keys(payment).sort()).toEqual(["amount", "captures", "paymentId", "refunds", "status"])

    // The stock is sold, the cart is empty.
    expect(await stockOf(variantId)).toMatchObject({ stock: 3, reserved: 0, available: 3 })
    const after = json(await api("GET", `/api/cart/${cart.cartId}`, { token: buyer.token }), Cart)
    expect(after.items).toEqual([])
    expect(after.checkout).toBeNull()

    // Someone else sees none of it; an admin sees the order and the payment.
    const stranger = await context.shop().newUser("stranger")
    expectError(await api("GET", `/api/orders/${result.orderId}`, { token: stranger.token }), 404, "order_not_found")
    expectError(
      await api("GET", `/api/payments/${checkout.paymentId}`, { token: stranger.token }),
      404,
      "payment_not_found"
    )
    expectError(await capture(stranger, checkout.paypalOrderId), 404, "payment_not_found")
    expect((await api("GET", `/api/orders/${result.orderId}`, { token: context.admin().token })).status).toBe(200)
    expect((await api("GET", `/api/payments/${checkout.paymentId}`, { token: context.admin().token })).status).toBe(200)
    expect(json(await api("GET", "/api/orders", { token: stranger.token }), OrderPage).total).toBe(0)
  })

  it("refuses to start an empty cart, one without an address or shipping, someone else's, and a guest", async () => {
    const buyer = await context.shop().newUser("buyer")
    const product = await context.shop().createProduct(context.admin().token, { stock: 5 })
    const cartId = json(await api("POST", "/api/cart/init", { token: buyer.token }), Cart).cartId
    expectError(await start(buyer, cartId), 400, "cart_empty")
    await api("POST", `/api/cart/${cartId}/add`, {
      token: buyer.token,
      body: { productId: product.productId, quantity: 1 }
    })
    expectError(await start(buyer, cartId), 400, "address_required")
    await api("POST", `/api/cart/${cartId}/address`, { token: buyer.token, body: { address: texas } })
    expectError(await start(buyer, cartId), 400, "shipping_required")

    const stranger = await context.shop().newUser("stranger")
    expectError(await start(stranger, cartId), 404, "cart_not_found")
    expectError(await start(buyer, "cart_doesnotexist"), 404, "cart_not_found")
    expectError(await api("POST", "/api/checkout/start", { body: { cartId } }), 401, "unauthorized")
    for (const body of [{}, { cartId, price: 1 }, { cartId, returnUrl: "javascript:alert(1)" }, { cartId: 5 }]) {
      expectError(await api("POST", "/api/checkout/start", { token: buyer.token, body }), 400, "validation_error")
    }
    expectError(await capture(buyer, "NO-SUCH-ORDER"), 404, "payment_not_found")
    // Nothing was held by any of it.
    expect(await stockOf(product.variants[0].variantId)).toMatchObject({ reserved: 0 })
  })

  it("answers a repeated start with the same hold and payment, and a changed cart releases the old hold", async () => {
    const buyer = await context.shop().newUser("buyer")
    const { product, cart } = await readyCart(buyer, { stock: 10, quantity: 2 })
    const variantId = product.variants[0].variantId
    const first = await started(buyer, cart.cartId)
    expect(await started(buyer, cart.cartId)).toEqual(first)
    expect(await stockOf(variantId)).toMatchObject({ reserved: 2 })

    // The cart changes: the hold goes back and the checkout is cleared.
    const changed = await api("POST", `/api/cart/${cart.cartId}/update`, {
      token: buyer.token,
      body: { variantId, quantity: 3 }
    })
    expect(json(changed, Cart).checkout).toBeNull()
    expect(await stockOf(variantId)).toMatchObject({ reserved: 0 })
    // The old payment can no longer be captured, even once approved.
    await approve(first)
    expectError(await capture(buyer, first.paypalOrderId), 409, "hold_expired")

    const second = await started(buyer, cart.cartId)
    expect(second.reservationId).not.toBe(first.reservationId)
    expect(second.paymentId).not.toBe(first.paymentId)
    expect(second.summary.subtotal.amount).toBe(3 * 2500)
    expect(await stockOf(variantId)).toMatchObject({ reserved: 3 })
  })

  it("12 buyers racing for 3 units: exactly 3 holds and 9 insufficient_stock, then exactly 3 orders", async () => {
    const product = await context.shop().createProduct(context.admin().token, { stock: 3, price: usd(1500) })
    const buyers = await Promise.all(Array.from({ length: 12 }, () => context.shop().newUser("racer")))
    const carts = await Promise.all(buyers.map((buyer) => cartFor(buyer, product.productId, 1)))
    const replies = await Promise.all(buyers.map((buyer, index) => start(buyer, carts[index]?.cartId ?? "")))
    const won = replies.flatMap((reply, index) => (reply.status === 201 ? [index] : []))
    expect(won).toHaveLength(3)
    for (const reply of replies) if (reply.status !== 201) expectError(reply, 409, "insufficient_stock")

    const orders = await Promise.all(
      won.map(async (index) => {
        const buyer = buyers[index] as Account
        const checkout = json(replies[index] as Reply, CheckoutStarted)
        await approve(checkout)
        return captured(buyer, checkout.paypalOrderId)
      })
    )
    expect(new Set(orders.map((order) => order.orderId)).size).toBe(3)
    expect(await stockOf(product.variants[0].variantId)).toMatchObject({ stock: 0, reserved: 0, available: 0 })
  })

  it("20 parallel starts and 20 parallel captures of one cart: one hold, one PayPal order, one capture, one order", async () => {
    const buyer = await context.shop().newUser("buyer")
    const { product, cart } = await readyCart(buyer, { stock: 5, quantity: 1 })
    const starts = await Promise.all(Array.from({ length: 20 }, () => start(buyer, cart.cartId)))
    for (const reply of starts) expect(reply.status, JSON.stringify(reply.body)).toBe(201)
    const answers = starts.map((reply) => json(reply, CheckoutStarted))
    expect(new Set(answers.map((answer) => answer.reservationId)).size).toBe(1)
    expect(new Set(answers.map((answer) => answer.paypalOrderId)).size).toBe(1)
    const checkout = answers[0] as CheckoutStarted
    const before = await stats()
    await approve(checkout)
    const captures = await Promise.all(Array.from({ length: 20 }, () => capture(buyer, checkout.paypalOrderId)))
    for (const reply of captures) expect(reply.status, JSON.stringify(reply.body)).toBe(200)
    const results = captures.map((reply) => json(reply, CheckoutCaptured))
    expect(new Set(results.map((result) => result.orderId)).size).toBe(1)
    expect(new Set(results.map((result) => result.captureId)).size).toBe(1)
    const after = await stats()
    expect(after.captures - before.captures).toBe(1)
    expect(await stockOf(product.variants[0].variantId)).toMatchObject({ stock: 4, reserved: 0 })
    const payment = json(await api("GET", `/api/payments/${checkout.paymentId}`, { token: buyer.token }), PaymentView)
    expect(payment.captures).toHaveLength(1)
  })

  it("a usageLimit: 1 coupon raced by 5 checkouts discounts exactly one order; the others are charged nothing", async () => {
    const code = `ONCE${Date.now().toString(36).toUpperCase()}`
    const created = await api("POST", "/api/admin/coupons", {
      token: context.admin().token,
      body: { code, type: "fixed", value: 500, usageLimit: 1 }
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const product = await context.shop().createProduct(context.admin().token, { stock: 20, price: usd(3000) })
    const buyers = await Promise.all(Array.from({ length: 5 }, () => context.shop().newUser("coupon")))
    const checkouts = await Promise.all(
      buyers.map(async (buyer) => {
        const cart = await cartFor(buyer, product.productId, 1)
        const applied = await api("POST", `/api/cart/${cart.cartId}/coupon/apply`, {
          token: buyer.token,
          body: { code }
        })
        expect(applied.status, JSON.stringify(applied.body)).toBe(200)
        const checkout = await started(buyer, cart.cartId)
        expect(checkout.summary.discount.amount).toBe(500)
        await approve(checkout)
        return checkout
      })
    )
    const replies = await Promise.all(
      checkouts.map((checkout, index) => capture(buyers[index] as Account, checkout.paypalOrderId))
    )
    const paid = replies.filter((reply) => reply.status === 200)
    expect(paid).toHaveLength(1)
    for (const reply of replies) if (reply.status !== 200) expectError(reply, 409, "coupon_exhausted")
    // The losers were charged nothing.
    for (const [index, reply] of replies.entries()) {
      if (reply.status === 200) continue
      const buyer = buyers[index] as Account
      const checkout = checkouts[index] as CheckoutStarted
      const payment = json(await api("GET", `/api/payments/${checkout.paymentId}`, { token: buyer.token }), PaymentView)
      expect(payment.captures).toEqual([])
    }
    const order = json(
      await api("GET", `/api/orders/${json(paid[0] as Reply, CheckoutCaptured).orderId}`, {
        token: context.admin().token
      }),
      Order
    )
    expect(order.summary.discount.amount).toBe(500)
  })

  it("PayPal failing at create releases the hold; failing at capture takes nothing until a retry succeeds once", async () => {
    const buyer = await context.shop().newUser("buyer")
    const { product, cart } = await readyCart(buyer, { stock: 4, quantity: 1 })
    const variantId = product.variants[0].variantId

    await fault("create", "5xx", 10)
    const failed = await start(buyer, cart.cartId)
    await clearFaults()
    expect([502, 504]).toContain(failed.status)
    expect(await stockOf(variantId)).toMatchObject({ reserved: 0 })

    const checkout = await started(buyer, cart.cartId)
    const before = await stats()
    // Every capture fails while the fault stands, the webhook's included.
    await fault("capture", "5xx", 1000)
    await approve(checkout)
    const first = await capture(buyer, checkout.paypalOrderId)
    expect([502, 504]).toContain(first.status)
    // The money is not taken and the hold still stands.
    const payment = json(await api("GET", `/api/payments/${checkout.paymentId}`, { token: buyer.token }), PaymentView)
    expect(payment.captures).toEqual([])
    expect(await stockOf(variantId)).toMatchObject({ reserved: 1 })
    await clearFaults()
    const result = await captured(buyer, checkout.paypalOrderId)
    expect(result.status).toBe("paid")
    expect((await stats()).captures - before.captures).toBe(1)
  })

  it("a capture whose answer is lost is found, not taken twice", async () => {
    const buyer = await context.shop().newUser("buyer")
    const { cart } = await readyCart(buyer, { stock: 4, quantity: 1 })
    const checkout = await started(buyer, cart.cartId)
    const before = await stats()
    // Whoever captures first (the buyer or the webhook) loses the answer.
    await fault("capture", "lost_answer", 1)
    await approve(checkout)
    const reply = await capture(buyer, checkout.paypalOrderId)
    // Either the service read the order at once and answered, or the caller retries.
    const result = reply.status === 200 ? json(reply, CheckoutCaptured) : await captured(buyer, checkout.paypalOrderId)
    expect(result.status).toBe("paid")
    expect((await stats()).captures - before.captures).toBe(1)
    await clearFaults()
  })

  it("a PayPal webhook completes a checkout whose buyer never came back, once; a forged one is refused", async () => {
    const buyer = await context.shop().newUser("buyer")
    const { cart } = await readyCart(buyer, { stock: 4, quantity: 1 })
    const checkout = await started(buyer, cart.cartId)
    // The buyer approves and closes the browser: the fake's CHECKOUT.ORDER.APPROVED
    // webhook reaches the shop, which captures and creates the order.
    await approve(checkout)
    let orders = json(await api("GET", "/api/orders", { token: buyer.token }), OrderPage)
    for (let attempt = 0; orders.total === 0 && attempt < 100; attempt++) {
      await sleep(100)
      orders = json(await api("GET", "/api/orders", { token: buyer.token }), OrderPage)
    }
    expect(orders.total).toBe(1)
    // The browser comes back late: the same order.
    const result = await captured(buyer, checkout.paypalOrderId)
    expect(result.orderId).toBe(orders.orders[0]?.orderId)

    const forged = await api("POST", "/api/payments/paypal/webhook", {
      raw: JSON.stringify({
        id: "WH-FORGED",
        event_type: "CHECKOUT.ORDER.APPROVED",
        resource: { id: checkout.paypalOrderId }
      }),
      headers: {
        "paypal-auth-algo": "SHA256withRSA",
        "paypal-cert-url": "https://api.paypal.com/cert.pem",
        "paypal-transmission-id": "forged",
        "paypal-transmission-sig": "Zm9yZ2Vk",
        "paypal-transmission-time": new Date().toISOString()
      }
    })
    expect(forged.status).toBe(400)
    expectError(await api("POST", "/api/payments/paypal/webhook", { raw: "{}" }), 400, "invalid_webhook_signature")
  })

  it("admins list orders by status, move them along, ship with a label, refund within what was captured, and cancel with refund and restock", async () => {
    const adminToken = context.admin().token
    const buyer = await context.shop().newUser("buyer")
    const { product, cart } = await readyCart(buyer, { stock: 6, quantity: 2, price: 2000 })
    const variantId = product.variants[0].variantId
    const { result } = await buy(buyer, cart.cartId)
    const orderPath = `/api/admin/orders/${result.orderId}`

    const paidPage = json(await api("GET", "/api/admin/orders?status=paid&limit=100", { token: adminToken }), OrderPage)
    expect(paidPage.orders.some((order) => order.orderId === result.orderId)).toBe(true)
    for (const order of paidPage.orders) expect(order.status).toBe("paid")
    const bad = await api("GET", "/api/admin/orders?status=lost", { token: adminToken })
    expectError(bad, 400, "invalid_status")
    expect(errorBody(bad).details?.["validStatuses"]).toEqual(
      expect.arrayContaining(["paid", "processing", "shipped", "delivered", "cancelled", "refunded"])
    )
    expectError(await api("GET", "/api/admin/orders", { token: buyer.token }), 403, "forbidden")
    expectError(
      await api("PUT", `${orderPath}/status`, { token: adminToken, body: { status: "delivered" } }),
      409,
      "invalid_transition"
    )
    expectError(
      await api("PUT", `${orderPath}/status`, { token: adminToken, body: { status: "lost" } }),
      400,
      "invalid_status"
    )

    const processing = json(
      await api("PUT", `${orderPath}/status`, { token: adminToken, body: { status: "processing" } }),
      Order
    )
    expect(processing.status).toBe("processing")
    const shipped = json(await api("POST", `${orderPath}/ship`, { token: adminToken, body: {} }), Order)
    expect(shipped.status).toBe("shipped")
    expect(shipped.shipments).toHaveLength(1)
    expect(shipped.shipments[0]?.carrier.length).toBeGreaterThan(0)
    expect(shipped.shipments[0]?.trackingNumber.length).toBeGreaterThan(0)
    expectError(
      await api("PUT", `${orderPath}/status`, { token: adminToken, body: { status: "cancelled" } }),
      409,
      "invalid_transition"
    )
    const delivered = json(
      await api("PUT", `${orderPath}/status`, { token: adminToken, body: { status: "delivered" } }),
      Order
    )
    expect(delivered.history.map((entry) => entry.status)).toEqual(["paid", "processing", "shipped", "delivered"])

    const total = delivered.payment.captured.amount
    const partial = json(
      await api("POST", `${orderPath}/refund`, {
        token: adminToken,
        body: { amount: { amount: 1000, currency: "USD" } }
      }),
      Order
    )
    expect(partial.payment.refunded.amount).toBe(1000)
    expect(partial.status).toBe("delivered")
    expectError(
      await api("POST", `${orderPath}/refund`, {
        token: adminToken,
        body: { amount: { amount: total, currency: "USD" } }
      }),
      409,
      "refund_exceeds_captured"
    )
    const rest = json(await api("POST", `${orderPath}/refund`, { token: adminToken, body: {} }), Order)
    expect(rest.payment.refunded.amount).toBe(total)
    expect(rest.status).toBe("refunded")
    const payment = json(await api("GET", `/api/payments/${result.paymentId}`, { token: buyer.token }), PaymentView)
    expect(payment.status).toBe("refunded")
    expect(payment.refunds.reduce((sum, refund) => sum + refund.amount.amount, 0)).toBe(total)

    // A paid order cancelled: the money back in full and the stock restocked.
    const second = await cartFor(buyer, product.productId, 1)
    const bought = await buy(buyer, second.cartId)
    expect(await stockOf(variantId)).toMatchObject({ stock: 3, reserved: 0 })
    const cancelled = json(
      await api("PUT", `/api/admin/orders/${bought.result.orderId}/status`, {
        token: adminToken,
        body: { status: "cancelled" }
      }),
      Order
    )
    expect(cancelled.status).toBe("cancelled")
    expect(cancelled.payment.refunded).toEqual(cancelled.payment.captured)
    expect(await stockOf(variantId)).toMatchObject({ stock: 4, reserved: 0 })
    // Again: nothing more moves.
    const again = await api("PUT", `/api/admin/orders/${bought.result.orderId}/status`, {
      token: adminToken,
      body: { status: "cancelled" }
    })
    expect([200, 409]).toContain(again.status)
    expect(await stockOf(variantId)).toMatchObject({ stock: 4, reserved: 0 })
    const mine = json(await api("GET", "/api/orders?limit=1", { token: buyer.token }), OrderPage)
    expect(mine).toMatchObject({ total: 2, limit: 1, offset: 0 })
    expect(mine.orders[0]?.orderId).toBe(bought.result.orderId)
  })
}
