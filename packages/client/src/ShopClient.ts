import { AdminAuthentication, Authentication, OptionalAuthentication, ShopApi } from "@shop/domain/Api"
import { Cause, Context, Effect, Exit, Layer } from "effect"
import { FetchHttpClient, HttpClientRequest } from "effect/http"
import {
  type HttpApi,
  HttpApiClient,
  type HttpApiEndpoint,
  type HttpApiGroup,
  HttpApiMiddleware
} from "effect/http-api"
import type { Simplify } from "effect/Types"

/**
 * The typed client of the public contract, derived from `ShopApi`: one method
 * per endpoint, grouped as the API is (`client.auth.signup`,
 * `client.catalog.list`; the top-level system endpoints sit on the client
 * itself: `client.health`). Declared errors fail with their domain classes
 * (`EmailExists`, `ProductNotFound`, ...).
 */
export type ShopClient = HttpApiClient.ForApi<typeof ShopApi>

export interface ShopClientOptions {
  /**
   * Where the shop is, e.g. `https://shop.example.com`. It may be left out
   * only in a browser page on the shop's own origin. With an in-process
   * `fetch` (a web handler) any absolute URL does: the handler reads the path.
   */
  readonly baseUrl?: string | URL | undefined
  /**
   * How requests are sent; the global `fetch` by default. Anything that takes
   * a `Request` and answers a `Response` works: the global `fetch` of a
   * browser, Node or a Worker, a service binding's `fetch`, or a web handler
   * such as the memory runtime's, for tests without a socket.
   */
  readonly fetch?: ((request: Request) => Promise<Response>) | undefined
  /**
   * The bearer token (`accessToken` from `auth.login`). A function is read on
   * every call, so a storefront can log in and out with one client. It is
   * only sent to the endpoints the contract declares as authenticated, so
   * anonymous catalog reads stay anonymous (and publicly cacheable).
   */
  readonly token?: string | (() => string | undefined) | undefined
}

const httpClient = (custom: ShopClientOptions["fetch"]) => {
  if (custom === undefined) return FetchHttpClient.layer
  // FetchHttpClient calls `fetch(url, init)`; the configured function takes a
  // Request, which the global fetch and a web handler both accept.
  const fetch: typeof globalThis.fetch = (input, init) => custom(new Request(input, init))
  return FetchHttpClient.layer.pipe(Layer.provide(Layer.succeed(FetchHttpClient.Fetch, fetch)))
}

// The token is attached by the client side of the two authentication
// middlewares, so it goes exactly where the contract's security says.
const bearer = (token: ShopClientOptions["token"]) => {
  const attach: HttpApiMiddleware.HttpApiMiddlewareClient<never, never, never> = ({ request, next }) => {
    const value = typeof token === "function" ? token() : token
    return next(value === undefined ? request : HttpClientRequest.bearerToken(request, value))
  }
  return Layer.mergeAll(
    HttpApiMiddleware.layerClient(Authentication, attach),
    HttpApiMiddleware.layerClient(AdminAuthentication, attach),
    // The cart's routes take a guest or a user: with a token, the cart is the user's.
    HttpApiMiddleware.layerClient(OptionalAuthentication, attach)
  )
}

/** Builds the Effect client. */
export const make = (options: ShopClientOptions = {}): Effect.Effect<ShopClient> =>
  HttpApiClient.make(ShopApi, { baseUrl: options.baseUrl }).pipe(
    Effect.provide(Layer.mergeAll(httpClient(options.fetch), bearer(options.token)))
  )

/** The client as a service, for Effect programs that take it from context. */
export class Shop extends Context.Service<Shop, ShopClient>()("@shop/client/ShopClient/Shop") {
  static readonly layer = (options: ShopClientOptions = {}) => Layer.effect(Shop, make(options))
}

// The Promise client's types are computed from the endpoints the same way
// `HttpApiClient.Client` computes the Effect one, with the decoded-only mode.
type Groups<Api> = Api extends HttpApi.HttpApi<infer _Id, infer G> ? G : never

type PromiseMethod<Endpoint extends HttpApiEndpoint.ConstraintRequest> = (
  request: Simplify<
    HttpApiEndpoint.ClientRequest<
      Endpoint["~Params"],
      Endpoint["~Query"],
      Endpoint["~Payload"],
      Endpoint["~Headers"],
      "decoded-only"
    >
  >
) => Promise<HttpApiClient.SuccessType<Endpoint["~Success"]>>

type PromiseGroup<Group extends HttpApiGroup.Constraint> = Group["endpoints"] extends infer Endpoints extends Readonly<
  Record<string, HttpApiEndpoint.ConstraintRequest>
>
  ? { readonly [Name in keyof Endpoints]: PromiseMethod<Endpoints[Name]> }
  : never

type PromiseClientOf<G extends HttpApiGroup.Constraint> = Simplify<
  {
    readonly [Group in Extract<G, { readonly topLevel: false }> as HttpApiGroup.Identifier<Group>]: PromiseGroup<Group>
  } & {
    readonly [Endpoint in Extract<
      HttpApiGroup.Endpoints<Extract<G, { readonly topLevel: true }>>,
      HttpApiEndpoint.ConstraintRequest
    > as Endpoint["identifier"]]: PromiseMethod<Endpoint>
  }
>

/**
 * The same client for code that does not use Effect: every method returns a
 * Promise of the decoded success, and rejects with the typed error itself
 * (`err instanceof EmailExists`), or with the transport or decoding error.
 */
export type ShopPromiseClient = PromiseClientOf<Groups<typeof ShopApi>>

type EffectMethod = (request: unknown) => Effect.Effect<unknown, unknown>

const toPromise =
  (method: EffectMethod) =>
  (request: unknown): Promise<unknown> =>
    Effect.runPromiseExit(method(request)).then((exit) => {
      if (Exit.isSuccess(exit)) return exit.value
      // The first typed failure if there is one, else the defect.
      throw Cause.squash(exit.cause)
    })

const isMethod = (value: unknown): value is EffectMethod => typeof value === "function"

/** Builds the Promise client: the Effect client's methods, each run to a Promise. */
export const makePromise = (options: ShopClientOptions = {}): ShopPromiseClient => {
  const client: Record<string, unknown> = Effect.runSync(make(options))
  const wrapped: Record<string, unknown> = {}
  for (const [name, member] of Object.entries(client)) {
    if (isMethod(member)) {
      wrapped[name] = toPromise(member)
    } else if (typeof member === "object" && member !== null) {
      const group: Record<string, unknown> = {}
      for (const [endpoint, method] of Object.entries(member)) {
        if (isMethod(method)) group[endpoint] = toPromise(method)
      }
      wrapped[name] = group
    }
  }
  // The one cast: the shape is built at run time from the same API that
  // `ShopPromiseClient` is computed from.
  return wrapped as ShopPromiseClient
}
