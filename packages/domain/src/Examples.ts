import { ImageId } from "./Images.ts"
import type { Address, AddressInput, Me } from "./Auth.ts"
import type { Cart, CartLine, CartSummary } from "./Cart.ts"
import type { CheckoutStarted, PaymentView } from "./Checkout.ts"
import type { Coupon, CreateCouponInput } from "./Coupons.ts"
import type { Product, Variant } from "./Catalog.ts"
import type { ShippingAddress, ShippingOption } from "./Fulfillment.ts"
import type { AddressId, CartId, OrderId, ProductId, UserId, VariantId } from "./Ids.ts"
import type { HoldId } from "./Inventory.ts"
import type { Currency, Money, Price } from "./Money.ts"
import type { Order } from "./Orders.ts"
import type { PaymentId } from "./Payments.ts"

// One story told by every example of the API document (issue 10): Ada signs
// up, saves an address, puts two T-shirts in a cart with coupon SAVE10, ships
// standard to California, pays through PayPal, and the order ships. The
// schemas carry these as `examples` annotations, so the document and the code
// share one set; each one must decode with its schema (the OpenAPI test lints
// them). Plain data only, with type-only imports, so that every domain module
// can import it without a cycle.

export const userId = "usr_8f3kq2m9x7c4" as UserId
export const adminId = "usr_2a6d9e1f4h7j" as UserId
export const addressId = "adr_5n2w8r4t6y1u" as AddressId
export const productId = "prd_2b7h4k9m3p6q" as ProductId
export const variantId = "var_6c1j8n4r2s5t" as VariantId
export const otherVariantId = "var_9d3f7g2h5k8m" as VariantId
export const cartId = "cart_Q7v2Lm9XkR4pT8wZ3nB6yH1c" as CartId
export const holdId = "res_4t9w2x7z5b8c" as HoldId
export const paymentId = "pay_3m8q1v6y4k2n" as PaymentId
export const orderId = "ord_7p2r5u9w3e6a" as OrderId
export const paypalOrderId = "5O190127TN364715T"
export const captureId = "3C679366HH908993F"
export const email = "ada@example.com"

const usd = "USD" as Currency
export const money = (amount: number): Money => ({ amount, currency: usd })
export const price = (amount: number): Price => ({ amount, currency: usd })

export const createdAt = "2026-12-01T10:15:30.000Z"
export const updatedAt = "2026-12-01T10:42:05.000Z"

export const addressInput: AddressInput = {
  name: "Ada Lovelace",
  line1: "500 Market St",
  line2: "Apt 4",
  city: "San Francisco",
  region: "CA",
  postalCode: "94105",
  country: "US",
  phone: "+1 415 555 0100"
}

export const address: Address = { addressId, ...addressInput }

export const shippingAddress: ShippingAddress = addressInput

export const me: Me = { userId, email, role: "user", name: "Ada Lovelace", addresses: [address] }

export const variant: Variant = {
  variantId,
  sku: "TEE-ORG-BLK-M",
  title: "Black / M",
  price: price(1299),
  attributes: { color: "black", size: "M" },
  weightGrams: 180,
  available: 118
}

export const product: Product = {
  productId,
  sku: "TEE-ORG",
  title: "Organic cotton T-shirt",
  description: "A heavyweight T-shirt of organic cotton, cut straight.",
  category: "apparel",
  // Uploaded images first (served by the shop), then hand-typed URLs.
  images: [
    "/images/9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8-img_7h3k9m2p4q6r.jpg",
    "https://cdn.example.com/products/tee-org-black.jpg"
  ],
  uploadedImages: [
    {
      imageId: ImageId.make("img_7h3k9m2p4q6r"),
      url: "/images/9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8-img_7h3k9m2p4q6r.jpg",
      contentType: "image/jpeg",
      size: 84211
    }
  ],
  price: price(1299),
  variants: [
    variant,
    {
      variantId: otherVariantId,
      sku: "TEE-ORG-BLK-L",
      title: "Black / L",
      price: price(1299),
      attributes: { color: "black", size: "L" },
      weightGrams: 195,
      available: 64
    }
  ],
  createdAt,
  updatedAt
}

export const standardShipping: ShippingOption = {
  methodId: "standard",
  title: "Standard",
  cost: money(599),
  transitDays: 5,
  eta: "2026-12-08"
}

export const shippingOptions: ReadonlyArray<ShippingOption> = [
  standardShipping,
  { methodId: "express", title: "Express", cost: money(1499), transitDays: 2, eta: "2026-12-03" },
  { methodId: "priority", title: "Priority", cost: money(2999), transitDays: 1, eta: "2026-12-02" }
]

export const cartLine: CartLine = {
  productId,
  variantId,
  title: "Organic cotton T-shirt (Black / M)",
  quantity: 2,
  unitPrice: money(1299),
  lineTotal: money(2598)
}

// 2 × 1299 = 2598; SAVE10 takes 10% (260); standard shipping 599; California
// tax 8.25% of the discounted goods (2338 × 0.0825 = 192.885, rounded half
// away from zero: 193; shipping untaxed). 2598 - 260 + 599 + 193 = 3130.
export const summary: CartSummary = {
  subtotal: money(2598),
  discount: money(260),
  shipping: money(599),
  tax: money(193),
  total: money(3130)
}

export const cart: Cart = {
  cartId,
  userId,
  items: [cartLine],
  address: shippingAddress,
  shippingMethod: standardShipping,
  coupon: { code: "SAVE10", applicable: true },
  summary,
  currency: usd,
  expiresAt: "2026-12-08T10:42:05.000Z",
  checkout: null,
  removedItems: []
}

export const approveUrl = `https://www.sandbox.paypal.com/checkoutnow?token=${paypalOrderId}`

export const checkoutStarted: CheckoutStarted = {
  reservationId: holdId,
  paymentId,
  paypalOrderId,
  approveUrl,
  summary,
  expiresAt: "2026-12-01T11:00:00.000Z"
}

export const paidAt = "2026-12-01T10:47:12.000Z"
export const shippedAt = "2026-12-02T09:05:00.000Z"

export const paymentView: PaymentView = {
  paymentId,
  status: "captured",
  amount: money(3130),
  captures: [{ captureId, amount: money(3130), at: paidAt }],
  refunds: []
}

export const order: Order = {
  orderId,
  userId,
  status: "shipped",
  items: [cartLine],
  address: shippingAddress,
  shippingMethod: standardShipping,
  summary,
  payment: {
    paymentId,
    provider: "paypal",
    captureId,
    captured: money(3130),
    refunded: money(0),
    refunds: []
  },
  shipments: [
    {
      shipmentId: "shp_1x4c7v2b5n8m",
      carrier: "UPS",
      trackingNumber: "1Z999AA10123456784",
      createdAt: shippedAt
    }
  ],
  history: [
    { status: "paid", at: paidAt },
    { status: "shipped", at: shippedAt }
  ],
  reservationId: holdId,
  couponCode: "SAVE10",
  createdAt: paidAt,
  updatedAt: shippedAt
}

export const createCoupon: CreateCouponInput = {
  code: "SAVE10",
  type: "percent",
  value: 10,
  minCart: money(2000),
  expiresAt: "2026-12-31T23:59:59Z",
  usageLimit: 1000,
  perCustomerLimit: 1
}

export const coupon: Coupon = {
  code: "SAVE10",
  type: "percent",
  value: 10,
  minCart: money(2000),
  expiresAt: "2026-12-31T23:59:59.000Z",
  usageLimit: 1000,
  perCustomerLimit: 1,
  createdAt: "2026-11-20T08:00:00.000Z",
  used: 42
}

// A PayPal webhook event as PayPal posts it (trimmed to what the shop reads).
export const paypalWebhookEvent = {
  id: "WH-2WR32451HC0233532-67976317FL4543714",
  event_type: "CHECKOUT.ORDER.APPROVED",
  resource_type: "checkout-order",
  create_time: "2026-12-01T10:46:58Z",
  resource: { id: paypalOrderId, status: "APPROVED" }
}
