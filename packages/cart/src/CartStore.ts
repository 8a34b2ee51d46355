import { Context, Effect, Layer, Option, Schema, Semaphore } from "effect"
import { Cart, CartLine, CartSummary } from "@shop/domain/Cart"
import { ShippingAddress, ShippingOption } from "@shop/domain/Fulfillment"
import { UserId } from "@shop/domain/Ids"
import { HoldId } from "@shop/domain/Inventory"
import { PaymentId } from "@shop/domain/Payments"

// The checkout a start placed, kept beside the cart's public `checkout`:
// what start needs to answer a repeat (the fingerprint of the cart it was
// started on) and what capture needs to create the order, as the buyer saw it
// when the hold was placed, even if the cart changes or goes afterwards.
export const PendingCheckout = Schema.Struct({
  reservationId: HoldId,
  paymentId: PaymentId,
  paypalOrderId: Schema.String,
  approveUrl: Schema.String,
  // The hold's expiry: ISO 8601 and epoch milliseconds.
  expiresAt: Schema.String,
  expiresAtMillis: Schema.Int,
  // Lines (variant, quantity, unit price), address, method, coupon, total.
  fingerprint: Schema.String,
  order: Schema.Struct({
    userId: UserId,
    items: Schema.Array(CartLine),
    address: ShippingAddress,
    shippingMethod: ShippingOption,
    summary: CartSummary,
    // Only a coupon that applied: it is redeemed at capture.
    couponCode: Schema.optional(Schema.String)
  })
})
export type PendingCheckout = typeof PendingCheckout.Type

// What a runtime keeps of a cart: the cart as last computed (every figure of
// its summary included, so a read is one lookup) and what the summary needs
// that the cart does not show: each line's weight, for shipping quotes.
export const CartRecord = Schema.Struct({
  cart: Cart,
  // Grams per unit, one entry per line of `cart.items`, in the same order.
  weights: Schema.Array(Schema.Int),
  // Epoch milliseconds; the same instant as `cart.expiresAt`.
  expiresAtMillis: Schema.Int,
  // Optional, so that carts stored before checkout existed still decode.
  pending: Schema.optional(PendingCheckout)
})
export type CartRecord = typeof CartRecord.Type

// Stores keep a record as JSON text; a record that does not decode is a
// defect (a store's contents are written only by this code). The schema
// encodes and decodes the value and JSON does the text: the same text and
// the same checks as Schema.fromJsonString, whose JsonString also parses the
// text once more to check that it is JSON (on encode as on decode), which
// was most of a save's CPU on a cart of 100 lines.
const encodeValue = Schema.encodeSync(CartRecord)
const decodeValue = Schema.decodeUnknownSync(CartRecord)
export const encodeRecord = (record: CartRecord): string => JSON.stringify(encodeValue(record))
export const decodeRecord = (text: string): CartRecord => decodeValue(JSON.parse(text))

// The text of a record without checking it on the way in. The record's
// encoded form is its value (no field of CartRecord transforms; the tests
// compare the two texts on generated records of every shape), so only the
// check is skipped: it walks every line, 214 µs for a 100-line cart against
// 70 for the JSON (micro-benchmark), on a value CartLive has just computed
// from checked inputs. The stores of node and Cloudflare write with this;
// every read still decodes with the schema, so a record that is not valid is
// never served: it is found at its next read (a defect, as a stored record
// that does not decode always was). The memory store, which every service and
// scenario test runs on, checks each write with `encodeRecord`, so a change
// to CartLive that builds an invalid record fails the tests.
export const encodeRecordUnchecked = (record: CartRecord): string => JSON.stringify(record)

// Where carts live: memory, a SQLite file (node), a Durable Object's own
// storage (Cloudflare, one cart per object). Reads and writes of one cart id
// are only ever made by its single writer (CartWriter), so a store needs no
// conditional writes.
export class CartStore extends Context.Service<
  CartStore,
  {
    readonly find: (cartId: string) => Effect.Effect<Option.Option<CartRecord>>
    // Creates or replaces the cart.
    readonly save: (record: CartRecord) => Effect.Effect<void>
    readonly remove: (cartId: string) => Effect.Effect<void>
    // Deletes every cart whose expiry is at or before `nowMillis`; answers how many.
    readonly removeExpired: (nowMillis: number) => Effect.Effect<number>
  }
>()("@shop/cart/CartStore") {
  /** Carts in a Map, for the memory runtime and tests. */
  static readonly layerMemory = Layer.sync(CartStore, () => {
    // Kept encoded, as the other stores keep them: a caller can never mutate a stored cart.
    const carts = new Map<string, { readonly text: string; readonly expiresAtMillis: number }>()
    return CartStore.of({
      find: (cartId) =>
        Effect.sync(() => Option.map(Option.fromUndefinedOr(carts.get(cartId)), ({ text }) => decodeRecord(text))),
      save: (record) =>
        Effect.sync(() => {
          carts.set(record.cart.cartId, { text: encodeRecord(record), expiresAtMillis: record.expiresAtMillis })
        }),
      remove: (cartId) =>
        Effect.sync(() => {
          carts.delete(cartId)
        }),
      removeExpired: (nowMillis) =>
        Effect.sync(() => {
          let removed = 0
          for (const [cartId, { expiresAtMillis }] of carts) {
            if (expiresAtMillis <= nowMillis) {
              carts.delete(cartId)
              removed++
            }
          }
          return removed
        })
    })
  })
}

// The single writer per cart id: `withCart(id)(operation)` runs the operation
// alone among the operations on that id, from its first read to its last
// write, slow calls to other services included; operations on other ids run
// in parallel. This is what makes concurrent changes to one cart exact.
export class CartWriter extends Context.Service<
  CartWriter,
  {
    readonly withCart: (cartId: string) => <A, E, R>(operation: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  }
>()("@shop/cart/CartWriter") {
  /**
   * For a process that holds many carts (memory, node): one semaphore per cart
   * id in use, dropped when its last operation ends so that the map does not
   * grow with the carts ever touched.
   */
  static readonly layerKeyed = Layer.sync(CartWriter, () => {
    const locks = new Map<string, { readonly semaphore: Semaphore.Semaphore; users: number }>()
    const acquire = (cartId: string) =>
      Effect.sync(() => {
        let lock = locks.get(cartId)
        if (lock === undefined) {
          lock = { semaphore: Semaphore.makeUnsafe(1), users: 0 }
          locks.set(cartId, lock)
        }
        lock.users++
        return lock
      })
    const release = (cartId: string, lock: { users: number }) =>
      Effect.sync(() => {
        lock.users--
        if (lock.users === 0) locks.delete(cartId)
      })
    return CartWriter.of({
      withCart: (cartId) => (operation) =>
        Effect.acquireUseRelease(
          acquire(cartId),
          (lock) => lock.semaphore.withPermit(operation),
          (lock) => release(cartId, lock)
        )
    })
  })

  /**
   * For a host of exactly one cart (a Durable Object): one semaphore. A Durable
   * Object's input gate opens while it awaits anything but its own storage (a
   * call to the catalog, say), letting the next request in; the semaphore keeps
   * that request waiting until the current operation has written.
   */
  static readonly layerSingle = Layer.sync(CartWriter, () => {
    const semaphore = Semaphore.makeUnsafe(1)
    return CartWriter.of({ withCart: () => (operation) => semaphore.withPermit(operation) })
  })
}
