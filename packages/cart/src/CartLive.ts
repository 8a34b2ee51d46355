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
import {
  AddressRequired,
  CartNotFound,
  CouponExhausted,
  CouponExpired,
  InsufficientStock,
  InvalidShippingMethod,
  ItemNotFound,
  MinCartNotMet,
  ProductNotFound,
  ValidationError
} from "@shop/domain/Errors"
import {
  type AddressCandidate,
  type ShippingAddress,
  type ShippingCoupon,
  ShippingMethodId,
  type ShippingOption
} from "@shop/domain/Fulfillment"
import type { CartId, ProductId, UserId, VariantId } from "@shop/domain/Ids"
import { Currency, type Money } from "@shop/domain/Money"
import { Catalog } from "@shop/catalog/Catalog"
import { Coupons } from "@shop/coupons/Coupons"
import { Fulfillment } from "@shop/fulfillment/Fulfillment"
import { CartConfig } from "./CartConfig.ts"
import { Carts } from "./Carts.ts"
import { type CartRecord, CartStore, CartWriter } from "./CartStore.ts"
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
  readonly userId: UserId | null
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

export const layer = Layer.effect(
  Carts,
  Effect.gen(function* () {
    const store = yield* CartStore
    const writer = yield* CartWriter
    const config = yield* CartConfig
    const catalog = yield* Catalog
    const fulfillment = yield* Fulfillment
    const coupons = yield* Coupons

    // The cart as its caller may see it: absent, expired and someone else's
    // carts are all "not found", so a cart id reveals nothing about its owner.
    const load = Effect.fn("Carts.load")(function* (cartId: CartId, caller: UserId | null) {
      const found = yield* store.find(cartId)
      const now = yield* Clock.currentTimeMillis
      if (Option.isNone(found) || found.value.expiresAtMillis <= now) return yield* new CartNotFound({})
      const owner = found.value.cart.userId
      if (owner !== null && owner !== caller) return yield* new CartNotFound({})
      return found.value
    })

    // Today's product of every line, fetched once per operation.
    const productsOf = (ids: ReadonlyArray<ProductId>) =>
      Effect.forEach(
        [...new Set(ids)],
        (productId) =>
          catalog.get({ productId }).pipe(
            Effect.map(Option.some),
            Effect.catchTag("ProductNotFound", () => Effect.succeed(Option.none<Product>())),
            Effect.map((product) => [productId, product] as const)
          ),
        { concurrency: 8 }
      ).pipe(Effect.map((entries) => new Map(entries)))

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
    // (read live from inventory: the catalog caches products, never stock),
    // so a stock check costs no call of its own.
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
    const compute = Effect.fn("Carts.compute")(function* (draft: Draft, expiresAtMillis: number) {
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
        taxRate = yield* fulfillment.taxRateFor({
          country: address.country,
          ...(address.region !== undefined ? { region: address.region } : {})
        })
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
          const next = yield* compute(draft, now + config.ttlSeconds * 1000)
          yield* store.save(next)
          return next.cart
        })
      )

    const create = Effect.fn("Carts.create")(function* (input: { cartId: CartId; userId: UserId | null }) {
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

    const get = Effect.fn("Carts.get")(function* (input: { cartId: CartId; caller: UserId | null }) {
      return (yield* load(input.cartId, input.caller)).cart
    })

    const add = Effect.fn("Carts.add")(function* (input: {
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

    const update = Effect.fn("Carts.update")(function* (input: {
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

    const remove = Effect.fn("Carts.remove")(function* (input: {
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

    const clear = Effect.fn("Carts.clear")(function* (input: { cartId: CartId; caller: UserId | null }) {
      return yield* change(input.cartId, input.caller, (draft) =>
        Effect.sync(() => {
          draft.lines = []
        })
      )
    })

    const setAddress = Effect.fn("Carts.setAddress")(function* (input: {
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
    const shippingOptions = Effect.fn("Carts.shippingOptions")(function* (input: {
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

    const chooseShipping = Effect.fn("Carts.chooseShipping")(function* (input: {
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

    const applyCoupon = Effect.fn("Carts.applyCoupon")(function* (input: {
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

    const removeCoupon = Effect.fn("Carts.removeCoupon")(function* (input: { cartId: CartId; caller: UserId | null }) {
      return yield* change(input.cartId, input.caller, (draft) =>
        Effect.sync(() => {
          draft.couponCode = null
        })
      )
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
      removeCoupon
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
 * CartConfig and the Catalog, Fulfillment and Coupons interfaces
 * (the memory runtime provides the same instances the gateway uses).
 */
export const layerMemory = Layer.mergeAll(layer, layerSweeper).pipe(
  Layer.provide(Layer.mergeAll(CartStore.layerMemory, CartWriter.layerKeyed))
)
