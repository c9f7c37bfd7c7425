// What sits in front of a daemon on a real site, for tests: an https server that does what the
// Caddy and nginx examples in docs/deploy.md do. It serves the built web app, forwards
// GET /config.json to the daemon's loopback API (with the API's own Host, which the API checks),
// and, given `websockets`, forwards WebSocket upgrades to that plain /ws port: TLS ends here. Caddy
// and nginx themselves are not installed where the tests run.
import { readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { extname, join, normalize } from 'node:path'
import type { Duplex } from 'node:stream'

export interface HttpsFrontInit {
  /** PEM certificate and key. */
  readonly cert: string
  readonly key: string
  /** The built web app (index.html and assets). */
  readonly webRoot: string
  /** The daemon's API URL (http://127.0.0.1:N). */
  readonly api: string
  /** @default 0 (a free port) */
  readonly port?: number
  /** A plain WebSocket port on 127.0.0.1 to forward upgrades to. @default none: upgrades are refused */
  readonly websockets?: number
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
}

export class HttpsFront {
  readonly url: string
  /** WebSocket upgrades forwarded to the daemon. */
  upgrades = 0
  readonly #server: Server
  readonly #tunnels: Set<Duplex>

  private constructor(server: Server, tunnels: Set<Duplex>) {
    this.#server = server
    this.#tunnels = tunnels
    this.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`
  }

  static async start(init: HttpsFrontInit): Promise<HttpsFront> {
    let front: HttpsFront | undefined
    const tunnels = new Set<Duplex>()
    const server = createServer({ cert: init.cert, key: init.key }, (req, res) => {
      const path = new URL(req.url ?? '/', 'https://front').pathname
      if (path === '/config.json') {
        const api = new URL(init.api)
        const forwarded = request(
          new URL('/config.json', api),
          // The browser's headers as sent (Origin, if any, included), but the API's Host.
          { headers: { ...req.headers, host: api.host, 'x-forwarded-proto': 'https' } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers)
            answer.pipe(res)
          },
        )
        forwarded.on('error', () => res.writeHead(502).end())
        forwarded.end()
        return
      }
      const file = join(init.webRoot, normalize(path === '/' ? '/index.html' : path))
      readFile(file).then(
        (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
        () => res.writeHead(404).end(),
      )
    })
    server.on('upgrade', (req, socket, head) => {
      if (init.websockets === undefined) {
        socket.destroy()
        return
      }
      if (front !== undefined) front.upgrades++
      // An upgraded connection is no longer the server's: close() ends it itself.
      tunnels.add(socket)
      socket.on('close', () => tunnels.delete(socket))
      const upstream = connect(init.websockets, '127.0.0.1', () => {
        const headers: string[] = []
        for (let i = 0; i < req.rawHeaders.length; i += 2)
          headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
        upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`)
        upstream.write(head)
        upstream.pipe(socket).pipe(upstream)
      })
      upstream.on('error', () => socket.destroy())
      socket.on('error', () => upstream.destroy())
    })
    await new Promise<void>((resolve) => server.listen(init.port ?? 0, '127.0.0.1', resolve))
    front = new HttpsFront(server, tunnels)
    return front
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections()
    for (const socket of this.#tunnels) socket.destroy()
    await new Promise((resolve) => this.#server.close(resolve))
  }
}
