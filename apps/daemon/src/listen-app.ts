// Serving a hono app on a host and port, for the API and the gateway alike: the URL it got (the
// real port when asked for 0), a close that gives requests in flight 5 s, and a listen failure
// named by which address it was (listen-errors.ts).
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'
import { listenError } from './listen-errors.ts'

export interface ListeningApp {
  /** Its URL, e.g. http://127.0.0.1:5011. */
  readonly url: string
  /** Stops listening; requests in flight get 5 s, idle keep-alive connections close at once. */
  close(): Promise<void>
}

export function listenApp(
  app: Pick<Hono, 'fetch'>,
  which: Parameters<typeof listenError>[0],
  host: string,
  port: number,
): Promise<ListeningApp> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      const shown = info.family === 'IPv6' ? `[${info.address}]` : info.address
      resolve({
        url: `http://${shown}:${info.port}`,
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
      const address = `${host.includes(':') ? `[${host}]` : host}:${port}`
      reject(err.code !== undefined && err.syscall === 'listen' ? listenError(which, address, err.code, err) : err)
    })
  })
}
