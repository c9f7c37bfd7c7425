// The CLI's way to call the daemon: node:http rather than fetch, whose implementation (undici)
// takes longer to load than the rest of a `dagsync get` together. One connection per call, closed
// after it, so the process exits as soon as the command is done.
import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { HttpPost, HttpReply } from '@dagsync/daemon/client'

/**
 * node:http without undici: an ESM `import` of node:http reads all its exports, and its WebSocket
 * getter loads undici (~40 ms and more per command); getBuiltinModule reads none.
 */
const http = process.getBuiltinModule('node:http')

function requestFor(url: string): typeof http.request {
  // https (a daemon behind a TLS proxy) loads its module only when used.
  return url.startsWith('https:') ? process.getBuiltinModule('node:https').request : http.request
}

function reply(res: IncomingMessage): HttpReply {
  return {
    status: res.statusCode ?? 0,
    statusText: res.statusMessage ?? '',
    body: res,
    text: async () => {
      const chunks: Buffer[] = []
      for await (const chunk of res) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks).toString('utf8')
    },
  }
}

/** A GET (for /health): the status and the body's text; rejects if the daemon cannot be reached. */
export async function nodeGet(url: string): Promise<{ status: number; text: string }> {
  const request = requestFor(url)
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      reply(res)
        .text()
        .then((text) => resolve({ status: res.statusCode ?? 0, text }), reject)
    })
    req.on('error', reject)
    req.end()
  })
}

export const nodePost: HttpPost = async (url, { headers, body }) => {
  const request = requestFor(url)
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent: false }, (res) => resolve(reply(res)))
    req.on('error', reject)
    if (typeof body === 'string') req.end(body)
    else pipeline(Readable.from(body), req).catch(reject)
  })
}
