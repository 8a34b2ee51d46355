// The reference point for the shop's numbers: the cheapest possible JSON
// answer from node:http on the same Node, machine and loopback. Shop req/s are
// reported as a share of this, which cancels out how fast the machine is.
import { createServer } from "node:http"

const port = Number(process.env.PORT ?? 0)
const host = process.env.HOST ?? "127.0.0.1"
const body = Buffer.from(JSON.stringify({ status: "ok", message: "hello" }))

const server = createServer((_request, response) => {
  response.writeHead(200, { "content-type": "application/json", "content-length": body.length })
  response.end(body)
})

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close()
    // Keep-alive sockets of a stopped load run would hold close() open.
    server.closeAllConnections()
  })
}

server.listen(port, host)
