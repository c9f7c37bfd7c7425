// The gateway's own HTTP listener, apart from the API's: the API is for this machine (loopback,
// a token for changes, no other origins), the gateway is public-read (any host, any origin), so
// it may listen where the API must not, and a CDN or reverse proxy can front it alone.
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { listenError } from '../listen-errors.ts'
import { createGatewayApp, type GatewayInit } from './gateway.ts'

export interface GatewayServer {
  /** Its URL, e.g. http://127.0.0.1:8081 (the port it got when asked for port 0). */
  readonly url: string
  /** Stops listening; requests in flight get 5 s. */
  close(): Promise<void>
}

export function startGatewayServer(init: GatewayInit & { host: string; port: number }): Promise<GatewayServer> {
  const app = createGatewayApp(init)
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: init.host, port: init.port }, (info: AddressInfo) => {
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address
      resolve({
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            const http = server as unknown as { closeIdleConnections(): void; closeAllConnections(): void }
            const force = setTimeout(() => http.closeAllConnections(), 5000)
            server.close(() => {
              clearTimeout(force)
              done()
            })
            http.closeIdleConnections()
          }),
      })
    })
    server.once('error', (err: NodeJS.ErrnoException) => {
      const host = init.host.includes(':') ? `[${init.host}]` : init.host
      reject(
        err.code !== undefined && err.syscall === 'listen'
          ? listenError('gateway', `${host}:${init.port}`, err.code, err)
          : err,
      )
    })
  })
}
