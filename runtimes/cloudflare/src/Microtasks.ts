// Imported first by every Worker entry, before effect is loaded.
//
// Effect's fiber scheduler yields with setImmediate (a timer in workerd). A
// Worker's runtime is built during one request and outlives it, and workerd
// drops a request's pending timers when that request ends: a fiber whose
// start was queued on such a timer never runs. The RPC clients' response
// loops, forked while the first request built the runtime, then left every
// later call waiting until the gateway's timeout (a request that built the
// runtime and used the client in one go did not show it). Microtasks always
// run inside the request that queued them, so here setImmediate is a
// microtask: fibers still yield to each other, never to a timer.
const target = globalThis as typeof globalThis & {
  setImmediate?: (f: () => void) => unknown
  clearImmediate?: (handle: unknown) => void
}

target.setImmediate = (f: () => void) => {
  const handle = { cancelled: false }
  queueMicrotask(() => {
    if (!handle.cancelled) f()
  })
  return handle
}
target.clearImmediate = (handle: unknown) => {
  if (typeof handle === "object" && handle !== null && "cancelled" in handle) handle.cancelled = true
}

export {}
