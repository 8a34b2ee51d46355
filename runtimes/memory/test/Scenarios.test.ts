import { afterAll, expect } from "vitest"
import { makeContract } from "@shop/testing/OpenApiContract"
import { describeScenarios } from "@shop/testing/Scenarios"
import * as PaypalFakeProvider from "@shop/payments/PaypalFakeProvider"
import * as Memory from "../src/MemoryRuntime.ts"

const jwtSecret = "memory-scenarios-jwt-secret-0123456789"
const adminSecret = "memory-scenarios-admin-secret"
let runtime: ReturnType<typeof Memory.make> | undefined
let contract: ReturnType<typeof makeContract> | undefined

describeScenarios("memory", {
  start: async () => {
    runtime = Memory.make({
      // A lost PayPal answer (a fault the suite injects) is given up on after this.
      settings: { JWT_SECRET: jwtSecret, ADMIN_SECRET: adminSecret, PAYPAL_TIMEOUT_MS: "1500" }
    })
    const { handler, paypal } = runtime
    // Every response the suite sees is held to the document the runtime serves.
    const document = await (await handler(new Request("http://shop.test/openapi.json"))).json()
    contract = makeContract(document)
    return {
      fetch: contract.wrap((request) => handler(request)),
      jwtSecret,
      adminSecret,
      paypal: { origin: PaypalFakeProvider.defaultApiBase, fetch: (request) => paypal.fetch(request) }
    }
  },
  stop: async () => {
    await runtime?.dispose()
  }
})

afterAll(() => {
  expect(contract?.checked.declared).toBeGreaterThan(100)
  expect(contract?.violations ?? []).toEqual([])
})
