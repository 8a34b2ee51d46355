import { describeScenarios } from "@shop/testing/Scenarios"
import * as PaypalFakeProvider from "@shop/payments/PaypalFakeProvider"
import * as Memory from "../src/MemoryRuntime.ts"

const jwtSecret = "memory-scenarios-jwt-secret-0123456789"
const adminSecret = "memory-scenarios-admin-secret"
let runtime: ReturnType<typeof Memory.make> | undefined

describeScenarios("memory", {
  start: async () => {
    runtime = Memory.make({ settings: { JWT_SECRET: jwtSecret, ADMIN_SECRET: adminSecret } })
    const { handler, paypal } = runtime
    return {
      fetch: (request) => handler(request),
      jwtSecret,
      adminSecret,
      paypal: { origin: PaypalFakeProvider.defaultApiBase, fetch: (request) => paypal.fetch(request) }
    }
  },
  stop: async () => {
    await runtime?.dispose()
  }
})
