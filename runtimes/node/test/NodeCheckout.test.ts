import { describe, expect, it } from "vitest"
import { type CheckoutCount, countInTempDir } from "./CheckoutStatements.ts"

// SQL statements of one full checkout on node (start, the buyer's approval at
// the fake PayPal, capture), per database and in all, through the service
// graph `npm start` builds; see CheckoutStatements.ts for what is counted.
// The goal is at most 25. The bound asserted is the goal, so a change
// that makes a checkout cost more fails here with the statements listed.

const goal = 25

const describeStatements = (count: CheckoutCount) =>
  [
    `${count.total} statements: ${JSON.stringify(count.byDatabase)} ${JSON.stringify(count.byStep)}`,
    ...count.statements.map(({ database, sql, step }) => `${step} ${database}: ${sql}`)
  ].join("\n")

describe("node runtime: SQL statements of a checkout", () => {
  it(`costs at most ${goal} statements for start and capture, per database and in all`, async () => {
    const count = await countInTempDir()
    const detail = describeStatements(count)
    // Shown in the test output: the figure the bench also reports.
    console.log(detail)
    // Every step touches the database it must: the session, the hold and the
    // payment at start, the hold's commit and the order at capture.
    expect(count.byStep.authenticate, detail).toBeGreaterThan(0)
    expect(
      count.statements.some((s) => s.step === "start" && s.database === "inventory"),
      detail
    ).toBe(true)
    expect(
      count.statements.some((s) => s.step === "start" && s.database === "payments"),
      detail
    ).toBe(true)
    expect(
      count.statements.some((s) => s.step === "capture" && s.database === "inventory"),
      detail
    ).toBe(true)
    expect(
      count.statements.some((s) => s.step === "capture" && s.database === "orders"),
      detail
    ).toBe(true)
    expect(count.total, detail).toBe(Object.values(count.byDatabase).reduce((sum, n) => sum + n, 0))
    expect(count.total, detail).toBeLessThanOrEqual(goal)
  })
})
