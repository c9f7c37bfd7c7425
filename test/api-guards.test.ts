// The HTTP API's guards against a real daemon process: calls that change state or make the
// daemon contact other hosts need the token, a bad store name creates nothing, and JSON bodies
// over the limit are refused before they are parsed (how long /health waits during writes is
// measured by `pnpm bench:cli`, not here).
// Every refused call is checked to have changed nothing.
import assert from 'node:assert/strict'
import { createServer, request as httpRequest, type Server } from 'node:http'
import { Readable } from 'node:stream'
import { after, describe, it } from 'node:test'
import { MAX_JSON_BODY_BYTES } from '@dagsync/daemon/client'
import { cli, cliJson, listenOnLoopback, Scratch, startDaemonRepo } from './cli-helpers.ts'
import { JSON_SHAPES, valueText } from './fixtures/json-shapes.ts'

const scratch = new Scratch()
after(() => scratch.close())

const { repo, api, token } = await startDaemonRepo(scratch)

async function call(method: string, args: unknown, auth = true): Promise<{ status: number; body: string }> {
  const response = await fetch(`${api}/api/v1/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(args),
  })
  return { status: response.status, body: await response.text() }
}

/** What the repo holds, as the API reports it: stores, pins and the demo store's keys. */
async function snapshot(): Promise<string> {
  const stores = await call('storeList', {}, false)
  const pins = await call('pinList', {}, false)
  const keys = await call('keys', { store: 'demo' }, false)
  return JSON.stringify([stores.body, pins.body, keys.body])
}

/** A local HTTP server that counts the requests it gets (a pinning service the daemon must not call). */
async function countingServer(): Promise<{ url: string; hits: () => number; server: Server }> {
  let hits = 0
  const server = createServer((_, res) => {
    hits++
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"count":0,"results":[]}')
  })
  return { url: await listenOnLoopback(scratch, server), hits: () => hits, server }
}

describe('the API token', () => {
  it('is needed by every call that changes state or contacts another host, and a refused call changes nothing', async () => {
    const service = await countingServer()
    const remote = { url: service.url, token: 'service-token' }
    const storeId = 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnz0le'
    const cid = 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
    const calls: [string, unknown][] = [
      ['connect', { address: `/ip4/127.0.0.1/tcp/1/ws/p2p/12D3KooWBWtiXJoKvqwUeDoaamNtXJHc5Wf51VJCmKmXsZADr81p` }],
      ['storeCreate', { name: 'made-without-token' }],
      ['storeFollow', { id: storeId, name: 'followed-without-token' }],
      ['storeUnfollow', { store: 'demo' }],
      ['storeAllow', { store: 'demo', peers: [] }],
      ['storeDeny', { store: 'demo', peers: ['12D3KooWBWtiXJoKvqwUeDoaamNtXJHc5Wf51VJCmKmXsZADr81p'] }],
      ['storeName', { store: 'demo', name: 'renamed' }],
      ['put', { store: 'demo', key: 'k', value: 1 }],
      ['del', { store: 'demo', key: 'welcome' }],
      ['transact', { store: 'demo' }],
      ['stageBytes', { store: 'demo' }],
      ['pinAdd', { target: cid }],
      ['pinRemove', { target: cid }],
      ['gc', { keepLast: 1 }],
      ['namePublish', { store: 'demo' }],
      ['nameResolve', { name: storeId }],
      ['remotePinAdd', { ...remote, target: 'demo' }],
      ['remotePinList', remote],
      ['remotePinRemove', { ...remote, target: cid }],
    ]
    const before = await snapshot()
    for (const [method, args] of calls) {
      const refused = await call(method, args, false)
      assert.equal(refused.status, 401, `${method} without the token: ${refused.body}`)
      assert.match(refused.body, /needs the API token/, method)
    }
    assert.equal(service.hits(), 0, 'the daemon contacted no pinning service')
    assert.equal(await snapshot(), before, 'nothing changed')

    // With the token, the same remote call does reach the service: the guard is what stopped it.
    const listed = await call('remotePinList', remote)
    assert.equal(listed.status, 200, listed.body)
    assert.equal(service.hits(), 1)
  })
})

describe('store names', () => {
  it('a bad name is refused before a store is created, through the API and the CLI', async () => {
    const before = await snapshot()
    for (const name of ['has space', 'k51looks-like-an-id', '', 'x'.repeat(65), 42]) {
      const refused = await call('storeCreate', { name })
      assert.equal(refused.status, 400, `${JSON.stringify(name)}: ${refused.body}`)
      assert.match(refused.body, /store name .*use 1-64 of letters/)
    }
    const cliRefused = await cli(scratch, repo, ['store', 'create', '--name', 'bad/name'])
    assert.equal(cliRefused.code, 2, cliRefused.stderr)
    assert.equal(await snapshot(), before, 'no store was created')

    // Without a daemon (the CLI on the repo directly) too.
    const offline = await scratch.dir()
    assert.equal((await cli(scratch, offline, ['init', '--no-demo'])).code, 0)
    const direct = await cli(scratch, offline, ['store', 'create', '--name', 'bad name'])
    assert.equal(direct.code, 2, direct.stderr)
    assert.deepEqual(await cliJson(scratch, offline, ['store', 'ls']), [])
  })
})

/** Where a streamed upload stops until `resume` settles, telling `paused` once it has. */
interface Hold {
  readonly pauseAfter: number
  readonly paused: () => void
  readonly resume: Promise<void>
}

/** A put whose body is `size` bytes of one long string, streamed with its Content-Length. */
function putHuge(size: number, hold?: Hold): Promise<Response> {
  const head = Buffer.from('{"store":"demo","key":"huge","value":"')
  const tail = Buffer.from('"}')
  const chunk = Buffer.alloc(16 * 1024, 'x')
  const body = Readable.from(
    (async function* () {
      yield head
      for (let sent = head.length + tail.length; sent < size; sent += chunk.length) {
        if (hold !== undefined && sent >= hold.pauseAfter && sent - chunk.length < hold.pauseAfter) {
          hold.paused()
          await hold.resume
        }
        yield chunk.subarray(0, Math.min(chunk.length, size - sent))
      }
      yield tail
    })(),
  )
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${api}/api/v1/put`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': size },
    })
    request.on('response', async (response) => {
      const chunks: Buffer[] = []
      for await (const part of response) chunks.push(part as Buffer)
      body.destroy()
      resolve(new Response(Buffer.concat(chunks), { status: response.statusCode ?? 0 }))
    })
    request.on('error', reject)
    body.pipe(request)
  })
}

describe('JSON values', () => {
  it('over the limit are refused before parsing, with a pointer to the binary API, and change nothing', async () => {
    const seq = async () => JSON.parse((await call('storeStatus', { store: 'demo' }, false)).body).seq as number
    const start = await seq()
    // 50 MiB with a Content-Length: refused from the header.
    const refused = await putHuge(50 * 1024 * 1024)
    assert.equal(refused.status, 400)
    assert.match(await refused.text(), /over 64 KiB, the limit for JSON calls: .*putBytes.*--file/)
    // Streamed without a length: refused once the count passes the limit.
    const chunk = new TextEncoder().encode(' '.repeat(64 * 1024))
    const streamed = await fetch(`${api}/api/v1/put`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 16; i++) controller.enqueue(chunk)
          controller.close()
        },
      }),
      duplex: 'half',
    } as RequestInit)
    assert.equal(streamed.status, 400)
    assert.match(await streamed.text(), /over 64 KiB/)
    assert.equal(await seq(), start, 'no commit was made')

    // The CLI refuses such a value before sending it (and on the repo directly, the same).
    const value = valueText('objects', MAX_JSON_BODY_BYTES)
    const viaCli = await cli(scratch, repo, ['put', 'demo', 'big'], { input: value })
    assert.equal(viaCli.code, 2, viaCli.stderr)
    assert.match(viaCli.stderr, /over 64 KiB.*--file/)
    assert.equal(await seq(), start)
    const offline = await scratch.dir()
    assert.equal((await cli(scratch, offline, ['init', '--no-demo'])).code, 0)
    await cliJson(scratch, offline, ['store', 'create', '--name', 's'])
    const direct = await cli(scratch, offline, ['put', 's', 'big'], { input: value })
    assert.equal(direct.code, 2, direct.stderr)
    assert.match(direct.stderr, /over 64 KiB.*--file/)
    assert.equal((await cli(scratch, offline, ['keys', 's'])).stdout.trim(), 'KEY  TYPE  SIZE  LAST WRITE')

    // Just under the limit is accepted, and reads back whole.
    const under = valueText('objects', MAX_JSON_BODY_BYTES - 100)
    const put = await fetch(`${api}/api/v1/put`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: `{"store":"demo","key":"under","value":${under}}`,
    })
    assert.equal(put.status, 200, await put.text())
    const got = JSON.parse((await call('get', { store: 'demo', key: 'under' }, false)).body)
    assert.deepEqual(got.value, JSON.parse(under))
  })

  it('/health answers while a 50 MiB body waits half-sent, the body is refused by its length before it arrives, and every shape up to the limit is accepted whole', async () => {
    // The upload stops after 32 KiB, under the limit, so only the Content-Length check can refuse it.
    const gate = Promise.withResolvers<void>()
    const paused = Promise.withResolvers<void>()
    const refused = putHuge(50 * 1024 * 1024, { pauseAfter: 32 * 1024, paused: paused.resolve, resume: gate.promise })
    await paused.promise
    const health = await fetch(`${api}/health`)
    assert.equal(health.status, 200)
    assert.equal((await health.json()).status, 'ok')
    const noAnswer = new Promise<never>((_, reject) =>
      AbortSignal.timeout(10_000).addEventListener('abort', () =>
        reject(new Error('no answer in 10 s while the body was held back: the length was not checked')),
      ),
    )
    const response = await Promise.race([refused, noAnswer])
    assert.equal(response.status, 400, 'refused while the body was held back')
    gate.resolve()

    for (const shape of JSON_SHAPES) {
      const value = valueText(shape, MAX_JSON_BODY_BYTES - 100)
      const put = await fetch(`${api}/api/v1/put`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: `{"store":"demo","key":"${shape}","value":${value}}`,
      })
      assert.equal(put.status, 200, `${shape}: ${await put.text()}`)
      const got = JSON.parse((await call('get', { store: 'demo', key: shape }, false)).body)
      assert.deepEqual(got.value, JSON.parse(value), shape)
    }
  })
})
