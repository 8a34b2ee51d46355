import { Effect, Layer, Option, Predicate, Schema } from "effect"
import { HttpEffect, HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { CurrentShopper, CurrentUser, ShopApi } from "@shop/domain/Api"
import type { SetCartAddressInput } from "@shop/domain/Cart"
import type { WebhookEvent } from "@shop/domain/Payments"
import {
  AddressNotFound,
  CartNotFound,
  OrderNotFound,
  PaymentNotFound,
  ProductNotFound,
  RateLimited,
  VariantNotFound
} from "@shop/domain/Errors"
import { IdGenerator } from "@shop/domain/IdGenerator"
import { AddressId, CartId, IdPrefixes, OrderId, ProductId, VariantId } from "@shop/domain/Ids"
import { defaultPageSize } from "@shop/domain/Orders"
import { PaymentId } from "@shop/domain/Payments"
import { Auth } from "@shop/auth/Auth"
import { Carts } from "@shop/cart/Carts"
import { Catalog } from "@shop/catalog/Catalog"
import { defaultProductPageSize, defaultProductSort } from "@shop/domain/Catalog"
import { Coupons } from "@shop/coupons/Coupons"
import * as Traced from "@shop/domain/Traced"
import { Fulfillment } from "@shop/fulfillment/Fulfillment"
import { Inventory } from "@shop/inventory/Inventory"
import { Orders } from "@shop/orders/Orders"
import { Payments } from "@shop/payments/Payments"
import { GatewayConfig } from "./GatewayConfig.ts"
import { AdminProductImageHandlers, ImageHandlers } from "./ImageHandlers.ts"
import { makeCall } from "./Upstream.ts"

// A path id of the wrong shape names nothing: it is "not found", not a 400.
// The guard is built once per id kind, not on every request.
const idParser = <S extends Schema.Top & { readonly Type: string }, E>(schema: S, notFound: () => E) => {
  const is = Schema.is(schema)
  return (raw: string): Effect.Effect<S["Type"], E> =>
    is(raw) ? Effect.succeed(raw as S["Type"]) : Effect.fail(notFound())
}
const addressId = idParser(AddressId, () => new AddressNotFound({}))
const isAddressId = Schema.is(AddressId)
const productId = idParser(ProductId, () => new ProductNotFound({}))
const variantId = idParser(VariantId, () => new VariantNotFound({}))
const cartId = idParser(CartId, () => new CartNotFound({}))
const paymentId = idParser(PaymentId, () => new PaymentNotFound({}))
const orderId = idParser(OrderId, () => new OrderNotFound({}))

const clientOf = (
  request: { readonly headers: Record<string, string | undefined>; readonly remoteAddress: Option.Option<string> },
  header: Option.Option<string>
) =>
  Option.match(header, {
    onNone: () => Option.getOrElse(request.remoteAddress, () => "unknown"),
    onSome: (name) => request.headers[name] ?? Option.getOrElse(request.remoteAddress, () => "unknown")
  })

// API.md: a 429 carries Retry-After, taken from the error's details.
const withRetryAfter = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.tapError(effect, (error) =>
    Predicate.isTagged(error, "RateLimited") && error instanceof RateLimited
      ? HttpEffect.appendPreResponseHandler((_request, response) =>
          Effect.succeed(HttpServerResponse.setHeader(response, "retry-after", String(error.details.retryAfter)))
        )
      : Effect.void
  )

export const SystemHandlers = HttpApiBuilder.group(ShopApi, "system", (handlers) =>
  Effect.succeed(handlers.handle("health", () => Effect.succeed({ status: "ok" as const })))
)

export const AuthHandlers = HttpApiBuilder.group(
  ShopApi,
  "auth",
  Effect.fn(function* (handlers) {
    const auth = yield* Auth
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    return handlers
      .handle("signup", ({ payload }) => call(auth.signup(payload)))
      .handle("login", ({ payload, request }) =>
        call(auth.login({ ...payload, client: clientOf(request, config.clientIpHeader) })).pipe(withRetryAfter)
      )
      .handle(
        "logout",
        Traced.fn("AuthHandlers.logout")(function* () {
          const user = yield* CurrentUser
          yield* call(auth.logout({ sessionId: user.sessionId }))
          return { ok: true as const }
        })
      )
      .handle(
        "me",
        Traced.fn("AuthHandlers.me")(function* () {
          const user = yield* CurrentUser
          return yield* call(auth.me({ userId: user.userId }))
        })
      )
      .handle("adminSignup", ({ payload, headers, request }) =>
        call(
          auth.adminSignup({
            ...payload,
            secret: headers["x-admin-secret"],
            client: clientOf(request, config.clientIpHeader)
          })
        ).pipe(withRetryAfter)
      )
      .handle("promote", ({ payload }) => call(auth.promote(payload)))
  })
)

export const AddressHandlers = HttpApiBuilder.group(
  ShopApi,
  "addresses",
  Effect.fn(function* (handlers) {
    const auth = yield* Auth
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    return handlers
      .handle(
        "list",
        Traced.fn("AddressHandlers.list")(function* () {
          const user = yield* CurrentUser
          return { addresses: yield* call(auth.listAddresses({ userId: user.userId })) }
        })
      )
      .handle(
        "create",
        Traced.fn("AddressHandlers.create")(function* ({ payload }) {
          const user = yield* CurrentUser
          return { address: yield* call(auth.createAddress({ userId: user.userId, address: payload })) }
        })
      )
      .handle(
        "update",
        Traced.fn("AddressHandlers.update")(function* ({ params, payload }) {
          const user = yield* CurrentUser
          const id = yield* addressId(params.addressId)
          return { address: yield* call(auth.updateAddress({ userId: user.userId, addressId: id, patch: payload })) }
        })
      )
      .handle(
        "remove",
        Traced.fn("AddressHandlers.remove")(function* ({ params }) {
          const user = yield* CurrentUser
          const id = yield* addressId(params.addressId)
          yield* call(auth.deleteAddress({ userId: user.userId, addressId: id }))
          return { ok: true as const }
        })
      )
  })
)

export const CatalogHandlers = HttpApiBuilder.group(
  ShopApi,
  "catalog",
  Effect.fn(function* (handlers) {
    const catalog = yield* Catalog
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    return handlers
      .handle("list", ({ query }) =>
        call(
          catalog.list({
            limit: query.limit ?? defaultProductPageSize,
            sort: query.sort ?? defaultProductSort,
            ...(query.offset !== undefined ? { offset: query.offset } : {}),
            ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
            ...(query.q !== undefined ? { q: query.q } : {}),
            ...(query.category !== undefined ? { category: query.category } : {}),
            ...(query.minPrice !== undefined ? { minPrice: query.minPrice } : {}),
            ...(query.maxPrice !== undefined ? { maxPrice: query.maxPrice } : {})
          })
        )
      )
      .handle("get", ({ params }) =>
        Effect.flatMap(productId(params.productId), (productId) => call(catalog.get({ productId })))
      )
  })
)

export const AdminProductHandlers = HttpApiBuilder.group(
  ShopApi,
  "adminProducts",
  Effect.fn(function* (handlers) {
    const catalog = yield* Catalog
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    return handlers
      .handle("create", ({ payload }) => call(catalog.create(payload)))
      .handle("update", ({ params, payload }) =>
        Effect.flatMap(productId(params.productId), (id) => call(catalog.update({ productId: id, patch: payload })))
      )
      .handle("remove", ({ params }) =>
        Effect.flatMap(productId(params.productId), (id) => call(catalog.remove({ productId: id })))
      )
  })
)

export const AdminInventoryHandlers = HttpApiBuilder.group(
  ShopApi,
  "adminInventory",
  Effect.fn(function* (handlers) {
    const inventory = yield* Inventory
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    return handlers
      .handle("get", ({ params }) =>
        Effect.flatMap(variantId(params.variantId), (id) => call(inventory.get({ variantId: id })))
      )
      .handle("set", ({ params, payload }) =>
        Effect.flatMap(variantId(params.variantId), (id) =>
          call(
            "stock" in payload
              ? inventory.set({ variantId: id, stock: payload.stock })
              : inventory.adjust({ variantId: id, delta: payload.adjust })
          )
        )
      )
  })
)

export const AdminTaxRateHandlers = HttpApiBuilder.group(
  ShopApi,
  "adminTaxRates",
  Effect.fn(function* (handlers) {
    const fulfillment = yield* Fulfillment
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    return handlers
      .handle("list", () => Effect.map(call(fulfillment.listTaxRates({})), (rates) => ({ rates })))
      .handle("set", ({ params, payload }) =>
        call(
          fulfillment.setTaxRate({
            country: params.country,
            rate: payload.rate,
            shippingTaxable: payload.shippingTaxable ?? false
          })
        )
      )
  })
)

export const AdminCouponHandlers = HttpApiBuilder.group(
  ShopApi,
  "adminCoupons",
  Effect.fn(function* (handlers) {
    const coupons = yield* Coupons
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    return handlers
      .handle("create", ({ payload }) => call(coupons.create(payload)))
      .handle("list", () => Effect.map(call(coupons.list({})), (list) => ({ coupons: list })))
      .handle("remove", ({ params }) => call(coupons.remove({ code: params.code })))
  })
)

export const CartHandlers = HttpApiBuilder.group(
  ShopApi,
  "cart",
  Effect.fn(function* (handlers) {
    const carts = yield* Carts
    const auth = yield* Auth
    const ids = yield* IdGenerator
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    // The cart and the caller every cart call names; a malformed id names no cart.
    // Untraced: a step of every cart request, inside the request's span (a span
    // per service method, not per helper: docs/ARCHITECTURE.md §4).
    const target = Effect.fnUntraced(function* (raw: string) {
      const id = yield* cartId(raw)
      const shopper = yield* CurrentShopper
      return { cartId: id, caller: Option.getOrNull(Option.map(shopper, (principal) => principal.userId)) }
    })
    // A saved address must be the caller's own; a guest has none.
    const addressOf = Traced.fn("CartHandlers.addressOf")(function* (input: SetCartAddressInput) {
      if ("address" in input) return input.address
      const shopper = yield* CurrentShopper
      if (Option.isNone(shopper) || !isAddressId(input.addressId)) return yield* new AddressNotFound({})
      const saved = yield* call(auth.listAddresses({ userId: shopper.value.userId }))
      const found = saved.find((address) => address.addressId === input.addressId)
      if (found === undefined) return yield* new AddressNotFound({})
      const { addressId: _, ...address } = found
      return address
    })
    return handlers
      .handle(
        "init",
        Traced.fn("CartHandlers.init")(function* () {
          const shopper = yield* CurrentShopper
          const cartId = Schema.decodeSync(CartId)(yield* ids.secret(IdPrefixes.cart))
          const userId = Option.getOrNull(Option.map(shopper, (principal) => principal.userId))
          return yield* call(carts.create({ cartId, userId }))
        })
      )
      .handle("get", ({ params }) => Effect.flatMap(target(params.cartId), (on) => call(carts.get(on))))
      .handle("add", ({ params, payload }) =>
        Effect.flatMap(target(params.cartId), (on) => call(carts.add({ ...on, ...payload })))
      )
      .handle("update", ({ params, payload }) =>
        Effect.flatMap(target(params.cartId), (on) => call(carts.update({ ...on, ...payload })))
      )
      .handle("remove", ({ params, payload }) =>
        Effect.flatMap(target(params.cartId), (on) => call(carts.remove({ ...on, ...payload })))
      )
      .handle("clear", ({ params }) => Effect.flatMap(target(params.cartId), (on) => call(carts.clear(on))))
      .handle(
        "address",
        Traced.fn("CartHandlers.address")(function* ({ params, payload }) {
          const on = yield* target(params.cartId)
          const address = yield* addressOf(payload)
          return yield* call(carts.setAddress({ ...on, address }))
        })
      )
      .handle("shippingOptions", ({ params }) =>
        Effect.flatMap(target(params.cartId), (on) => call(carts.shippingOptions(on)))
      )
      .handle("shipping", ({ params, payload }) =>
        Effect.flatMap(target(params.cartId), (on) => call(carts.chooseShipping({ ...on, methodId: payload.methodId })))
      )
      .handle("applyCoupon", ({ params, payload, request }) =>
        Effect.flatMap(target(params.cartId), (on) =>
          call(carts.applyCoupon({ ...on, code: payload.code, client: clientOf(request, config.clientIpHeader) })).pipe(
            withRetryAfter
          )
        )
      )
      .handle("removeCoupon", ({ params }) =>
        Effect.flatMap(target(params.cartId), (on) => call(carts.removeCoupon(on)))
      )
  })
).pipe(Layer.provide(IdGenerator.layer))

export const CheckoutHandlers = HttpApiBuilder.group(
  ShopApi,
  "checkout",
  Effect.fn(function* (handlers) {
    const carts = yield* Carts
    const payments = yield* Payments
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    return handlers
      .handle(
        "start",
        Traced.fn("CheckoutHandlers.start")(function* ({ payload }) {
          const user = yield* CurrentUser
          const id = yield* cartId(payload.cartId)
          return yield* call(
            carts.startCheckout({
              cartId: id,
              caller: user.userId,
              returnUrl: payload.returnUrl ?? config.checkoutReturnUrl,
              cancelUrl: payload.cancelUrl ?? config.checkoutCancelUrl
            })
          )
        })
      )
      .handle(
        "capture",
        Traced.fn("CheckoutHandlers.capture")(function* ({ payload }) {
          const user = yield* CurrentUser
          // The payer only: another user's payment is not found, as one that
          // does not exist.
          const payment = yield* call(payments.findByProviderOrder({ providerOrderId: payload.paypalOrderId }))
          if (payment === null || payment.userId !== user.userId) return yield* new PaymentNotFound({})
          return yield* call(
            carts.capture({ cartId: payment.cartId, paymentId: payment.paymentId, caller: user.userId })
          )
        })
      )
  })
)

// The provider order an event is about: the order itself (approved), or the
// order a capture belongs to.
const providerOrderOf = (event: WebhookEvent): string | undefined => {
  const resource = event.resource
  if (event.eventType.startsWith("CHECKOUT.ORDER.")) return typeof resource.id === "string" ? resource.id : undefined
  const related = Predicate.hasProperty(resource.supplementary_data, "related_ids")
    ? resource.supplementary_data.related_ids
    : undefined
  return Predicate.hasProperty(related, "order_id") && typeof related.order_id === "string"
    ? related.order_id
    : undefined
}

// Events that mean "the buyer approved" or "the money moved": either way the
// checkout can be completed without the buyer's browser.
const completesCheckout = (eventType: string) =>
  eventType === "CHECKOUT.ORDER.APPROVED" || eventType === "PAYMENT.CAPTURE.COMPLETED"

export const PaymentsWebhookHandlers = HttpApiBuilder.group(
  ShopApi,
  "paymentsWebhook",
  Effect.fn(function* (handlers) {
    const carts = yield* Carts
    const payments = yield* Payments
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    return handlers.handle(
      "paypalWebhook",
      Traced.fn("PaymentsWebhookHandlers.paypalWebhook")(function* ({ payload, request }) {
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = value
        const event = yield* call(payments.verifyWebhook({ headers, body: payload }))
        yield* Effect.annotateCurrentSpan({ "webhook.event_id": event.id, "webhook.event_type": event.eventType })
        const providerOrderId = providerOrderOf(event)
        if (completesCheckout(event.eventType) && providerOrderId !== undefined) {
          const payment = yield* call(payments.findByProviderOrder({ providerOrderId }))
          if (payment !== null && payment.settledAt === undefined) {
            // The same capture the buyer's browser would run, as the shop
            // (caller null). Its refusals are answers, not failures of the
            // delivery: the checkout is settled either way (a hold that
            // expired, a buyer not yet approved). Only an outcome we could not
            // learn (the provider or a service unreachable) fails the delivery,
            // so that PayPal delivers it again.
            yield* call(carts.capture({ cartId: payment.cartId, paymentId: payment.paymentId, caller: null })).pipe(
              Effect.catchTags({
                PaymentNotFound: () => Effect.void,
                PaymentNotApproved: () => Effect.void,
                PaymentDeclined: () => Effect.void,
                PaymentFailed: () => Effect.void,
                HoldExpired: () => Effect.void,
                CouponExhausted: () => Effect.void,
                PaymentRejected: () => Effect.void
              }),
              Effect.tapError((error) =>
                Effect.logWarning("A webhook could not complete its checkout; PayPal will deliver it again").pipe(
                  Effect.annotateLogs({ eventId: event.id, error: error._tag })
                )
              )
            )
          }
        }
        // Recorded only once handled, so a failed attempt is handled again on redelivery.
        const { first } = yield* call(payments.recordEvent({ eventId: event.id }))
        if (!first)
          yield* Effect.logDebug("A webhook event delivered again").pipe(Effect.annotateLogs({ eventId: event.id }))
        return { ok: true as const }
      })
    )
  })
)

export const PaymentsHandlers = HttpApiBuilder.group(
  ShopApi,
  "payments",
  Effect.fn(function* (handlers) {
    const payments = yield* Payments
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    return handlers.handle(
      "get",
      Traced.fn("PaymentsHandlers.get")(function* ({ params }) {
        const user = yield* CurrentUser
        const id = yield* paymentId(params.paymentId)
        const payment = yield* call(payments.get({ paymentId: id, caller: { userId: user.userId, role: user.role } }))
        return {
          paymentId: payment.paymentId,
          status: payment.status,
          amount: payment.amount,
          captures: payment.captures,
          refunds: payment.refunds
        }
      })
    )
  })
)

export const OrdersHandlers = HttpApiBuilder.group(
  ShopApi,
  "orders",
  Effect.fn(function* (handlers) {
    const orders = yield* Orders
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    return handlers
      .handle(
        "list",
        Traced.fn("OrdersHandlers.list")(function* ({ query }) {
          const user = yield* CurrentUser
          return yield* call(
            orders.listForUser({
              userId: user.userId,
              limit: query.limit ?? defaultPageSize,
              offset: query.offset ?? 0
            })
          )
        })
      )
      .handle(
        "get",
        Traced.fn("OrdersHandlers.get")(function* ({ params }) {
          const user = yield* CurrentUser
          const id = yield* orderId(params.orderId)
          return yield* call(orders.get({ orderId: id, caller: { userId: user.userId, role: user.role } }))
        })
      )
  })
)

export const AdminOrdersHandlers = HttpApiBuilder.group(
  ShopApi,
  "adminOrders",
  Effect.fn(function* (handlers) {
    const orders = yield* Orders
    const fulfillment = yield* Fulfillment
    const config = yield* GatewayConfig
    const call = makeCall(config.serviceTimeout)
    return handlers
      .handle("list", ({ query }) =>
        call(
          orders.listAll({
            limit: query.limit ?? defaultPageSize,
            offset: query.offset ?? 0,
            ...(query.status !== undefined ? { status: query.status } : {})
          })
        )
      )
      .handle("setStatus", ({ params, payload }) =>
        Effect.flatMap(orderId(params.orderId), (id) =>
          call(
            orders.setStatus({
              orderId: id,
              status: payload.status,
              ...(payload.note !== undefined ? { note: payload.note } : {})
            })
          )
        )
      )
      .handle(
        "ship",
        Traced.fn("AdminOrdersHandlers.ship")(function* ({ params, payload }) {
          const id = yield* orderId(params.orderId)
          const admin = yield* CurrentUser
          // Without a carrier and tracking number of the admin's own, the
          // label data comes from fulfillment for the order's method and
          // destination.
          let carrier = payload.carrier
          let trackingNumber = payload.trackingNumber
          if (carrier === undefined || trackingNumber === undefined) {
            const order = yield* call(orders.get({ orderId: id, caller: { userId: admin.userId, role: admin.role } }))
            const label = yield* call(
              fulfillment.label({
                orderId: id,
                methodId: order.shippingMethod.methodId,
                destination: order.address
              })
            )
            carrier ??= label.carrier
            trackingNumber ??= label.trackingNumber
          }
          return yield* call(orders.addShipment({ orderId: id, carrier, trackingNumber }))
        })
      )
      .handle("refund", ({ params, payload }) =>
        Effect.flatMap(orderId(params.orderId), (id) =>
          call(orders.refund({ orderId: id, ...(payload.amount !== undefined ? { amount: payload.amount } : {}) }))
        )
      )
  })
)

export const layer = Layer.mergeAll(
  SystemHandlers,
  CartHandlers,
  AuthHandlers,
  AddressHandlers,
  CatalogHandlers,
  AdminProductHandlers,
  AdminProductImageHandlers,
  ImageHandlers,
  AdminInventoryHandlers,
  AdminTaxRateHandlers,
  AdminCouponHandlers,
  CheckoutHandlers,
  PaymentsWebhookHandlers,
  PaymentsHandlers,
  OrdersHandlers,
  AdminOrdersHandlers
)
