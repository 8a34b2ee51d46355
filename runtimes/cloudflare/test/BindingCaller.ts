import type { ServiceBinding } from "../src/Env.ts"

// Test-only Worker: hands the encoded RPC messages it is sent to the service
// binding its path names (`POST /payments` to PAYMENTS), and answers what the
// service Worker's `call` answered. Tests reach a service Worker through a
// real binding this way when the service does I/O back into the test
// process (the payments Worker calling the fake PayPal there):
// `getWorker(name).getExport()` proxies an RPC call synchronously, blocking
// Node's event loop, so a server in the test process never answers the Worker
// and the call times out.
export default {
  async fetch(request: Request, env: Readonly<Record<string, ServiceBinding | undefined>>): Promise<Response> {
    const name = new URL(request.url).pathname.slice(1).toUpperCase()
    const binding = env[name]
    if (request.method !== "POST" || binding === undefined) return new Response(null, { status: 404 })
    return Response.json(await binding.call(await request.json()))
  }
}
