import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  headers: IncomingHttpHeaders
  body: string
}

/**
 * A receiving organisation's real HTTP endpoint on the loopback: records every request it is sent
 * and answers `status` (200 unless told otherwise). It can be stopped and started again on the same
 * port, as a receiver that is down for a while.
 */
export class Receiver {
  received: Received[] = []
  status = 200
  #server: Server | undefined
  #port = 0

  get url(): string {
    return `http://127.0.0.1:${this.#port}/overdracht/notify`
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        res.writeHead(this.status).end()
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#port, '127.0.0.1', () => resolve())
    })
    this.#port = (server.address() as AddressInfo).port
    this.#server = server
    return this
  }

  async stop(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Waits (polling) until `count` requests have arrived, at most `ms`. */
  async waitFor(count: number, ms = 5_000): Promise<Received[]> {
    const until = Date.now() + ms
    while (this.received.length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
    return this.received
  }
}
