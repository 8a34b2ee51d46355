import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"

// Serves the fake PayPal (@shop/paypal-fake, a fetch handler) on a Node HTTP
// server, for a shop started without PayPal credentials and for tests that
// want a real socket. The buyer's browser follows the fake's approve link, so
// in development the fake must listen where the browser can reach it; it
// listens on the loopback interface only, because its control API has no
// authentication. Wire it as the PayPal API base:
// `PaypalConfig.layer({ apiBase: url, ... })` with the fake's credentials.

export interface Options {
  readonly host?: string
  // 0: any free port.
  readonly port?: number
}

const toRequest = async (incoming: IncomingMessage, origin: string, signal: AbortSignal): Promise<Request> => {
  const headers = new Headers()
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item)
    else if (value !== undefined) headers.set(name, value)
  }
  const method = incoming.method ?? "GET"
  const chunks: Array<Buffer> = []
  if (method !== "GET" && method !== "HEAD") for await (const chunk of incoming) chunks.push(chunk as Buffer)
  return new Request(new URL(incoming.url ?? "/", origin), {
    method,
    headers,
    signal,
    ...(chunks.length === 0 ? {} : { body: Buffer.concat(chunks) })
  })
}

const send = async (response: Response, outgoing: ServerResponse) => {
  const body = Buffer.from(await response.arrayBuffer())
  outgoing.writeHead(response.status, Object.fromEntries(response.headers))
  outgoing.end(body)
}

/** Listens until the scope closes; gives the URL the fake answers at. */
export const serve = (handler: (request: Request) => Promise<Response>, options: Options = {}) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly url: string; readonly close: () => void }, Error>((resume) => {
      const host = options.host ?? "127.0.0.1"
      let origin = ""
      const server = createServer((incoming, outgoing) => {
        // A client that gives up (a timeout) closes its connection: the fake
        // sees its request aborted and stops holding the answer back.
        const controller = new AbortController()
        outgoing.on("close", () => {
          if (!outgoing.writableFinished) controller.abort()
        })
        toRequest(incoming, origin, controller.signal)
          .then(handler)
          .then((response) => (controller.signal.aborted ? undefined : send(response, outgoing)))
          .catch(() => {
            if (!outgoing.headersSent) outgoing.writeHead(500).end()
          })
      })
      server.once("error", (error) => resume(Effect.fail(error)))
      server.listen(options.port ?? 0, host, () => {
        const { port } = server.address() as AddressInfo
        origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`
        resume(
          Effect.succeed({
            url: origin,
            close: () => {
              server.close()
              server.closeAllConnections()
            }
          })
        )
      })
    }),
    (server) => Effect.sync(server.close)
  ).pipe(Effect.map(({ url }) => ({ url })))
