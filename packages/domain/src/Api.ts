import { Context, type Option, Schema } from "effect"
import {
  HttpApi,
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema,
  HttpApiSecurity,
  OpenApi
} from "effect/http-api"
import {
  AddressInput,
  AddressPatch,
  AdminUserResult,
  Address,
  LoginInput,
  LoginResult,
  Me,
  Ok,
  Principal,
  PromoteInput,
  SignupInput,
  SignupResult
} from "./Auth.ts"
import {
  AddItemInput,
  ApplyCouponInput,
  Cart,
  ChooseShippingInput,
  RemoveItemInput,
  SetCartAddressInput,
  UpdateItemInput
} from "./Cart.ts"
import {
  CaptureCheckoutBody,
  CheckoutCaptured,
  CheckoutStarted,
  PaymentView,
  StartCheckoutBody,
  WebhookAck
} from "./Checkout.ts"
import { Coupon, Coupons, CreateCouponInput } from "./Coupons.ts"
import { CreateProductInput, QueryInt, Product, ProductPage, ProductQuery, UpdateProductInput } from "./Catalog.ts"
import {
  AddressNotFound,
  AddressRequired,
  AlreadyAdmin,
  CartEmpty,
  CartNotFound,
  HoldExpired,
  InvalidPaymentAmount,
  InvalidStatus,
  InvalidTransition,
  OrderNotFound,
  PaymentDeclined,
  PaymentFailed,
  PaymentNotApproved,
  PaymentNotFound,
  PaymentProviderUnavailable,
  PaymentRejected,
  RefundExceedsCaptured,
  ShippingRequired,
  WebhookVerificationFailed,
  CouponExhausted,
  CouponExists,
  CouponExpired,
  CouponNotFound,
  InsufficientStock,
  InvalidCoupon,
  InvalidShippingMethod,
  ItemNotFound,
  MinCartNotMet,
  EmailExists,
  Forbidden,
  InvalidCredentials,
  PayloadTooLarge,
  ProductNotFound,
  RateLimited,
  SkuExists,
  StockBelowReserved,
  Unauthorized,
  UnsupportedMediaType,
  UpstreamError,
  UpdateConflict,
  UpstreamTimeout,
  UserNotFound,
  ValidationError,
  VariantNotFound,
  IdempotencyKeyInUse,
  IdempotencyKeyReused
} from "./Errors.ts"
import * as ApiDocument from "./ApiDocument.ts"
import * as Examples from "./Examples.ts"
import { AdminProductImagesApi, ImagesApi } from "./ImagesApi.ts"
import { SetStockInput, StockLevel } from "./Inventory.ts"
import {
  defaultPageSize,
  maxPageSize,
  Order,
  OrderPage,
  RefundOrderBody,
  SetOrderStatusBody,
  ShipOrderBody
} from "./Orders.ts"
import { SetTaxRateInput, ShippingOptions, TaxRate, TaxRates, TaxRegion } from "./Fulfillment.ts"

// Path ids are plain bounded strings at the HTTP edge: an id of the wrong shape
// is simply an id that does not exist, so it answers 404, not 400. The bound is
// the router's own (find-my-way's maxParamLength, 100 UTF-16 code units of the
// decoded segment): a longer segment never reaches an endpoint, so the document
// must not allow it. Every id the shop mints is far shorter (at most 69).
export const maxPathIdLength = 100
const PathId = Schema.String.pipe(
  Schema.check(
    Schema.isBetweenLength(1, maxPathIdLength, {
      // Exact for the ASCII ids the shop mints; JSON Schema counts code points.
      toJsonSchema: () => ({ minLength: 1, maxLength: maxPathIdLength })
    })
  )
).annotate({
  description: `An id as it appears in the path, at most ${maxPathIdLength} characters (UTF-16 code units: the router's limit; longer paths answer 404 not_found). An id of the wrong shape answers this endpoint's 404.`
})

export class CurrentUser extends Context.Service<CurrentUser, Principal>()("@shop/domain/Api/CurrentUser") {}

// Applied to every endpoint: turns request decoding failures into our 400 body
// and declares the failures the gateway itself answers (oversized or non-JSON
// bodies, upstream failures), so that the OpenAPI document lists them.
// Declares what the gateway's Idempotency-Key handling (IdempotencyKeys.ts)
// may answer on every POST; it does nothing itself.
export class Idempotent extends HttpApiMiddleware.Service<Idempotent>()("@shop/domain/Api/Idempotent", {
  error: [IdempotencyKeyReused, IdempotencyKeyInUse]
}) {}

const bearer = HttpApiSecurity.bearer.pipe(
  HttpApiSecurity.annotate(OpenApi.Format, "JWT"),
  HttpApiSecurity.annotate(
    OpenApi.Description,
    "`Authorization: Bearer <accessToken>` from POST /api/auth/login: a JWT (HS256) that stops working when its session logs out or expires"
  )
)

export class ApiErrors extends HttpApiMiddleware.Service<ApiErrors>()("@shop/domain/Api/ApiErrors", {
  error: [ValidationError, PayloadTooLarge, UnsupportedMediaType, UpstreamError, UpstreamTimeout]
}) {}

export class Authentication extends HttpApiMiddleware.Service<
  Authentication,
  {
    provides: CurrentUser
  }
>()("@shop/domain/Api/Authentication", {
  security: { bearer },
  error: [Unauthorized, UpstreamError, UpstreamTimeout]
}) {}

export class AdminAuthentication extends HttpApiMiddleware.Service<
  AdminAuthentication,
  {
    provides: CurrentUser
  }
>()("@shop/domain/Api/AdminAuthentication", {
  security: { bearer },
  error: [Unauthorized, Forbidden, UpstreamError, UpstreamTimeout]
}) {}

// The caller of a route open to guests and users alike (the cart): the
// signed-in user when a bearer token is sent (a bad token is still 401, never
// silently a guest), None without one.
export class CurrentShopper extends Context.Service<CurrentShopper, Option.Option<Principal>>()(
  "@shop/domain/Api/CurrentShopper"
) {}

export class OptionalAuthentication extends HttpApiMiddleware.Service<
  OptionalAuthentication,
  {
    provides: CurrentShopper
  }
>()("@shop/domain/Api/OptionalAuthentication", {
  error: [Unauthorized, UpstreamError, UpstreamTimeout]
}) {}

export const Health = Schema.Struct({ status: Schema.Literal("ok") }).annotate({ examples: [{ status: "ok" }] })

const AddressList = Schema.Struct({ addresses: Schema.Array(Address) }).annotate({
  examples: [{ addresses: [Examples.address] }]
})
const OneAddress = Schema.Struct({ address: Address }).annotate({ examples: [{ address: Examples.address }] })

export class SystemApi extends HttpApiGroup.make("system", { topLevel: true })
  .add(
    HttpApiEndpoint.get("health", "/health", { success: Health }).annotateMerge(
      OpenApi.annotations({
        summary: "Health check",
        description: "Anyone. Answers 200 while the gateway is up. Changes nothing."
      })
    )
  )
  .annotateMerge(OpenApi.annotations({ title: "System", description: "Liveness of the gateway" })) {}

export class AuthApi extends HttpApiGroup.make("auth")
  .add(
    HttpApiEndpoint.post("signup", "/signup", {
      payload: SignupInput,
      success: SignupResult.pipe(HttpApiSchema.status(201)),
      error: EmailExists
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Sign up",
          description:
            "Anyone. Creates a user account (role user); the email is unique, case-insensitively. Does not sign in: call login next."
        })
      ),
    HttpApiEndpoint.post("login", "/login", {
      payload: LoginInput,
      success: LoginResult,
      error: [InvalidCredentials, RateLimited]
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Log in",
          description:
            "Anyone. Checks email and password and opens a session; answers a bearer JWT valid for expiresIn seconds. Repeated failures for one email or one client are throttled (429 with Retry-After)."
        })
      ),
    HttpApiEndpoint.post("logout", "/logout", { success: Ok })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Log out",
          description: "Signed in. Ends the caller's session: its token stops working everywhere at once."
        })
      )
      .middleware(Authentication),
    HttpApiEndpoint.get("me", "/me", { success: Me })
      .annotateMerge(
        OpenApi.annotations({
          summary: "Who am I",
          description: "Signed in. The caller's account and saved addresses. Changes nothing."
        })
      )
      .middleware(Authentication),
    HttpApiEndpoint.post("adminSignup", "/admin/signup", {
      headers: { "x-admin-secret": Schema.optional(Schema.String) },
      payload: SignupInput,
      success: AdminUserResult.pipe(HttpApiSchema.status(201)),
      error: [Unauthorized, EmailExists, RateLimited]
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Bootstrap an admin",
          description:
            "Whoever holds the configured ADMIN_SECRET (header x-admin-secret; disabled when none is configured). Creates an account with role admin."
        })
      ),
    HttpApiEndpoint.post("promote", "/admin/promote", {
      payload: PromoteInput,
      success: AdminUserResult,
      error: [UserNotFound, AlreadyAdmin]
    })
      .annotateMerge(
        OpenApi.annotations({
          summary: "Promote a user to admin",
          description: "Admin. Gives an existing user (by email or userId) the admin role."
        })
      )
      .middleware(Idempotent)
      .middleware(AdminAuthentication)
  )
  .prefix("/api/auth")
  .annotateMerge(OpenApi.annotations({ title: "Auth", description: "Accounts, sessions and admin bootstrap" })) {}

export class AddressesApi extends HttpApiGroup.make("addresses")
  .add(
    HttpApiEndpoint.get("list", "/", { success: AddressList }).annotateMerge(
      OpenApi.annotations({
        summary: "List my addresses",
        description: "Signed in. The caller's saved addresses. Changes nothing."
      })
    ),
    HttpApiEndpoint.post("create", "/", {
      payload: AddressInput,
      success: OneAddress.pipe(HttpApiSchema.status(201))
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Save an address",
          description: "Signed in. Adds a validated address to the caller's address book."
        })
      ),
    HttpApiEndpoint.put("update", "/:addressId", {
      params: { addressId: PathId },
      payload: AddressPatch,
      success: OneAddress,
      error: AddressNotFound
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Change an address",
        description: "Signed in, the address's owner (anyone else: 404). Changes the fields given."
      })
    ),
    HttpApiEndpoint.delete("remove", "/:addressId", {
      params: { addressId: PathId },
      success: Ok,
      error: AddressNotFound
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Delete an address",
        description: "Signed in, the address's owner (anyone else: 404). Removes it from the address book."
      })
    )
  )
  .middleware(Authentication)
  .prefix("/api/addresses")
  .annotateMerge(OpenApi.annotations({ title: "Addresses", description: "The signed-in user's address book" })) {}

// HTTP caching of the catalog reads (docs/API.md, "Caching"). The gateway's
// global middleware (packages/gateway/src/HttpCache.ts) adds the headers and
// answers 304, outside the endpoint, so the endpoint's schemas stay those of
// its 200 (and the typed client's result a Product); this writes the same
// facts into the OpenAPI document: the If-None-Match parameter, ETag and
// Cache-Control on the 200, and the 304.
// biome-ignore lint/suspicious/noExplicitAny: the generated operation is untyped JSON, as OpenApi.Transform types it
type OperationJson = Record<string, any>
const etagHeader = {
  description:
    "Strong entity tag of this exact body (a 64-bit hash of it and its length); it changes whenever the product, its prices or its availability change. Send it back in If-None-Match.",
  required: true,
  schema: { type: "string", pattern: '^"[0-9a-f]{16}-[0-9a-z]+"$' }
}
const catalogCacheControlHeader = {
  description:
    "`public, max-age=5, stale-while-revalidate=30` for an anonymous read (the numbers are the settings CATALOG_CACHE_MAX_AGE_SECONDS and CATALOG_CACHE_SWR_SECONDS); `private, no-store` when the request carries Authorization. Errors of this route are `no-store`.",
  required: true,
  schema: { type: "string" }
}
const xCacheHeader = {
  description:
    "Workers only, anonymous reads: HIT when the gateway's edge cache answered, MISS when the services did (and the answer was stored); BYPASS for a request with Authorization (never served from, nor stored in, the edge cache).",
  required: false,
  schema: { type: "string", enum: ["HIT", "MISS", "BYPASS"] }
}
const catalogCaching = (operation: OperationJson): OperationJson => ({
  ...operation,
  parameters: [
    ...(operation.parameters ?? []),
    {
      name: "If-None-Match",
      in: "header",
      required: false,
      description:
        "ETags of copies the client holds (a list, or `*`; weak comparison): when one matches the current body, the answer is 304 with no body.",
      schema: { type: "string" }
    }
  ],
  responses: {
    ...operation.responses,
    "200": {
      ...operation.responses["200"],
      headers: {
        ...operation.responses["200"]?.headers,
        ETag: etagHeader,
        "Cache-Control": catalogCacheControlHeader,
        "X-Cache": xCacheHeader
      }
    },
    "304": {
      description: "Not Modified: the client's copy (If-None-Match) is current. No body.",
      headers: { ETag: etagHeader, "Cache-Control": catalogCacheControlHeader, "X-Cache": xCacheHeader }
    }
  }
})

export class CatalogApi extends HttpApiGroup.make("catalog")
  .add(
    HttpApiEndpoint.get("list", "/", { query: ProductQuery, success: ProductPage }).annotateMerge(
      OpenApi.annotations({
        summary: "List products",
        description:
          "Anyone. Search (q: case-insensitive substring of title, description or SKU), filter (category, price range in minor units), sort and page the catalog (by offset, or by the previous page's nextCursor given as cursor, whose cost does not grow with depth); total is exact; availability is live. A cursor with an offset, made for another q/filter/sort, or not made by the shop is a 400 validation_error. Changes nothing. Strong ETag, 304 to a matching If-None-Match; publicly cacheable for a few seconds when anonymous.",
        transform: catalogCaching
      })
    ),
    HttpApiEndpoint.get("get", "/:productId", {
      params: { productId: PathId },
      success: Product,
      error: ProductNotFound
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Get a product",
        description:
          "Anyone. One product with its variants, prices and availability. Changes nothing. Strong ETag, 304 to a matching If-None-Match; publicly cacheable for a few seconds when anonymous.",
        transform: catalogCaching
      })
    )
  )
  .prefix("/api/products")
  .annotateMerge(OpenApi.annotations({ title: "Catalog", description: "Products, variants and availability" })) {}

export class AdminProductsApi extends HttpApiGroup.make("adminProducts")
  .add(
    HttpApiEndpoint.post("create", "/", {
      payload: CreateProductInput,
      success: Product.pipe(HttpApiSchema.status(201)),
      error: SkuExists
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Create a product",
          description:
            "Admin. Adds a product with its variants (or one variant given at the top level) and their initial stock."
        })
      ),
    HttpApiEndpoint.put("update", "/:productId", {
      params: { productId: PathId },
      payload: UpdateProductInput,
      success: Product,
      error: [ProductNotFound, SkuExists, UpdateConflict, ValidationError]
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Change a product",
        description: "Admin. Changes the product fields given and the variants named by variantId; SKUs stay unique."
      })
    ),
    HttpApiEndpoint.delete("remove", "/:productId", {
      params: { productId: PathId },
      success: HttpApiSchema.NoContent,
      error: ProductNotFound
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Delete a product",
        description:
          "Admin. Removes the product and its variants from the catalog; carts drop their lines for it on their next change."
      })
    )
  )
  .middleware(AdminAuthentication)
  .prefix("/api/admin/products")
  .annotateMerge(
    OpenApi.annotations({ title: "Admin: products", description: "Catalog administration (admin only)" })
  ) {}

export class AdminInventoryApi extends HttpApiGroup.make("adminInventory")
  .add(
    HttpApiEndpoint.get("get", "/:variantId", {
      params: { variantId: PathId },
      success: StockLevel,
      error: VariantNotFound
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Get a variant's stock",
        description: "Admin. Stock, quantity held by checkouts, and what is available. Changes nothing."
      })
    ),
    HttpApiEndpoint.put("set", "/:variantId", {
      params: { variantId: PathId },
      payload: SetStockInput,
      success: StockLevel,
      error: [VariantNotFound, StockBelowReserved, ValidationError]
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Set or adjust stock",
        description:
          "Admin. Sets the stock ({stock}) or moves it by a delta ({adjust}); never below what checkouts hold."
      })
    )
  )
  .middleware(AdminAuthentication)
  .prefix("/api/admin/inventory")
  .annotateMerge(
    OpenApi.annotations({ title: "Admin: inventory", description: "Stock levels per variant (admin only)" })
  ) {}

export class AdminTaxRatesApi extends HttpApiGroup.make("adminTaxRates")
  .add(
    HttpApiEndpoint.get("list", "/", { success: TaxRates }).annotateMerge(
      OpenApi.annotations({ summary: "List tax rates", description: "Admin. Every configured rate. Changes nothing." })
    ),
    // `:country` is a country (`US`) or a region (`US-CA`), in upper case.
    HttpApiEndpoint.put("set", "/:country", {
      params: { country: TaxRegion },
      payload: SetTaxRateInput,
      success: TaxRate,
      error: ValidationError
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Set a tax rate",
        description:
          "Admin. Sets the rate (basis points) for a country (US) or a region (US-CA), and whether shipping is taxed. Carts re-price on their next change."
      })
    )
  )
  .middleware(AdminAuthentication)
  .prefix("/api/admin/tax-rates")
  .annotateMerge(
    OpenApi.annotations({
      title: "Admin: tax rates",
      description: "Tax rates by destination, in basis points (825 = 8.25%); a region (US-CA) beats its country (US)"
    })
  ) {}

export class AdminCouponsApi extends HttpApiGroup.make("adminCoupons")
  .add(
    HttpApiEndpoint.post("create", "/", {
      payload: CreateCouponInput,
      success: Coupon.pipe(HttpApiSchema.status(201)),
      error: [CouponExists, ValidationError]
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Create a coupon",
          description: "Admin. Defines a coupon code (stored in upper case) with its type, value and limits."
        })
      ),
    HttpApiEndpoint.get("list", "/", { success: Coupons }).annotateMerge(
      OpenApi.annotations({
        summary: "List coupons",
        description: "Admin. Every coupon with its redemption count. Changes nothing."
      })
    ),
    // `:code` in any case.
    HttpApiEndpoint.delete("remove", "/:code", {
      params: { code: PathId },
      success: HttpApiSchema.NoContent,
      error: CouponNotFound
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Delete a coupon",
        description: "Admin. Removes the coupon (code in any case); carts holding it show it as no longer applicable."
      })
    )
  )
  .middleware(AdminAuthentication)
  .prefix("/api/admin/coupons")
  .annotateMerge(
    OpenApi.annotations({
      title: "Admin: coupons",
      description: "Coupon codes, case-insensitive (stored and shown in upper case); `used` counts redemptions"
    })
  ) {}

const CartPath = { cartId: PathId }

export class CartApi extends HttpApiGroup.make("cart")
  .add(
    HttpApiEndpoint.post("init", "/init", { success: Cart.pipe(HttpApiSchema.status(201)) })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Create a cart",
          description:
            "Anyone. Creates an empty cart: a guest cart, or the signed-in caller's. Its id is unguessable; keep it."
        })
      ),
    HttpApiEndpoint.get("get", "/:cartId", { params: CartPath, success: Cart, error: CartNotFound }).annotateMerge(
      OpenApi.annotations({
        summary: "Get a cart",
        description:
          "Whoever may see the cart (its owner, or anyone holding a guest cart's id). Changes nothing; the cart as last computed."
      })
    ),
    HttpApiEndpoint.post("add", "/:cartId/add", {
      params: CartPath,
      payload: AddItemInput,
      success: Cart,
      error: [CartNotFound, ProductNotFound, InsufficientStock, ValidationError]
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Add a product",
          description:
            "Adds quantity of a variant (variantId may be left out for a one-variant product); the same variant again adds to its line. Price, title and weight come from the catalog; stock is checked. Recomputes the summary."
        })
      ),
    HttpApiEndpoint.post("update", "/:cartId/update", {
      params: CartPath,
      payload: UpdateItemInput,
      success: Cart,
      error: [CartNotFound, ItemNotFound, InsufficientStock, ValidationError]
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Set a line's quantity",
          description:
            "Sets the quantity of the cart's line for a variant; 0 removes it. Stock is checked. Recomputes the summary."
        })
      ),
    HttpApiEndpoint.post("remove", "/:cartId/remove", {
      params: CartPath,
      payload: RemoveItemInput,
      success: Cart,
      error: [CartNotFound, ItemNotFound]
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Remove a line",
          description: "Removes the cart's line for a variant. Recomputes the summary."
        })
      ),
    HttpApiEndpoint.post("clear", "/:cartId/clear", {
      params: CartPath,
      success: Cart,
      error: CartNotFound
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Remove every line",
          description: "Empties the cart's lines; address, shipping choice and coupon stay."
        })
      ),
    HttpApiEndpoint.post("address", "/:cartId/address", {
      params: CartPath,
      payload: SetCartAddressInput,
      success: Cart,
      error: [CartNotFound, AddressNotFound, ValidationError]
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Set the shipping address",
          description:
            "One of the caller's saved addresses (addressId) or an address given inline, validated (required fields, country, postal code format). Re-quotes shipping and tax."
        })
      ),
    HttpApiEndpoint.get("shippingOptions", "/:cartId/shipping-options", {
      params: CartPath,
      success: ShippingOptions,
      error: [CartNotFound, AddressRequired]
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Quote shipping",
        description:
          "The standard, express and priority options for the cart's destination, weight and subtotal, with a shipping coupon applied. Needs an address. Changes nothing."
      })
    ),
    HttpApiEndpoint.post("shipping", "/:cartId/shipping", {
      params: CartPath,
      payload: ChooseShippingInput,
      success: Cart,
      error: [CartNotFound, AddressRequired, InvalidShippingMethod]
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Choose a shipping method",
          description: "Chooses one of the quoted methods. Needs an address."
        })
      ),
    HttpApiEndpoint.post("applyCoupon", "/:cartId/coupon/apply", {
      params: CartPath,
      payload: ApplyCouponInput,
      success: Cart,
      error: [CartNotFound, InvalidCoupon, MinCartNotMet, CouponExpired, CouponExhausted, RateLimited]
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Apply a coupon",
          description:
            "Applies a coupon code (any case), replacing the cart's coupon. Repeated bad codes from one cart or one client are throttled (429 with Retry-After)."
        })
      ),
    HttpApiEndpoint.post("removeCoupon", "/:cartId/coupon/remove", {
      params: CartPath,
      success: Cart,
      error: CartNotFound
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Remove the coupon",
          description: "Removes the cart's coupon."
        })
      )
  )
  .middleware(OptionalAuthentication)
  .prefix("/api/cart")
  .annotateMerge(
    OpenApi.annotations({
      title: "Cart",
      description:
        "Carts for guests and signed-in users. Prices come from the catalog; the summary is recomputed on every change. A cart created while signed in answers only its owner (anyone else: 404); a guest cart answers whoever holds its id. Idle carts expire (CART_TTL_SECONDS, default 7 days)."
    })
  ) {}

export class CheckoutApi extends HttpApiGroup.make("checkout")
  .add(
    HttpApiEndpoint.post("start", "/start", {
      payload: StartCheckoutBody,
      success: CheckoutStarted.pipe(HttpApiSchema.status(201)),
      error: [
        CartNotFound,
        CartEmpty,
        AddressRequired,
        ShippingRequired,
        InsufficientStock,
        InvalidPaymentAmount,
        PaymentRejected,
        PaymentProviderUnavailable
      ]
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Start checkout",
          description:
            "Signed in. Re-prices the cart, holds its stock (HOLD_TTL_SECONDS, default 15 minutes) and creates the PayPal order for its total; send the buyer to approveUrl. On an unchanged cart the same answer (same hold, same payment); a change to the cart afterwards releases the hold. A guest cart becomes the caller's."
        })
      ),
    HttpApiEndpoint.post("capture", "/capture", {
      payload: CaptureCheckoutBody,
      success: CheckoutCaptured,
      error: [
        PaymentNotFound,
        PaymentNotApproved,
        PaymentDeclined,
        PaymentFailed,
        HoldExpired,
        CouponExhausted,
        PaymentRejected,
        PaymentProviderUnavailable,
        UpdateConflict
      ]
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Capture an approved payment",
          description:
            "The payer, after approving at PayPal. Takes the money once however often it is called, turns the hold into a sale, redeems the coupon, creates the order and empties the cart; every repeat answers the same. After the hold expired nothing is charged (409 hold_expired). If anything fails after the money moved, it is refunded."
        })
      )
  )
  .middleware(Authentication)
  .prefix("/api/checkout")
  .annotateMerge(
    OpenApi.annotations({
      title: "Checkout",
      description: "Stock holds, PayPal payment and the order, each step idempotent (docs/CHECKOUT.md)"
    })
  ) {}

export class PaymentsWebhookApi extends HttpApiGroup.make("paymentsWebhook")
  .add(
    // The body is kept as received: PayPal's signature covers its bytes.
    HttpApiEndpoint.post("paypalWebhook", "/paypal/webhook", {
      payload: Schema.String.pipe(HttpApiSchema.asText({ contentType: "application/json" })),
      success: WebhookAck,
      error: [WebhookVerificationFailed, PaymentProviderUnavailable, UpdateConflict]
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "PayPal webhook",
          description:
            "PayPal only: the event is verified with PayPal (PAYPAL_WEBHOOK_ID; a shared secret with the fake), handled once per event id, and completes a checkout whose buyer never came back."
        })
      )
  )
  .prefix("/api/payments")
  .annotateMerge(
    OpenApi.annotations({
      title: "Payments: webhook",
      description: "Events PayPal sends; verified before anything is done"
    })
  ) {}

export class PaymentsApi extends HttpApiGroup.make("payments")
  .add(
    HttpApiEndpoint.get("get", "/:paymentId", {
      params: { paymentId: PathId },
      success: PaymentView,
      error: PaymentNotFound
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Get a payment",
        description: "Its payer or an admin (anyone else: 404). Status, amount, captures and refunds."
      })
    )
  )
  .middleware(Authentication)
  .prefix("/api/payments")
  .annotateMerge(
    OpenApi.annotations({ title: "Payments", description: "Payments as their payer (or an admin) sees them" })
  ) {}

const OrdersQuery = Schema.Struct({
  limit: Schema.optional(
    QueryInt({ minimum: 1, maximum: maxPageSize, default: defaultPageSize, description: "Page size" })
  ),
  offset: Schema.optional(
    QueryInt({ minimum: 0, maximum: 1_000_000, default: 0, description: "How many orders to skip" })
  )
})

export class OrdersApi extends HttpApiGroup.make("orders")
  .add(
    HttpApiEndpoint.get("list", "/", { query: OrdersQuery, success: OrderPage }).annotateMerge(
      OpenApi.annotations({
        summary: "My orders",
        description: "The caller's orders, newest first (limit 1..100, default 20)."
      })
    ),
    HttpApiEndpoint.get("get", "/:orderId", {
      params: { orderId: PathId },
      success: Order,
      error: OrderNotFound
    }).annotateMerge(
      OpenApi.annotations({ summary: "Get an order", description: "Its owner or an admin (anyone else: 404)." })
    )
  )
  .middleware(Authentication)
  .prefix("/api/orders")
  .annotateMerge(OpenApi.annotations({ title: "Orders", description: "The signed-in user's orders" })) {}

const OrderPath = { orderId: PathId }

export class AdminOrdersApi extends HttpApiGroup.make("adminOrders")
  .add(
    HttpApiEndpoint.get("list", "/", {
      query: Schema.Struct({ ...OrdersQuery.fields, status: Schema.optional(Schema.String) }),
      success: OrderPage,
      error: InvalidStatus
    }).annotateMerge(
      OpenApi.annotations({ summary: "All orders", description: "Newest first, optionally only one status." })
    ),
    HttpApiEndpoint.put("setStatus", "/:orderId/status", {
      params: OrderPath,
      payload: SetOrderStatusBody,
      success: Order,
      error: [
        OrderNotFound,
        InvalidStatus,
        InvalidTransition,
        UpdateConflict,
        PaymentRejected,
        PaymentProviderUnavailable
      ]
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Change an order's status",
        description:
          "paid -> processing -> shipped -> delivered; paid/processing -> cancelled (refunds what was captured and restocks); delivered -> refunded goes through the refund route."
      })
    ),
    HttpApiEndpoint.post("ship", "/:orderId/ship", {
      params: OrderPath,
      payload: ShipOrderBody,
      success: Order,
      error: [OrderNotFound, InvalidTransition, UpdateConflict]
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Ship an order",
          description:
            "Records a shipment (carrier and tracking number; label data from fulfillment) and moves the order to shipped."
        })
      ),
    HttpApiEndpoint.post("refund", "/:orderId/refund", {
      params: OrderPath,
      payload: RefundOrderBody,
      success: Order,
      error: [
        OrderNotFound,
        RefundExceedsCaptured,
        InvalidTransition,
        PaymentRejected,
        PaymentProviderUnavailable,
        UpdateConflict
      ]
    })
      .middleware(Idempotent)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Refund an order",
          description:
            "Gives back amount (default: all that is left) through PayPal, never more than was captured (409 refund_exceeds_captured). A delivered order refunded in full becomes refunded."
        })
      )
  )
  .middleware(AdminAuthentication)
  .prefix("/api/admin/orders")
  .annotateMerge(
    OpenApi.annotations({
      title: "Admin: orders",
      description: "Every order: status changes, shipping and refunds (admin only)"
    })
  ) {}

export class ShopApi extends HttpApi.make("shop")
  .add(
    SystemApi,
    AuthApi,
    AddressesApi,
    CatalogApi,
    CartApi,
    CheckoutApi,
    PaymentsWebhookApi,
    PaymentsApi,
    OrdersApi,
    AdminProductsApi,
    AdminProductImagesApi.middleware(AdminAuthentication),
    ImagesApi,
    AdminInventoryApi,
    AdminTaxRatesApi,
    AdminCouponsApi,
    AdminOrdersApi
  )
  .middleware(ApiErrors)
  // API.md: unknown fields are an error, not a silent default. Headers keep the
  // schema defaults, since every request carries transport headers.
  .annotate(HttpApi.PayloadParseOptions, { onExcessProperty: "error" })
  .annotate(HttpApi.QueryParseOptions, { onExcessProperty: "error" })
  .annotate(HttpApi.HeadersParseOptions, {})
  .annotateMerge(
    OpenApi.annotations({
      title: "Shop API",
      version: "0.1.0",
      servers: [{ url: "http://127.0.0.1:8787", description: "`npm start` on this machine (PORT, default 8787)" }],
      transform: ApiDocument.finish,
      description:
        "The public REST contract of the shop backend. Errors always have the body { error, message, details? }; money is { amount: integer minor units, currency }. Every POST accepts an Idempotency-Key header: a repeat with the same key and body replays the first response (Idempotent-Replayed: true), the same key with another body is 422 idempotency_key_reused; keys expire after 24 hours. Payments go through PayPal (PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET, PAYPAL_WEBHOOK_ID, PAYPAL_API_BASE: the sandbox by default); without credentials the shop runs in sandbox mode against a PayPal-compatible fake whose approve links approve at once."
    })
  ) {}
