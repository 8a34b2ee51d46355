// One test project per package and runtime. vitest 5 ignores this file on its
// own (STACK.md), so vitest.config.ts passes the list on to `test.projects`.
const project = (dir: string, extra: Record<string, unknown> = {}) => ({
  extends: true as const,
  test: {
    name: dir.split("/")[1],
    include: [`${dir}/test/**/*.test.ts`],
    ...extra
  }
})

export default [
  project("packages/domain"),
  project("packages/observability"),
  project("packages/demo"),
  project("packages/auth"),
  project("packages/catalog"),
  project("packages/inventory"),
  project("packages/fulfillment"),
  project("packages/coupons"),
  project("packages/orders"),
  project("packages/idempotency"),
  project("packages/cart"),
  project("packages/payments"),
  project("packages/paypal-fake"),
  project("packages/gateway"),
  project("runtimes/memory"),
  project("runtimes/node", { testTimeout: 60_000, hookTimeout: 60_000 }),
  project("runtimes/cloudflare", { testTimeout: 120_000, hookTimeout: 180_000 })
]
