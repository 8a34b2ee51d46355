import { Effect, Layer, ManagedRuntime, Schema } from "effect"
import { VariantId } from "@shop/domain/Ids"
import { Inventory } from "@shop/inventory/Inventory"
import * as Clients from "./Clients.ts"
import * as Observability from "./Observability.ts"
import type { ServiceBinding } from "./Env.ts"

// Test-only Worker, never deployed (scripts/bench-binding.ts starts it beside
// shop-inventory): measures sequential Inventory calls through the
// INVENTORY service binding with the same client layer the gateway uses, so
// that the numbers are the transport's and not the HTTP front door's.

interface BenchEnv {
  readonly INVENTORY: ServiceBinding
}

const variantId = Schema.decodeSync(VariantId)("var_bench")

let runtime: ManagedRuntime.ManagedRuntime<Inventory, never> | undefined

export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    const n = Math.min(Number(url.searchParams.get("n") ?? "100"), 10_000)
    // "get" reads one row from D1; "empty" (availability of no variants)
    // does not touch D1, so it is the transport's round trip alone.
    const op = url.searchParams.get("op") === "empty" ? "empty" : "get"
    const current = (runtime ??= ManagedRuntime.make(
      Clients.inventory(env.INVENTORY).pipe(Layer.orDie, Layer.provideMerge(Observability.layerScheduler))
    ))
    const program = Effect.gen(function* () {
      const inventory = yield* Inventory
      yield* inventory.initialize({ levels: [{ variantId, stock: 10 }] })
      const samples: Array<number> = []
      for (let i = 0; i < n; i++) {
        const start = performance.now()
        if (op === "get") yield* inventory.get({ variantId })
        else yield* inventory.availability({ variantIds: [] })
        samples.push(performance.now() - start)
      }
      return samples
    })
    return Response.json(await current.runPromise(program))
  }
} satisfies ExportedHandler<BenchEnv>
