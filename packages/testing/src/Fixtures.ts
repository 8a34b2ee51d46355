import { makePromise, type ShopPromiseClient } from "@shop/client/ShopClient"
import type { Address, AddressInput } from "@shop/domain/Auth"
import type { CreateProductInput, Product } from "@shop/domain/Catalog"
import type { UserId, VariantId } from "@shop/domain/Ids"
import type { StockLevel } from "@shop/domain/Inventory"
import { Currency, type Price } from "@shop/domain/Money"
import { baseUrl, uniqueEmail, uniqueSku } from "./Client.ts"
import type { Target } from "./Scenarios.ts"

export const password = "correct horse battery"

export const usd = (amount: number): Price => ({ amount, currency: Currency.make("USD") })

export interface Account {
  readonly email: string
  readonly userId: UserId
  readonly token: string
}

type OneVariantProduct = Exclude<CreateProductInput, { readonly variants: unknown }>
type ManyVariantProduct = Extract<CreateProductInput, { readonly variants: unknown }>

// Setup through the typed client: a scenario's preconditions (accounts,
// products, stock, addresses) are made the way a storefront would make them,
// and a failing step fails with its typed error rather than a status number.
// What a scenario asserts on still goes through the raw client.
export const fixtures = (target: Target) => {
  // One client per token, built on first use: the token is part of a client.
  const clients = new Map<string, ShopPromiseClient>()
  const as = (token = ""): ShopPromiseClient => {
    let shop = clients.get(token)
    if (shop === undefined) {
      shop = makePromise({ baseUrl, fetch: target.fetch, token: token === "" ? undefined : token })
      clients.set(token, shop)
    }
    return shop
  }

  const signup = async (prefix = "user") => {
    const email = uniqueEmail(prefix)
    const { userId } = await as().auth.signup({ payload: { email, password, name: "Test User" } })
    return { email, userId }
  }

  const login = async (email: string, pass = password) =>
    (await as().auth.login({ payload: { email, password: pass } })).accessToken

  const newUser = async (prefix = "user"): Promise<Account> => {
    const user = await signup(prefix)
    return { ...user, token: await login(user.email) }
  }

  const newAdmin = async (): Promise<Account> => {
    const email = uniqueEmail("admin")
    const { userId } = await as().auth.adminSignup({
      headers: { "x-admin-secret": target.adminSecret },
      payload: { email, password, name: "Admin" }
    })
    return { email, userId, token: await login(email) }
  }

  const promote = (adminToken: string, userId: UserId) => as(adminToken).auth.promote({ payload: { userId } })

  // What every scenario product has unless the scenario says otherwise.
  const productDefaults = () => ({
    sku: uniqueSku(),
    title: "Scenario Widget",
    description: "A widget made for the scenario suite",
    category: "scenario"
  })

  // The one-variant shorthand, with defaults a scenario overrides as needed.
  const createProduct = (adminToken: string, fields: Partial<OneVariantProduct> = {}): Promise<Product> =>
    as(adminToken).adminProducts.create({
      payload: {
        ...productDefaults(),
        price: usd(1299),
        stock: 7,
        ...fields
      }
    })

  const createProductWithVariants = (
    adminToken: string,
    fields: Partial<ManyVariantProduct> & Pick<ManyVariantProduct, "variants">
  ): Promise<Product> => as(adminToken).adminProducts.create({ payload: { ...productDefaults(), ...fields } })

  const setStock = (adminToken: string, variantId: VariantId, stock: number): Promise<StockLevel> =>
    as(adminToken).adminInventory.set({ params: { variantId }, payload: { stock } })

  const addAddress = async (token: string, address: AddressInput): Promise<Address> =>
    (await as(token).addresses.create({ payload: address })).address

  return {
    as,
    signup,
    login,
    newUser,
    newAdmin,
    promote,
    createProduct,
    createProductWithVariants,
    setStock,
    addAddress
  }
}

export type Fixtures = ReturnType<typeof fixtures>
