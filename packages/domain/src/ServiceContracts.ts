import { Schema } from "effect"
import { Rpc, RpcGroup } from "effect/rpc"
import {
  Address,
  AddressInput,
  AddressPatch,
  AdminUserResult,
  LoginInput,
  LoginResult,
  Me,
  Principal,
  PromoteInput,
  SignupInput,
  SignupResult
} from "./Auth.ts"
import { Cart } from "./Cart.ts"
import {
  AdminRefundInput,
  CaptureCheckoutInput,
  CheckoutCaptured,
  CheckoutStarted,
  ListUnsettledInput,
  SettlePaymentInput,
  StartCheckoutInput
} from "./Checkout.ts"
import { Coupon, CreateCouponInput } from "./Coupons.ts"
import { CreateProductInput, ListProducts, Product, ProductPage, UpdateProductInput } from "./Catalog.ts"
import {
  AddressNotFound,
  AddressRequired,
  AlreadyAdmin,
  CartEmpty,
  CartNotFound,
  ShippingRequired,
  CouponExhausted,
  CouponExpired,
  InsufficientStock,
  ItemNotFound,
  MinCartNotMet,
  CouponExists,
  CouponNotFound,
  EmailExists,
  HoldCommitted,
  HoldExpired,
  HoldMismatch,
  HoldNotFound,
  HoldReleased,
  InvalidCoupon,
  InvalidCredentials,
  InvalidShippingMethod,
  ProductNotFound,
  RateLimited,
  SkuExists,
  StockBelowReserved,
  Unauthorized,
  UpdateConflict,
  UserNotFound,
  ValidationError,
  VariantNotFound
} from "./Errors.ts"
import {
  LabelInput,
  ShipmentLabel,
  QuoteInput,
  ShippingAddress,
  ShippingOption,
  ShippingOptions,
  AddressCandidate,
  TaxDestination,
  TaxRate,
  TaxRegion,
  BasisPoints
} from "./Fulfillment.ts"
import { ImageId, ImageNotFound, ImageUploaded, StoredImage, TooManyImages } from "./Images.ts"
import { PayloadTooLarge, UnsupportedMediaType } from "./Errors.ts"
import { AddressId, CartId, ProductId, SessionId, UserId, VariantId } from "./Ids.ts"
import { Availability, ExpiredHolds, Hold, HoldId, ReserveInput, StockLevel } from "./Inventory.ts"
import { InvalidStatus, InvalidTransition, OrderNotFound, RefundExceedsCaptured } from "./Errors.ts"
import { OrderId } from "./Ids.ts"
import { IdempotencyKeyInUse, IdempotencyKeyReused, RedemptionMismatch } from "./Errors.ts"
import { ClaimInput, ClaimResult, CompleteInput, KeyRef } from "./Idempotency.ts"
import {
  AddShipmentInput,
  CreateOrderInput,
  ListAllOrdersInput,
  ListUserOrdersInput,
  Order,
  OrderCaller,
  OrderPage,
  RecordRefundInput,
  SetOrderStatusInput
} from "./Orders.ts"
import {
  InvalidPaymentAmount,
  PaymentDeclined,
  PaymentFailed,
  PaymentNotApproved,
  PaymentNotFound,
  PaymentProviderUnavailable,
  PaymentRejected,
  WebhookVerificationFailed
} from "./Errors.ts"
import {
  CapturePaymentInput,
  CreatePaymentInput,
  FindByProviderOrderInput,
  GetPaymentInput,
  MarkFailedInput,
  Payment,
  RecordEventInput,
  RecordEventResult,
  RefundPaymentInput,
  VerifyWebhookInput,
  WebhookEvent
} from "./Payments.ts"

// The service interfaces, as data: one RpcGroup per service, one procedure
// per method, with the schemas of its payload, success and typed failure.
// The Context tags (packages/<service>/src/<Service>.ts) take their shape
// from these (ServiceTransport.ServiceOf), so changing a schema here changes
// the interface. A runtime that splits services apart (Cloudflare Workers)
// serves and calls them with effect/rpc.

const method = <const Tag extends string, P extends Schema.Top, S extends Schema.Top, E extends Schema.Top>(
  tag: Tag,
  payload: P,
  success: S,
  error: E
) => Rpc.make(tag, { payload, success, error })

const ByUser = Schema.Struct({ userId: UserId })

export const AuthRpcs = RpcGroup.make(
  method("signup", SignupInput, SignupResult, EmailExists),
  method(
    "adminSignup",
    Schema.Struct({ ...SignupInput.fields, secret: Schema.UndefinedOr(Schema.String), client: Schema.String }),
    AdminUserResult,
    Schema.Union([Unauthorized, EmailExists, RateLimited])
  ),
  method(
    "login",
    Schema.Struct({ ...LoginInput.fields, client: Schema.String }),
    LoginResult,
    Schema.Union([InvalidCredentials, RateLimited])
  ),
  method("authenticate", Schema.Struct({ token: Schema.String }), Principal, Unauthorized),
  method("logout", Schema.Struct({ sessionId: SessionId }), Schema.Void, Schema.Never),
  method("me", ByUser, Me, Unauthorized),
  method("promote", PromoteInput, AdminUserResult, Schema.Union([UserNotFound, AlreadyAdmin])),
  method("listAddresses", ByUser, Schema.Array(Address), Schema.Never),
  method("createAddress", Schema.Struct({ userId: UserId, address: AddressInput }), Address, Schema.Never),
  method(
    "updateAddress",
    Schema.Struct({ userId: UserId, addressId: AddressId, patch: AddressPatch }),
    Address,
    AddressNotFound
  ),
  method("deleteAddress", Schema.Struct({ userId: UserId, addressId: AddressId }), Schema.Void, AddressNotFound)
)

const ByProduct = Schema.Struct({ productId: ProductId })

export const CatalogRpcs = RpcGroup.make(
  method("list", ListProducts, ProductPage, ValidationError),
  method("get", ByProduct, Product, ProductNotFound),
  // The products among `productIds` that exist, in any order, with one
  // availability read for all of them: a cart re-priced on every change asks
  // for all its lines' products at once, not one call each (a cart holds at
  // most 100 lines).
  method(
    "getMany",
    Schema.Struct({ productIds: Schema.Array(ProductId).pipe(Schema.check(Schema.isMaxLength(100))) }),
    Schema.Array(Product),
    Schema.Never
  ),
  method("create", CreateProductInput, Product, Schema.Union([SkuExists, ValidationError])),
  method(
    "update",
    Schema.Struct({ productId: ProductId, patch: UpdateProductInput }),
    Product,
    Schema.Union([ProductNotFound, SkuExists, UpdateConflict, ValidationError])
  ),
  method("remove", ByProduct, Schema.Void, ProductNotFound),
  // Images travel as bytes (base64 in the JSON of an exchange between
  // Workers): at most MaxImageBytes each way.
  method(
    "addImage",
    Schema.Struct({ productId: ProductId, bytes: Schema.Uint8Array }),
    ImageUploaded,
    Schema.Union([
      ProductNotFound,
      TooManyImages,
      PayloadTooLarge,
      UnsupportedMediaType,
      ValidationError,
      UpdateConflict
    ])
  ),
  method(
    "removeImage",
    Schema.Struct({ productId: ProductId, imageId: ImageId }),
    Schema.Void,
    Schema.Union([ProductNotFound, ImageNotFound, UpdateConflict])
  ),
  method(
    "reorderImages",
    Schema.Struct({ productId: ProductId, order: Schema.Array(Schema.String) }),
    Product,
    Schema.Union([ProductNotFound, ValidationError, UpdateConflict])
  ),
  method("getImage", Schema.Struct({ key: Schema.String }), StoredImage, ImageNotFound)
)

const ByVariant = Schema.Struct({ variantId: VariantId })
const Variants = Schema.Struct({ variantIds: Schema.Array(VariantId) })
const ByHold = Schema.Struct({ holdId: HoldId })

export const InventoryRpcs = RpcGroup.make(
  method("get", ByVariant, StockLevel, VariantNotFound),
  method(
    "set",
    Schema.Struct({ variantId: VariantId, stock: Schema.Int }),
    StockLevel,
    Schema.Union([VariantNotFound, StockBelowReserved, ValidationError])
  ),
  method(
    "adjust",
    Schema.Struct({ variantId: VariantId, delta: Schema.Int }),
    StockLevel,
    Schema.Union([VariantNotFound, StockBelowReserved, ValidationError])
  ),
  // One call for any number of variants, so a product page or list costs one
  // round trip to this service. Unknown variants are reported with 0.
  method("availability", Variants, Schema.Array(Availability), Schema.Never),
  // Creates stock rows for new variants; existing rows are left as they are.
  method(
    "initialize",
    Schema.Struct({ levels: Schema.Array(Schema.Struct({ variantId: VariantId, stock: Schema.Int })) }),
    Schema.Void,
    Schema.Never
  ),
  method("remove", Variants, Schema.Void, Schema.Never),
  // For the catalog's reconciliation, which repairs what a crash between its
  // writes and inventory's left behind. `missing`: those of the variants that
  // have no stock row. `stockRows`: a page of stock rows in variant id order,
  // after `after`, each with when it was last written (epoch milliseconds on
  // this service's Clock), so that a row written a moment ago is never taken
  // for one that no variant will claim.
  method("missing", Variants, Variants, Schema.Never),
  method(
    "stockRows",
    Schema.Struct({
      after: Schema.optional(VariantId),
      limit: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 1000 })))
    }),
    Schema.Array(Schema.Struct({ variantId: VariantId, updatedAt: Schema.Int })),
    Schema.Never
  ),
  // Holds every line or none: the first line short of stock is reported.
  // Again with the same holdId and lines: the same hold, reserved once, as it
  // is now (it may have been committed, released or expired since).
  method("reserve", ReserveInput, Hold, Schema.Union([InsufficientStock, HoldMismatch, ValidationError])),
  // The held stock is sold. Again: the same answer, sold once.
  method("commit", ByHold, Hold, Schema.Union([HoldNotFound, HoldExpired, HoldReleased])),
  // The held stock goes back. Again, or after expiry: the same, returned once.
  method("release", ByHold, Hold, Schema.Union([HoldNotFound, HoldCommitted])),
  method("getHold", ByHold, Hold, HoldNotFound),
  // A committed hold's stock goes back on the shelf (an order cancelled
  // after its sale): stock += each line, the hold becomes `restocked`, once.
  // Again, or on a hold that is not committed: the hold as it is, nothing
  // changed.
  method("restock", ByHold, Hold, HoldNotFound),
  // Returns the stock of every hold past its expiry, as of the service's
  // Clock (a caller cannot move time); the sweeper and the Workers' cron call it.
  method("expireHolds", Schema.Struct({}), ExpiredHolds, Schema.Never)
)

export const FulfillmentRpcs = RpcGroup.make(
  // Every method for the destination, weight and subtotal, coupon applied.
  method("quote", QuoteInput, ShippingOptions, ValidationError),
  // One method's quote, for choosing it (a cart's `POST shipping`).
  method(
    "quoteMethod",
    Schema.Struct({ ...QuoteInput.fields, methodId: Schema.String }),
    ShippingOption,
    Schema.Union([InvalidShippingMethod, ValidationError])
  ),
  method("validateAddress", Schema.Struct({ address: AddressCandidate }), ShippingAddress, ValidationError),
  method(
    "setTaxRate",
    Schema.Struct({ country: TaxRegion, rate: BasisPoints, shippingTaxable: Schema.Boolean }),
    TaxRate,
    ValidationError
  ),
  method("listTaxRates", Schema.Struct({}), Schema.Array(TaxRate), Schema.Never),
  // The rate that applies to a destination: its region's (`US-CA`) before its
  // country's (`US`); null when neither is set.
  method("taxRateFor", TaxDestination, Schema.NullOr(TaxRate), Schema.Never),
  // The carrier and tracking number for shipping an order (LabelInput).
  method("label", LabelInput, ShipmentLabel, Schema.Never)
)

// A coupon used by one checkout: `redemptionId` is that checkout's payment or
// hold id, unique across coupons, so a repeated redeem finds its own use.
export const RedemptionId = Schema.String.check(Schema.isNonEmpty(), Schema.isMaxLength(128))
export const CouponRedemption = Schema.Struct({
  redemptionId: RedemptionId,
  code: Schema.String,
  userId: UserId,
  redeemedAt: Schema.String
})
export type CouponRedemption = typeof CouponRedemption.Type

export const CouponsRpcs = RpcGroup.make(
  method("create", CreateCouponInput, Coupon, Schema.Union([CouponExists, ValidationError])),
  // Every coupon, by code, each with its redemption count.
  method("list", Schema.Struct({}), Schema.Array(Coupon), Schema.Never),
  method("remove", Schema.Struct({ code: Schema.String }), Schema.Void, CouponNotFound),
  // For the cart: the coupon of a code, in any case; an expired coupon is
  // still returned (the cart decides what to tell the customer). `throttle`
  // names who is asking (`cart:<id>`, `client:<ip>`): a code that names no
  // coupon counts against each key, and a key with too many bad codes in the
  // window is refused (RateLimited) whatever the code, until the window ends.
  method(
    "lookup",
    Schema.Struct({ code: Schema.String, throttle: Schema.optional(Schema.Array(Schema.String)) }),
    Coupon,
    Schema.Union([InvalidCoupon, RateLimited])
  ),
  // For checkout: records one use of the coupon by `userId` if its
  // `usageLimit` and `perCustomerLimit` still allow it, atomically however
  // many checkouts race for the last use. Idempotent per `redemptionId`: a
  // repeat answers the first success (even once the coupon has expired or run
  // out) and counts once. CouponExhausted's message says which limit was
  // reached; RedemptionMismatch when the id already redeemed another code or
  // user.
  method(
    "redeem",
    Schema.Struct({ code: Schema.String, redemptionId: RedemptionId, userId: UserId }),
    CouponRedemption,
    Schema.Union([InvalidCoupon, CouponExpired, CouponExhausted, RedemptionMismatch])
  ),
  // Compensation, when the checkout fails after redeeming: gives that one use
  // back. Idempotent: releasing an unknown or already released id does nothing.
  method("release", Schema.Struct({ redemptionId: RedemptionId }), Schema.Void, Schema.Never)
)

// Every cart call names the cart and the caller: the signed-in user, or null
// for a guest. A cart created by a user answers only that user (anyone else:
// CartNotFound, as for a cart that does not exist); a guest cart answers
// whoever holds its id. The cart's id is the key a runtime routes on (one
// Durable Object per cart on Cloudflare).
const OnCart = { cartId: CartId, caller: Schema.NullOr(UserId) }
const onCart = <const Fields extends Schema.Struct.Fields>(fields: Fields) => Schema.Struct({ ...OnCart, ...fields })

export const CartRpcs = RpcGroup.make(
  // The gateway draws the id (IdGenerator.secret), so that every call, this
  // one too, names the cart it is for.
  method("create", Schema.Struct({ cartId: CartId, userId: Schema.NullOr(UserId) }), Cart, Schema.Never),
  method("get", onCart({}), Cart, CartNotFound),
  method(
    "add",
    onCart({ productId: ProductId, variantId: Schema.optional(VariantId), quantity: Schema.Int }),
    Cart,
    Schema.Union([CartNotFound, ProductNotFound, InsufficientStock, ValidationError])
  ),
  method(
    "update",
    onCart({ variantId: VariantId, quantity: Schema.Int }),
    Cart,
    Schema.Union([CartNotFound, ItemNotFound, InsufficientStock, ValidationError])
  ),
  method("remove", onCart({ variantId: VariantId }), Cart, Schema.Union([CartNotFound, ItemNotFound])),
  method("clear", onCart({}), Cart, CartNotFound),
  // An address to validate (fulfillment's rules); the gateway resolves a
  // saved `addressId` of the caller's into one.
  method("setAddress", onCart({ address: AddressCandidate }), Cart, Schema.Union([CartNotFound, ValidationError])),
  method("shippingOptions", onCart({}), ShippingOptions, Schema.Union([CartNotFound, AddressRequired])),
  method(
    "chooseShipping",
    onCart({ methodId: Schema.String }),
    Cart,
    Schema.Union([CartNotFound, AddressRequired, InvalidShippingMethod])
  ),
  // `client` is who is asking (the gateway's client address), for throttling
  // repeated bad codes per client as well as per cart.
  method(
    "applyCoupon",
    onCart({ code: Schema.String, client: Schema.String }),
    Cart,
    Schema.Union([CartNotFound, InvalidCoupon, MinCartNotMet, CouponExpired, CouponExhausted, RateLimited])
  ),
  method("removeCoupon", onCart({}), Cart, CartNotFound),
  // Checkout (Checkout.ts, docs/CHECKOUT.md), one operation of the cart
  // like any change. Start: the cart re-priced, the hold placed, the
  // provider order created, the checkout recorded on the cart; again on an
  // unchanged cart, the same hold and payment. A change to the cart after
  // it releases the hold.
  method(
    "startCheckout",
    StartCheckoutInput,
    CheckoutStarted,
    Schema.Union([
      CartNotFound,
      CartEmpty,
      AddressRequired,
      ShippingRequired,
      InsufficientStock,
      InvalidPaymentAmount,
      PaymentRejected,
      PaymentProviderUnavailable,
      ValidationError
    ])
  ),
  // Capture: the money taken once, the hold committed, the coupon redeemed,
  // the order created, the cart emptied; every repeat answers the same.
  // The hold gone: nothing charged (HoldExpired). A failure after the money
  // moved refunds it. Runs even when the cart itself has gone.
  method(
    "capture",
    CaptureCheckoutInput,
    CheckoutCaptured,
    Schema.Union([
      PaymentNotFound,
      PaymentNotApproved,
      PaymentDeclined,
      PaymentFailed,
      HoldExpired,
      CouponExhausted,
      PaymentRejected,
      PaymentProviderUnavailable,
      UpdateConflict
    ])
  )
)

// Orders keep the record of a sale and its state machine (Orders.ts); money
// and stock move in payments and inventory. Every change is a compare-and-set
// on the stored order, so of two racing changes one lands first and the other
// is decided again on what it left (UpdateConflict only if an order keeps
// changing under a caller many times over).
export const OrdersRpcs = RpcGroup.make(
  // From checkout, once the money is captured. Idempotent per reservationId:
  // a repeat (a retry, a racing duplicate) answers the order created first
  // and writes nothing, whatever else it carries.
  method("create", CreateOrderInput, Order, ValidationError),
  // Another user's order is OrderNotFound, as for one that does not exist;
  // an admin sees every order.
  method("get", Schema.Struct({ orderId: OrderId, caller: OrderCaller }), Order, OrderNotFound),
  // Newest first; limit 1..100, offset >= 0.
  method("listForUser", ListUserOrdersInput, OrderPage, ValidationError),
  // Every user's orders, newest first, optionally only those in one status.
  method("listAll", ListAllOrdersInput, OrderPage, Schema.Union([InvalidStatus, ValidationError])),
  // One step of the state machine, with a history entry (and the note).
  // To `cancelled`: the money captured and not yet refunded goes back and
  // the stock is restocked, each step idempotent, so cancelling again
  // finishes what a failed attempt left.
  method(
    "setStatus",
    SetOrderStatusInput,
    Order,
    Schema.Union([
      OrderNotFound,
      InvalidStatus,
      InvalidTransition,
      UpdateConflict,
      PaymentRejected,
      PaymentProviderUnavailable
    ])
  ),
  // Records a shipment and moves a paid or processing order to shipped.
  method(
    "addShipment",
    AddShipmentInput,
    Order,
    Schema.Union([OrderNotFound, InvalidTransition, ValidationError, UpdateConflict])
  ),
  // Records money the payment provider gave back (refundId: its refund's id;
  // a refundId already recorded changes nothing). Never more than captured
  // minus refunded; a delivered order refunded in full becomes refunded.
  method(
    "recordRefund",
    RecordRefundInput,
    Order,
    Schema.Union([OrderNotFound, RefundExceedsCaptured, ValidationError, UpdateConflict])
  ),
  // An admin refund: `amount` (absent: the rest) given back through
  // payments, then recorded; never more than captured minus refunded.
  // Idempotent per the refunds already recorded on the order.
  method(
    "refund",
    AdminRefundInput,
    Order,
    Schema.Union([
      OrderNotFound,
      RefundExceedsCaptured,
      InvalidTransition,
      ValidationError,
      PaymentRejected,
      PaymentProviderUnavailable,
      UpdateConflict
    ])
  ),
  // For reconciliation: the order of a hold, or null when none was created.
  method("findByReservation", Schema.Struct({ reservationId: Schema.String }), Schema.NullOr(Order), Schema.Never)
)

// Payments keep the shop's record of the money at the provider (Payments.ts).
// Every step is idempotent, so the checkout saga may repeat any of them after
// a lost answer: one provider order per hold, one capture per payment, one
// refund per requestId. A PaymentProviderUnavailable means "outcome unknown,
// repeat the call"; the repeat settles it. Changes are compare-and-set on the
// stored payment (UpdateConflict only if it keeps changing under a caller).
export const PaymentsRpcs = RpcGroup.make(
  // Creates the provider order for the buyer to approve. Idempotent per
  // reservationId: a repeat (a retry, a racing duplicate) answers the payment
  // created first, whatever else it carries.
  method(
    "create",
    CreatePaymentInput,
    Payment,
    Schema.Union([InvalidPaymentAmount, PaymentRejected, PaymentProviderUnavailable, ValidationError])
  ),
  // Another user's payment is PaymentNotFound, as for one that does not
  // exist; an admin sees every payment.
  method("get", GetPaymentInput, Payment, PaymentNotFound),
  // For the return from the provider and its webhooks: the payment of a
  // provider order, or null.
  method("findByProviderOrder", FindByProviderOrderInput, Schema.NullOr(Payment), Schema.Never),
  // Takes the money, once however many calls race; a repeat answers the
  // captured payment. Declined: the buyer may approve another funding source
  // and the capture be tried again. On a payment marked failed it takes
  // nothing (PaymentFailed) but records a capture the provider made before
  // (a lost answer): call it on the provider's capture webhook, and refund a
  // captured payment that carries a failure.
  method(
    "capture",
    CapturePaymentInput,
    Payment,
    Schema.Union([
      PaymentNotFound,
      PaymentNotApproved,
      PaymentDeclined,
      PaymentFailed,
      PaymentRejected,
      PaymentProviderUnavailable,
      UpdateConflict
    ])
  ),
  // Gives back `amount` (absent: the rest), never more than captured minus
  // refunded; idempotent per requestId.
  method(
    "refund",
    RefundPaymentInput,
    Payment,
    Schema.Union([
      PaymentNotFound,
      RefundExceedsCaptured,
      InvalidPaymentAmount,
      PaymentRejected,
      PaymentProviderUnavailable,
      ValidationError,
      UpdateConflict
    ])
  ),
  // The saga's record of where it gave up. A payment with no money taken
  // becomes failed (and can no longer be captured); one with money keeps its
  // status, the refund being the saga's next step.
  method("markFailed", MarkFailedInput, Payment, Schema.Union([PaymentNotFound, UpdateConflict])),
  // For the reconciliation pass: payments without `settledAt` created
  // before `createdBefore`, oldest first.
  method("listUnsettled", ListUnsettledInput, Schema.Array(Payment), Schema.Never),
  // The checkout is done with the payment (its order exists, or nothing is
  // kept): sets `settledAt` (and `orderId`) once; again, nothing changes.
  method("settle", SettlePaymentInput, Payment, Schema.Union([PaymentNotFound, UpdateConflict])),
  // Webhooks are delivered at least once: `first` is true for exactly one
  // call per eventId, whichever runtime instance receives it.
  method("recordEvent", RecordEventInput, RecordEventResult, Schema.Never),
  // The event of a webhook delivery whose signature the provider confirms.
  method(
    "verifyWebhook",
    VerifyWebhookInput,
    WebhookEvent,
    Schema.Union([WebhookVerificationFailed, PaymentProviderUnavailable])
  )
)

// Idempotency keys (Idempotency.ts): the records behind the gateway's
// Idempotency-Key handling. A claim is one conditional write, so of two
// concurrent claims of one key exactly one is "new"; the holder then
// completes (the response is kept 24 h from the claim) or abandons (the key
// is free again, for a request that failed on our side).
export const IdempotencyRpcs = RpcGroup.make(
  method("claim", ClaimInput, ClaimResult, Schema.Union([IdempotencyKeyReused, IdempotencyKeyInUse])),
  method("complete", CompleteInput, Schema.Void, Schema.Never),
  method("abandon", KeyRef, Schema.Void, Schema.Never),
  // Deletes expired records; how many. Run by a sweep (memory, node) or a
  // Cron Trigger (Workers); a claim ignores expired records regardless.
  method("removeExpired", Schema.Struct({}), Schema.Struct({ removed: Schema.Int }), Schema.Never)
)
