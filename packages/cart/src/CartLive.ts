import { Clock, Duration, Effect, Layer, Option, Schedule, Schema } from "effect"
import {
  type Cart,
  type CartCoupon,
  type CartLine,
  maxLineQuantity,
  maxLines,
  type RemovedLine
} from "@shop/domain/Cart"
import type { Product } from "@shop/domain/Catalog"
import type { Coupon } from "@shop/domain/Coupons"
import type { CaptureCheckoutInput, CheckoutCaptured, StartCheckoutInput } from "@shop/domain/Checkout"
import {
  AddressRequired,
  CartEmpty,
  CartNotFound,
  CouponExhausted,
  CouponExpired,
  HoldExpired,
  InsufficientStock,
  InvalidShippingMethod,
  ItemNotFound,
  MinCartNotMet,
  PaymentFailed,
  PaymentNotFound,
  ProductNotFound,
  ShippingRequired,
  ValidationError
} from "@shop/domain/Errors"
import {
  type AddressCandidate,
  type ShippingAddress,
  type ShippingCoupon,
  ShippingMethodId,
  type ShippingOption
} from "@shop/domain/Fulfillment"
import { IdGenerator } from "@shop/domain/IdGenerator"
import { type CartId, type ProductId, UserId, type VariantId } from "@shop/domain/Ids"
import { type Hold, HoldId } from "@shop/domain/Inventory"
import { Currency, type Money } from "@shop/domain/Money"
import type { Order } from "@shop/domain/Orders"
import { capturedOf, type Payment, type PaymentCaller, refundedOf } from "@shop/domain/Payments"
import { Catalog } from "@shop/catalog/Catalog"
import { Coupons } from "@shop/coupons/Coupons"
import * as Traced from "@shop/domain/Traced"
import { Fulfillment } from "@shop/fulfillment/Fulfillment"
import { Inventory } from "@shop/inventory/Inventory"
import { Orders } from "@shop/orders/Orders"
import { Payments } from "@shop/payments/Payments"
import { CartConfig } from "./CartConfig.ts"
import { Carts } from "./Carts.ts"
import { type CartRecord, CartStore, CartWriter, type PendingCheckout } from "./CartStore.ts"
import { fingerprintOf, publicOf, startedOf } from "./CheckoutState.ts"
import * as Summary from "./Summary.ts"

// The cart service, written once: every runtime supplies where carts live
// (CartStore) and the single writer per cart id (CartWriter); the other
// services are reached through their interfaces, in process or across Workers.
//
// Every change runs as one operation under the cart's writer: load, re-read
// today's catalog for every line, apply the change, recompute the whole
// summary (coupon re-checked, shipping re-quoted, tax), save. Slow calls to
// other services happen inside the operation, so two changes to one cart can
// never interleave into a lost update; a change that fails writes nothing.

// A cart has a currency before it has lines, for its zero summary; the first
// line's currency replaces it.
const defaultCurrency = Schema.decodeSync(Currency)("USD")

// A line being worked on: what the cart shows, plus the weight for quotes.
interface DraftLine {
  readonly productId: ProductId
  readonly variantId: VariantId
  title: string
  quantity: number
  unitPrice: Money
  weightGrams: number
}

interface Draft {
  readonly cartId: CartId
  userId: UserId | null
  currency: Currency
  lines: Array<DraftLine>
  address: ShippingAddress | null
  methodId: ShippingMethodId | null
  couponCode: string | null
  removed: Array<RemovedLine>
}

const toDraft = (record: CartRecord): Draft => ({
  cartId: record.cart.cartId,
  userId: record.cart.userId,
  currency: record.cart.currency,
  lines: record.cart.items.map((line, index) => ({
    productId: line.productId,
    variantId: line.variantId,
    title: line.title,
    quantity: line.quantity,
    unitPrice: line.unitPrice,
    weightGrams: record.weights[index] ?? 0
  })),
  address: record.cart.address,
  methodId: record.cart.shippingMethod?.methodId ?? null,
  couponCode: record.cart.coupon?.code ?? null,
  // Reported by the change that removed them, until the next change.
  removed: []
})

const invalid = (path: string, message: string) =>
  new ValidationError({ message: "The request is not valid", details: { issues: [{ path, message }] } })

const isShippingMethod = (id: string): id is ShippingMethodId =>
  (ShippingMethodId.literals as ReadonlyArray<string>).includes(id)

const lineTitle = (product: Product, variant: Product["variants"][number]) =>
  product.variants.length > 1 && variant.title !== product.title ? `${product.title} (${variant.title})` : product.title

const money = (amount: number, currency: Currency): Money => ({ amount, currency })

// The most products one catalog.getMany call may name (its contract's cap):
// a cart of 100 lines plus the product being added is two calls.
const productsPerCall = 100

// The shop itself (a verified webhook, the reconciliation pass) asks payments
// as an admin: it may finish any checkout.
const shopCaller: PaymentCaller = { userId: UserId.make("usr_shop"), role: "admin" }

// The refund of a checkout that could not complete: one request id per
// payment, so repeats of the compensation give the money back once.
const compensationRequestId = "checkout-compensation"

export const layer = Layer.effect(
  Carts,
  Effect.gen(function* () {
    const store = yield* CartStore
    const writer = yield* CartWriter
    const config = yield* CartConfig
    const catalog = yield* Catalog
    const fulfillment = yield* Fulfillment
    const coupons = yield* Coupons
    const inventory = yield* Inventory
    const payments = yield* Payments
    const orders = yield* Orders
    const ids = yield* IdGenerator

    // The cart as its caller may see it: absent, expired and someone else's
    // carts are all "not found", so a cart id reveals nothing about its owner.
    // Untraced, like `compute`: steps of the method that calls them, whose span they run in.
    const load = Effect.fnUntraced(function* (cartId: CartId, caller: UserId | null) {
      const found = yield* store.find(cartId)
      const now = yield* Clock.currentTimeMillis
      if (Option.isNone(found) || found.value.expiresAtMillis <= now) return yield* new CartNotFound({})
      const owner = found.value.cart.userId
      if (owner !== null && owner !== caller) return yield* new CartNotFound({})
      return found.value
    })

    // Today's product of every line, fetched once per operation: one catalog
    // call for every product of the cart (its availability read once for
    // all), so a change costs about the same on a cart of 1 line and of 100;
    // a product missing from the answer has left the catalog.
    const productsOf = (ids: ReadonlyArray<ProductId>) => {
      const unique = [...new Set(ids)]
      if (unique.length === 0) return Effect.succeed(new Map<ProductId, Option.Option<Product>>())
      const calls: Array<ReadonlyArray<ProductId>> = []
      for (let at = 0; at < unique.length; at += productsPerCall) calls.push(unique.slice(at, at + productsPerCall))
      return Effect.forEach(calls, (productIds) => catalog.getMany({ productIds }), { concurrency: "unbounded" }).pipe(
        Effect.map((parts) => {
          const found = new Map(parts.flat().map((product) => [product.productId, product]))
          return new Map(unique.map((productId) => [productId, Option.fromNullishOr(found.get(productId))]))
        })
      )
    }

    // Every line at today's price, title and weight; lines whose product or
    // variant left the catalog (or changed currency) leave the cart, noted.
    const reprice = (draft: Draft, products: ReadonlyMap<ProductId, Option.Option<Product>>) => {
      const kept: Array<DraftLine> = []
      for (const line of draft.lines) {
        const product = products.get(line.productId) ?? Option.none()
        const variant = Option.flatMap(product, (p) =>
          Option.fromUndefinedOr(p.variants.find((v) => v.variantId === line.variantId))
        )
        if (Option.isNone(product) || Option.isNone(variant) || variant.value.price.currency !== draft.currency) {
          draft.removed.push({
            productId: line.productId,
            variantId: line.variantId,
            title: line.title,
            reason: "product_unavailable"
          })
          continue
        }
        line.title = lineTitle(product.value, variant.value)
        line.unitPrice = variant.value.price
        line.weightGrams = variant.value.weightGrams
        kept.push(line)
      }
      draft.lines = kept
    }

    // Against the `available` the catalog just answered for this operation
    // (inventory's figure as it stands: the catalog caches products, never
    // stock; on node inventory answers from its exact copy of the stored
    // rows), so a stock check costs no call of its own.
    const checkStock = (variant: Product["variants"][number], requested: number) =>
      requested > variant.available
        ? Effect.fail(
            new InsufficientStock({
              details: { variantId: variant.variantId, available: variant.available, requested }
            })
          )
        : Effect.void

    // The coupon of a code as it stands for this cart; a deleted coupon is
    // `invalid_coupon`.
    const couponOf = (code: string) =>
      coupons.lookup({ code }).pipe(
        Effect.map(Option.some),
        Effect.catchTags({
          InvalidCoupon: () => Effect.succeed(Option.none<Coupon>()),
          // Not throttled without throttle keys; a refusal reads as "not now".
          RateLimited: () => Effect.succeed(Option.none<Coupon>())
        })
      )

    const quoteFor = (
      draft: Draft,
      address: ShippingAddress,
      subtotal: number,
      coupon: ShippingCoupon | undefined
    ) => ({
      destination: address,
      weightGrams: draft.lines.reduce((sum, line) => sum + line.weightGrams * line.quantity, 0),
      subtotal: money(subtotal, draft.currency),
      ...(coupon !== undefined ? { coupon } : {})
    })

    // The whole cart, recomputed from the draft: summary, coupon standing,
    // shipping quote, tax. Figures add up exactly by construction.
    const compute = Effect.fnUntraced(function* (draft: Draft, expiresAtMillis: number) {
      const now = yield* Clock.currentTimeMillis
      const currency = draft.currency
      const lineTotals = draft.lines.map((line) => line.unitPrice.amount * line.quantity)
      const subtotal = lineTotals.reduce((sum, total) => sum + total, 0)

      let coupon: CartCoupon | null = null
      let discounts: ReadonlyArray<number> = lineTotals.map(() => 0)
      let forShipping: ShippingCoupon | undefined
      if (draft.couponCode !== null) {
        const found = yield* couponOf(draft.couponCode)
        const standing: Summary.CouponStanding = Option.isNone(found)
          ? { applicable: false, reason: "invalid_coupon" }
          : Summary.standing(found.value, { subtotal, currency }, now)
        if (standing.applicable) {
          coupon = { code: draft.couponCode, applicable: true }
          discounts = Summary.lineDiscounts(standing.coupon, lineTotals)
          forShipping = Summary.shippingCoupon(standing.coupon)
        } else {
          coupon = { code: draft.couponCode, applicable: false, reason: standing.reason }
        }
      }
      const discount = discounts.reduce((sum, amount) => sum + amount, 0)
      const discounted = lineTotals.map((total, index) => total - (discounts[index] ?? 0))

      let shippingMethod: ShippingOption | null = null
      let taxRate: { readonly rate: number; readonly shippingTaxable: boolean } | null = null
      if (draft.address !== null) {
        const address = draft.address
        if (draft.methodId !== null) {
          const methodId = draft.methodId
          shippingMethod = yield* fulfillment
            .quoteMethod({ ...quoteFor(draft, address, subtotal - discount, forShipping), methodId })
            .pipe(
              // A method no longer offered for this destination is cleared.
              Effect.catchTags({
                InvalidShippingMethod: () => Effect.succeed(null),
                ValidationError: () => Effect.succeed(null)
              })
            )
          if (shippingMethod === null) draft.methodId = null
        }
        // Nothing to tax (an emptied cart, free shipping): the tax is 0
        // whatever the rate, so the rate is not asked for.
        const taxable = discounted.some((amount) => amount !== 0) || (shippingMethod?.cost.amount ?? 0) !== 0
        if (taxable) {
          taxRate = yield* fulfillment.taxRateFor({
            country: address.country,
            ...(address.region !== undefined ? { region: address.region } : {})
          })
        }
      }
      const shipping = shippingMethod?.cost.amount ?? 0
      const tax = Summary.tax(discounted, shipping, taxRate)

      const items: Array<CartLine> = draft.lines.map((line, index) => ({
        productId: line.productId,
        variantId: line.variantId,
        title: line.title,
        quantity: line.quantity,
        unitPrice: line.unitPrice,
        lineTotal: money(lineTotals[index] ?? 0, currency)
      }))
      const cart: Cart = {
        cartId: draft.cartId,
        userId: draft.userId,
        items,
        address: draft.address,
        shippingMethod,
        coupon,
        summary: {
          subtotal: money(subtotal, currency),
          discount: money(discount, currency),
          shipping: money(shipping, currency),
          tax: money(tax, currency),
          total: money(subtotal - discount + shipping + tax, currency)
        },
        currency,
        expiresAt: new Date(expiresAtMillis).toISOString(),
        checkout: null,
        removedItems: draft.removed
      }
      return { cart, weights: draft.lines.map((line) => line.weightGrams), expiresAtMillis } satisfies CartRecord
    })

    // The hold as inventory has it now; none when inventory never had it.
    const holdOf = (holdId: HoldId) =>
      inventory.getHold({ holdId }).pipe(
        Effect.map(Option.some),
        Effect.catchTag("HoldNotFound", () => Effect.succeed(Option.none<Hold>()))
      )

    // Gives a checkout's stock back. Answers "committed" for a hold that was
    // already sold: that checkout was paid, and only its capture (or the
    // reconciliation pass) may finish it.
    const releaseHold = (holdId: HoldId) =>
      inventory.release({ holdId }).pipe(
        Effect.as("released" as const),
        Effect.catchTags({
          HoldNotFound: () => Effect.succeed("released" as const),
          HoldCommitted: () => Effect.succeed("committed" as const)
        })
      )

    // A change keeps the pending checkout only if the cart still has its
    // fingerprint; otherwise the hold goes back and the checkout is cleared,
    // so a buyer can never pay for something other than what is held. A
    // checkout whose hold was sold stays, for its capture to finish.
    const carryCheckout = Effect.fnUntraced(function* (record: CartRecord, next: CartRecord) {
      const pending = record.pending
      if (pending === undefined) return next
      if (fingerprintOf(next.cart) !== pending.fingerprint) {
        const released = yield* releaseHold(pending.reservationId)
        if (released === "released") return next
      }
      return { ...next, cart: { ...next.cart, checkout: publicOf(pending) }, pending }
    })

    // One change to one cart, alone on that cart from load to save. `apply`
    // gets the draft with every line already at today's prices, and the
    // products fetched so far (to reuse for the line it adds).
    const change = <E, R>(
      cartId: CartId,
      caller: UserId | null,
      apply: (draft: Draft, products: Map<ProductId, Option.Option<Product>>) => Effect.Effect<void, E, R>
    ) =>
      writer.withCart(cartId)(
        Effect.gen(function* () {
          const record = yield* load(cartId, caller)
          const draft = toDraft(record)
          const products = yield* productsOf(draft.lines.map((line) => line.productId))
          reprice(draft, products)
          yield* apply(draft, products)
          const now = yield* Clock.currentTimeMillis
          const next = yield* carryCheckout(record, yield* compute(draft, now + config.ttlSeconds * 1000))
          yield* store.save(next)
          return next.cart
        })
      )

    const create = Traced.fn("Carts.create")(function* (input: { cartId: CartId; userId: UserId | null }) {
      return yield* writer.withCart(input.cartId)(
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const draft: Draft = {
            cartId: input.cartId,
            userId: input.userId,
            currency: defaultCurrency,
            lines: [],
            address: null,
            methodId: null,
            couponCode: null,
            removed: []
          }
          const record = yield* compute(draft, now + config.ttlSeconds * 1000)
          yield* store.save(record)
          return record.cart
        })
      )
    })

    const get = Traced.fn("Carts.get")(function* (input: { cartId: CartId; caller: UserId | null }) {
      return (yield* load(input.cartId, input.caller)).cart
    })

    const add = Traced.fn("Carts.add")(function* (input: {
      cartId: CartId
      caller: UserId | null
      productId: ProductId
      variantId?: VariantId | undefined
      quantity: number
    }) {
      // In-process callers do not decode (the gateway does): checked here too.
      if (!Number.isInteger(input.quantity) || input.quantity < 1 || input.quantity > maxLineQuantity) {
        return yield* invalid("quantity", `must be a whole number from 1 to ${maxLineQuantity}`)
      }
      return yield* change(
        input.cartId,
        input.caller,
        Effect.fnUntraced(function* (draft, products) {
          const known = products.get(input.productId)
          const product =
            known !== undefined && Option.isSome(known)
              ? known.value
              : yield* catalog.get({ productId: input.productId })
          const variant =
            input.variantId !== undefined
              ? product.variants.find((v) => v.variantId === input.variantId)
              : product.variants.length === 1
                ? product.variants[0]
                : undefined
          if (variant === undefined) {
            if (input.variantId !== undefined) {
              return yield* new ProductNotFound({ message: "This product has no such variant" })
            }
            return yield* invalid("variantId", `is required: this product has ${product.variants.length} variants`)
          }
          const line = draft.lines.find((l) => l.variantId === variant.variantId)
          const quantity = (line?.quantity ?? 0) + input.quantity
          if (quantity > maxLineQuantity) {
            return yield* invalid(
              "quantity",
              `a line holds at most ${maxLineQuantity}; this one would hold ${quantity}`
            )
          }
          if (line === undefined && draft.lines.length >= maxLines) {
            return yield* invalid("productId", `a cart holds at most ${maxLines} lines`)
          }
          if (draft.lines.length === 0) draft.currency = variant.price.currency
          else if (variant.price.currency !== draft.currency) {
            return yield* invalid(
              "productId",
              `is priced in ${variant.price.currency}; this cart is in ${draft.currency}`
            )
          }
          yield* checkStock(variant, quantity)
          if (line !== undefined) {
            line.quantity = quantity
            return
          }
          draft.lines.push({
            productId: product.productId,
            variantId: variant.variantId,
            title: lineTitle(product, variant),
            quantity,
            unitPrice: variant.price,
            weightGrams: variant.weightGrams
          })
        })
      )
    })

    const update = Traced.fn("Carts.update")(function* (input: {
      cartId: CartId
      caller: UserId | null
      variantId: VariantId
      quantity: number
    }) {
      if (!Number.isInteger(input.quantity) || input.quantity < 0 || input.quantity > maxLineQuantity) {
        return yield* invalid("quantity", `must be a whole number from 0 to ${maxLineQuantity}`)
      }
      return yield* change(
        input.cartId,
        input.caller,
        Effect.fnUntraced(function* (draft, products) {
          const line = draft.lines.find((l) => l.variantId === input.variantId)
          if (line === undefined) return yield* new ItemNotFound({})
          if (input.quantity === 0) {
            draft.lines = draft.lines.filter((l) => l !== line)
            return
          }
          // The line survived repricing, so its product and variant are in `products`.
          const variant = Option.flatMap(products.get(line.productId) ?? Option.none(), (product) =>
            Option.fromUndefinedOr(product.variants.find((v) => v.variantId === line.variantId))
          )
          if (Option.isNone(variant)) return yield* new ItemNotFound({})
          yield* checkStock(variant.value, input.quantity)
          line.quantity = input.quantity
        })
      )
    })

    const remove = Traced.fn("Carts.remove")(function* (input: {
      cartId: CartId
      caller: UserId | null
      variantId: VariantId
    }) {
      return yield* change(input.cartId, input.caller, (draft) => {
        const before = draft.lines.length
        draft.lines = draft.lines.filter((l) => l.variantId !== input.variantId)
        return draft.lines.length === before ? Effect.fail(new ItemNotFound({})) : Effect.void
      })
    })

    const clear = Traced.fn("Carts.clear")(function* (input: { cartId: CartId; caller: UserId | null }) {
      return yield* change(input.cartId, input.caller, (draft) =>
        Effect.sync(() => {
          draft.lines = []
        })
      )
    })

    const setAddress = Traced.fn("Carts.setAddress")(function* (input: {
      cartId: CartId
      caller: UserId | null
      address: AddressCandidate
    }) {
      return yield* change(
        input.cartId,
        input.caller,
        Effect.fnUntraced(function* (draft) {
          draft.address = yield* fulfillment.validateAddress({ address: input.address })
        })
      )
    })

    // The options for the cart as it stands; reads only, so no writer.
    const shippingOptions = Traced.fn("Carts.shippingOptions")(function* (input: {
      cartId: CartId
      caller: UserId | null
    }) {
      const record = yield* load(input.cartId, input.caller)
      const address = record.cart.address
      if (address === null) return yield* new AddressRequired({})
      const draft = toDraft(record)
      const summary = record.cart.summary
      let coupon: ShippingCoupon | undefined
      if (record.cart.coupon?.applicable === true) {
        const found = yield* couponOf(record.cart.coupon.code)
        if (Option.isSome(found)) coupon = Summary.shippingCoupon(found.value)
      }
      return yield* fulfillment
        .quote(quoteFor(draft, address, summary.subtotal.amount - summary.discount.amount, coupon))
        .pipe(Effect.catchTag("ValidationError", () => Effect.fail(new AddressRequired({}))))
    })

    const chooseShipping = Traced.fn("Carts.chooseShipping")(function* (input: {
      cartId: CartId
      caller: UserId | null
      methodId: string
    }) {
      return yield* change(
        input.cartId,
        input.caller,
        Effect.fnUntraced(function* (draft) {
          if (draft.address === null) return yield* new AddressRequired({})
          if (!isShippingMethod(input.methodId)) {
            return yield* new InvalidShippingMethod({
              details: { methodId: input.methodId, available: ShippingMethodId.literals }
            })
          }
          // Refused, with nothing written, unless the destination offers it.
          const subtotal = draft.lines.reduce((sum, line) => sum + line.unitPrice.amount * line.quantity, 0)
          yield* fulfillment
            .quoteMethod({ ...quoteFor(draft, draft.address, subtotal, undefined), methodId: input.methodId })
            .pipe(
              Effect.catchTag("ValidationError", () =>
                Effect.fail(
                  new InvalidShippingMethod({
                    details: { methodId: input.methodId, available: ShippingMethodId.literals }
                  })
                )
              )
            )
          draft.methodId = input.methodId
        })
      )
    })

    const applyCoupon = Traced.fn("Carts.applyCoupon")(function* (input: {
      cartId: CartId
      caller: UserId | null
      code: string
      client: string
    }) {
      return yield* change(
        input.cartId,
        input.caller,
        Effect.fnUntraced(function* (draft) {
          const coupon = yield* coupons.lookup({
            code: input.code,
            throttle: [`cart:${input.cartId}`, `client:${input.client}`]
          })
          const now = yield* Clock.currentTimeMillis
          const subtotal = draft.lines.reduce((sum, line) => sum + line.unitPrice.amount * line.quantity, 0)
          const standing = Summary.standing(coupon, { subtotal, currency: draft.currency }, now)
          if (!standing.applicable) {
            switch (standing.reason) {
              case "coupon_expired":
                return yield* new CouponExpired({})
              case "coupon_exhausted":
                return yield* new CouponExhausted({})
              default:
                // Below the minimum, or a minimum in another currency.
                return yield* new MinCartNotMet({ details: { min: coupon.minCart ?? money(0, draft.currency) } })
            }
          }
          draft.couponCode = coupon.code
        })
      )
    })

    const removeCoupon = Traced.fn("Carts.removeCoupon")(function* (input: { cartId: CartId; caller: UserId | null }) {
      return yield* change(input.cartId, input.caller, (draft) =>
        Effect.sync(() => {
          draft.couponCode = null
        })
      )
    })

    // Checkout (docs/CHECKOUT.md). Start is one operation of the cart like
    // any change, so racing starts on one cart are one start and its repeats.
    const startCheckout = Traced.fn("Carts.startCheckout")(function* (input: StartCheckoutInput) {
      return yield* writer.withCart(input.cartId)(
        Effect.gen(function* () {
          const record = yield* load(input.cartId, input.caller)
          const draft = toDraft(record)
          // A guest cart becomes the buyer's: from now on only they see it.
          draft.userId = input.caller
          reprice(draft, yield* productsOf(draft.lines.map((line) => line.productId)))
          if (draft.lines.length === 0) return yield* new CartEmpty({})
          if (draft.address === null) return yield* new AddressRequired({})
          if (draft.methodId === null) return yield* new ShippingRequired({})
          const now = yield* Clock.currentTimeMillis
          const next = yield* compute(draft, now + config.ttlSeconds * 1000)
          const { cart } = next
          // compute clears a method the destination no longer offers.
          if (cart.address === null || cart.shippingMethod === null) return yield* new ShippingRequired({})
          const total = cart.summary.total
          if (total.amount <= 0) return yield* invalid("cartId", "the cart's total must be more than 0 to pay")
          const fingerprint = fingerprintOf(cart)

          const previous = record.pending
          if (previous !== undefined) {
            const hold = yield* holdOf(previous.reservationId)
            const status = Option.map(hold, (h) => h.status)
            // Sold: the buyer paid for it and its capture finishes it; the
            // same answer sends them there rather than to a second payment.
            if (Option.contains(status, "committed")) return startedOf(previous)
            const active =
              Option.contains(status, "active") &&
              previous.expiresAtMillis > now &&
              previous.fingerprint === fingerprint
            if (active) {
              yield* store.save({ ...next, cart: { ...cart, checkout: publicOf(previous) }, pending: previous })
              return startedOf(previous)
            }
            if (Option.contains(status, "active")) {
              // Another cart than the one held, or past its time: its stock goes
              // back now rather than at expiry. Its payment is settled by the
              // reconciliation pass (a capture finds the hold gone).
              if ((yield* releaseHold(previous.reservationId)) === "committed") return startedOf(previous)
              // The cart forgets it now, whatever happens to this start: a
              // capture trusts a pending checkout's hold to be active until
              // its expiry, so no cart names a hold it has released.
              yield* closeCheckout(record, previous.reservationId, false)
            }
          }

          const holdId = HoldId.make(yield* ids.make("res"))
          const lines = cart.items.map((line) => ({ variantId: line.variantId, quantity: line.quantity }))
          const hold = yield* inventory
            .reserve({ holdId, lines })
            .pipe(Effect.catchTag("HoldMismatch", (error) => Effect.die(error)))
          // From here on a failure gives the stock back before it is reported.
          return yield* Effect.gen(function* () {
            const payment = yield* payments.create({
              userId: input.caller,
              cartId: input.cartId,
              reservationId: holdId,
              amount: total,
              returnUrl: input.returnUrl,
              cancelUrl: input.cancelUrl
            })
            const pending: PendingCheckout = {
              reservationId: holdId,
              paymentId: payment.paymentId,
              paypalOrderId: payment.providerOrderId,
              approveUrl: payment.approveUrl,
              expiresAt: hold.expiresAt,
              expiresAtMillis: Date.parse(hold.expiresAt),
              fingerprint,
              order: {
                userId: input.caller,
                items: cart.items,
                address: cart.address!,
                shippingMethod: cart.shippingMethod!,
                summary: cart.summary,
                ...(cart.coupon?.applicable === true ? { couponCode: cart.coupon.code } : {})
              }
            }
            yield* store.save({ ...next, cart: { ...cart, checkout: publicOf(pending) }, pending })
            return startedOf(pending)
          }).pipe(Effect.onError(() => Effect.ignore(releaseHold(holdId))))
        })
      )
    })

    // The cart, if it is still there (expired but not yet swept counts: its
    // checkout is the shop's own record of what the buyer is paying for).
    const findRecord = (cartId: CartId) => Effect.map(store.find(cartId), Option.getOrUndefined)

    // The cart's checkout is over (paid, or abandoned): the checkout is
    // cleared, and on success the lines and the coupon go too, the address
    // and method stay for the next order. Only if the cart still names this
    // checkout: a later start has a checkout of its own.
    const closeCheckout = Effect.fnUntraced(function* (
      record: CartRecord | undefined,
      reservationId: HoldId,
      paid: boolean
    ) {
      if (record === undefined || record.pending?.reservationId !== reservationId) return
      if (!paid) {
        const { pending: _, ...rest } = record
        return yield* store.save({ ...rest, cart: { ...record.cart, checkout: null } })
      }
      const draft = toDraft(record)
      draft.lines = []
      draft.couponCode = null
      yield* store.save(yield* compute(draft, record.expiresAtMillis))
    })

    const capturedAnswer = (order: Order): CheckoutCaptured => ({
      orderId: order.orderId,
      status: "paid",
      paymentId: order.payment.paymentId as Payment["paymentId"],
      captureId: order.payment.captureId
    })

    // The order exists: the payment is done with and the cart completed (each
    // again harmless), and every repeat gets the same answer.
    const finish = Effect.fnUntraced(function* (payment: Payment, order: Order, record: CartRecord | undefined) {
      if (payment.settledAt === undefined) {
        yield* payments.settle({ paymentId: payment.paymentId, orderId: order.orderId })
      }
      yield* closeCheckout(record, payment.reservationId, true)
      return capturedAnswer(order)
    })

    // The checkout gives up on a payment (the caller has marked it failed):
    // a capture made before (its answer lost) is recorded and refunded, the
    // coupon's use and the stock go back, the payment is settled and the cart
    // forgets the checkout. Every step is idempotent, so a pass that stops
    // half-way is finished by the next.
    const abandon = Effect.fnUntraced(function* (payment: Payment, record: CartRecord | undefined) {
      let current = payment
      if (current.captures.length === 0) {
        current = yield* payments.capture({ paymentId: current.paymentId }).pipe(
          Effect.catchTags({
            PaymentFailed: () => Effect.succeed(current),
            PaymentNotApproved: () => Effect.succeed(current),
            PaymentDeclined: () => Effect.succeed(current)
          })
        )
      }
      if (capturedOf(current).amount > refundedOf(current).amount) {
        current = yield* payments
          .refund({
            paymentId: current.paymentId,
            reason: current.failure?.reason ?? "The checkout could not complete",
            requestId: compensationRequestId
          })
          .pipe(
            Effect.catchTags({
              // Refunded meanwhile under another request id: nothing is left to give back.
              RefundExceedsCaptured: () => Effect.succeed(current),
              InvalidPaymentAmount: (error) => Effect.die(error),
              ValidationError: (error) => Effect.die(error)
            })
          )
      }
      yield* coupons.release({ redemptionId: current.paymentId })
      const hold = yield* holdOf(current.reservationId)
      if (Option.isSome(hold) && hold.value.status === "active") yield* releaseHold(current.reservationId)
      // A sold hold whose money went back: its stock returns to the shelf.
      if (Option.isSome(hold) && hold.value.status === "committed") {
        yield* inventory
          .restock({ holdId: current.reservationId })
          .pipe(Effect.catchTag("HoldNotFound", () => Effect.void))
      }
      if (current.settledAt === undefined) yield* payments.settle({ paymentId: current.paymentId })
      yield* closeCheckout(record, current.reservationId, false)
      return current
    })

    const giveUp = Effect.fnUntraced(function* (
      payment: Payment,
      record: CartRecord | undefined,
      step: string,
      reason: string
    ) {
      const failed = yield* payments.markFailed({ paymentId: payment.paymentId, step, reason })
      yield* Effect.logWarning("Checkout abandoned").pipe(
        Effect.annotateLogs({ paymentId: payment.paymentId, reservationId: payment.reservationId, step, reason })
      )
      return yield* abandon(failed, record)
    })

    // The failure step of a checkout refused because its coupon was used up:
    // a repeated capture answers `coupon_exhausted` again.
    const couponExhaustedStep = "coupon_exhausted"

    const holdGone = (holdId: HoldId, hold: Option.Option<Hold>) =>
      new HoldExpired({
        details: { holdId, expiresAt: Option.match(hold, { onNone: () => "", onSome: (h) => h.expiresAt }) }
      })

    // Capture: each step idempotent on its own, in the cart's writer so that
    // racing captures of one checkout are one capture and its repeats. It
    // needs the cart only for the order's contents: without them nothing is
    // charged, or what was charged goes back.
    const captureLocked = Effect.fnUntraced(function* (input: CaptureCheckoutInput) {
      const caller: PaymentCaller = input.caller === null ? shopCaller : { userId: input.caller, role: "user" }
      let payment = yield* payments.get({ paymentId: input.paymentId, caller })
      if (payment.cartId !== input.cartId) return yield* new PaymentNotFound({})
      const reservationId = payment.reservationId
      const record = yield* findRecord(input.cartId)
      const pending = record?.pending?.reservationId === reservationId ? record.pending : undefined

      // Orders are made only from a recorded capture (below, or by the
      // reconciliation pass through this same path), and a capture is never
      // taken off a payment: without one there is no order to look for.
      if (payment.captures.length > 0) {
        const existing = yield* orders.findByReservation({ reservationId })
        if (existing !== null) return yield* finish(payment, existing, record)
      }

      if (payment.captures.length === 0) {
        if (payment.status === "failed") {
          const { step, reason } = payment.failure ?? { step: "unknown", reason: "failed" }
          yield* abandon(payment, record)
          // A repeat (the buyer after the webhook, or the other way round)
          // gets the answer the first refusal got.
          if (step === "hold") return yield* holdGone(reservationId, yield* holdOf(reservationId))
          if (step === couponExhaustedStep) return yield* new CouponExhausted({})
          return yield* new PaymentFailed({ details: { step, reason } })
        }
        // Nothing is charged for stock that is no longer held. While the cart
        // still holds this checkout and its time is not up, the hold is
        // active without asking inventory: a hold leaves `active` only by
        // expiring (time), by a release, which happens when the cart changes
        // (and forgets the checkout) or the checkout is abandoned (the
        // payment is failed first, handled above), or by the commit that
        // follows this capture. If it is gone anyway (released out of band,
        // clocks apart), the commit below refuses and the money goes back.
        const now = yield* Clock.currentTimeMillis
        if (pending === undefined || pending.expiresAtMillis <= now) {
          const hold = yield* holdOf(reservationId)
          if (Option.isNone(hold) || hold.value.status !== "active" || Date.parse(hold.value.expiresAt) <= now) {
            yield* giveUp(payment, record, "hold", "The hold was gone before the capture")
            return yield* holdGone(reservationId, hold)
          }
        }
        if (pending === undefined) {
          const reason = "The cart no longer holds this checkout"
          yield* giveUp(payment, record, "checkout", reason)
          return yield* new PaymentFailed({ details: { step: "checkout", reason } })
        }
        const code = pending.order.couponCode
        if (code !== undefined) {
          const refused = yield* coupons.redeem({ code, redemptionId: payment.paymentId, userId: payment.userId }).pipe(
            Effect.as(undefined),
            Effect.catchTags({
              CouponExhausted: (error) => Effect.succeed(error),
              CouponExpired: (error) => Effect.succeed(error),
              InvalidCoupon: (error) => Effect.succeed(error),
              RedemptionMismatch: (error) => Effect.die(error)
            })
          )
          if (refused !== undefined) {
            // The buyer may take the coupon off and start again.
            yield* giveUp(
              payment,
              record,
              refused._tag === "CouponExhausted" ? couponExhaustedStep : "coupon",
              refused.message
            )
            return yield* refused._tag === "CouponExhausted"
              ? Effect.fail(refused)
              : Effect.fail(new PaymentFailed({ details: { step: "coupon", reason: refused.message } }))
          }
        }
        payment = yield* payments.capture({ paymentId: payment.paymentId }).pipe(
          Effect.tapError((error) =>
            // Nothing was taken: the coupon's use goes back until the buyer
            // approves (or approves another funding source) and captures again.
            error._tag === "PaymentNotApproved" || error._tag === "PaymentDeclined"
              ? coupons.release({ redemptionId: input.paymentId })
              : Effect.void
          )
        )
      }

      // The money is taken from here on: the checkout ends with an order or
      // with the money given back.
      const capture = payment.captures[0]!
      if (payment.failure !== undefined || pending === undefined) {
        // The checkout gave up while this capture was in flight, or there is
        // nothing left to make the order from.
        const reason = payment.failure?.reason ?? "The cart no longer holds this checkout"
        const step = payment.failure?.step ?? "checkout"
        if (payment.failure === undefined) yield* giveUp(payment, record, step, reason)
        else yield* abandon(payment, record)
        return yield* new PaymentFailed({ details: { step, reason } })
      }
      const unsold = yield* inventory.commit({ holdId: reservationId }).pipe(
        Effect.as(undefined),
        Effect.catchTags({
          HoldExpired: (error) => Effect.succeed(error),
          HoldReleased: (error) => Effect.succeed(error),
          HoldNotFound: (error) => Effect.succeed(error)
        })
      )
      if (unsold !== undefined) {
        yield* giveUp(payment, record, "commit_hold", unsold.message)
        return yield* new HoldExpired({ details: { holdId: reservationId, expiresAt: pending.expiresAt } })
      }
      // A failure here (orders unreachable) leaves the payment captured and
      // unsettled: the reconciliation pass repeats from here until the order
      // exists. The stock is sold and the money taken, so the order is what
      // the buyer is owed; a refund would be the wrong repair.
      const order = yield* orders
        .create({
          reservationId,
          userId: pending.order.userId,
          items: pending.order.items,
          address: pending.order.address,
          shippingMethod: pending.order.shippingMethod,
          summary: pending.order.summary,
          payment: {
            paymentId: payment.paymentId,
            provider: "paypal",
            captureId: capture.captureId,
            captured: capturedOf(payment)
          },
          ...(pending.order.couponCode !== undefined ? { couponCode: pending.order.couponCode } : {})
        })
        .pipe(Effect.catchTag("ValidationError", (error) => Effect.die(error)))
      return yield* finish(payment, order, record)
    })

    const capture = Traced.fn("Carts.capture")(function* (input: CaptureCheckoutInput) {
      return yield* writer.withCart(input.cartId)(captureLocked(input))
    })

    return Carts.of({
      create,
      get,
      add,
      update,
      remove,
      clear,
      setAddress,
      shippingOptions,
      chooseShipping,
      applyCoupon,
      removeCoupon,
      startCheckout,
      capture
    })
  })
)

/**
 * Deletes expired carts every `min(ttl, 60 s)` of the Clock, so that storage
 * does not grow with abandoned carts (memory and node; a Durable Object uses
 * its alarm instead). Reads treat an expired cart as absent before then.
 */
export const layerSweeper = Layer.effectDiscard(
  Effect.gen(function* () {
    const store = yield* CartStore
    const config = yield* CartConfig
    const every = Duration.seconds(Math.min(config.ttlSeconds, 60))
    const sweep = Effect.gen(function* () {
      const removed = yield* store.removeExpired(yield* Clock.currentTimeMillis)
      if (removed > 0) yield* Effect.logInfo("Removed expired carts").pipe(Effect.annotateLogs({ removed }))
    })
    yield* Effect.forkScoped(Effect.repeat(Effect.delay(sweep, every), Schedule.forever))
  })
)

/**
 * The cart on an in-memory store with its sweeper and a keyed writer; needs
 * CartConfig, IdGenerator (hold ids for checkout) and the Catalog,
 * Fulfillment, Coupons, Inventory, Payments and Orders interfaces (the memory
 * runtime provides the same instances the gateway uses).
 */
export const layerMemory = Layer.mergeAll(layer, layerSweeper).pipe(
  Layer.provide(Layer.mergeAll(CartStore.layerMemory, CartWriter.layerKeyed))
)
