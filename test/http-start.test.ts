// A page's start over HTTP before libp2p (packages/browser/src/http-start.ts), against real HTTP:
// the daemon's gateway code behind a local server that can lie, and a real daemon process whose API
// serves the gateway's read routes to its own pages (apps/daemon/src/page-gateway.ts). An honest
// gateway moves an empty replica to the store's head; a forged record, a record whose seq is not
// its commit's, or blocks that do not hash to their CIDs are refused and the replica keeps no head;
// a CAR that lacks a block is completed block by block. The node's tab (cold-starts.ts) lets the
// node start only once the starts under way are done: the test holds a CAR to force that order.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { createAnnouncement, createStoreKey, storeIdOf } from '@dagsync/peer'
import { memoryStorage, openStore, type Store } from '@dagsync/store'
import { CarBlockIterator, CarWriter } from '@ipld/car'
import { createGatewayApp } from '../apps/daemon/src/gateway/gateway.ts'
import { ColdStarts } from '../packages/browser/src/cold-starts.ts'
import { HttpStartError, startOverHttp } from '../packages/browser/src/http-start.ts'
import { DaemonProcess, listenOnLoopback, Scratch } from './cli-helpers.ts'

type Mode = 'honest' | 'forged-record' | 'wrong-seq' | 'wrong-blocks' | 'car-missing'

const scratch = new Scratch()
let mode: Mode = 'honest'
let key: Awaited<ReturnType<typeof createStoreKey>>
let id: string
let writer: Store
let record: Uint8Array
let gateway: string
/** While set, a CAR request says so and waits for it to resolve. */
let holdCar: { asked: () => void; released: Promise<void> } | undefined

/** The CAR without its last block. */
async function shortCar(car: Uint8Array): Promise<Uint8Array> {
  const reader = await CarBlockIterator.fromBytes(car)
  const blocks: { cid: Parameters<CarWriter['put']>[0]['cid']; bytes: Uint8Array }[] = []
  for await (const block of reader) blocks.push(block)
  const { writer: out, out: bytes } = CarWriter.create(await reader.getRoots())
  const chunks: Uint8Array[] = []
  const collecting = (async () => {
    for await (const chunk of bytes) chunks.push(chunk)
  })()
  for (const block of blocks.slice(0, -1)) await out.put(block)
  await out.close()
  await collecting
  return new Uint8Array(Buffer.concat(chunks))
}

before(async () => {
  key = await createStoreKey()
  id = storeIdOf(key.publicKey)
  const storage = memoryStorage()
  writer = await openStore({ storage, name: id })
  // Enough keys for a tree of a few levels.
  await writer.transact(Array.from({ length: 2000 }, (_, i) => ({ op: 'put', key: `k/${i}`, value: { i } }) as const))
  const head = writer.head
  assert.ok(head !== null)
  record = (await createAnnouncement(key, head.cid, head.seq)).bytes
  const impostor = await createStoreKey()
  const forged = (await createAnnouncement(impostor, head.cid, head.seq)).bytes
  const wrongSeq = (await createAnnouncement(key, head.cid, head.seq + 5)).bytes
  const app = createGatewayApp({
    blockstore: storage.blockstore,
    record: async () => (mode === 'forged-record' ? forged : mode === 'wrong-seq' ? wrongSeq : record),
  })
  const server = createServer(async (req, res) => {
    const url = req.url ?? '/'
    if (holdCar !== undefined && url.includes('format=car')) {
      holdCar.asked()
      await holdCar.released
    }
    const response = await app.fetch(
      new Request(`http://127.0.0.1${url}`, { headers: { accept: req.headers.accept ?? '' } }),
    )
    let body: Uint8Array = new Uint8Array(await response.arrayBuffer())
    if (mode === 'wrong-blocks' && url.startsWith('/ipfs/')) {
      // One bit of every block's last byte (a CAR's last block, or the one raw block).
      body = body.slice()
      body[body.length - 1] = (body[body.length - 1] ?? 0) ^ 1
    }
    if (mode === 'car-missing' && url.includes('format=car')) body = await shortCar(body)
    res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'text/plain' })
    res.end(body)
  })
  gateway = await listenOnLoopback(scratch, server)
})
after(() => scratch.close())

async function emptyReplica(name = id): Promise<Store> {
  return await openStore({ storage: memoryStorage(), name, readOnly: true })
}

describe('a start over HTTP', () => {
  it("moves an empty replica to the record's head, every block of it, from one CAR", async () => {
    mode = 'honest'
    const replica = await emptyReplica()
    const report = await startOverHttp(replica, id, [gateway], AbortSignal.timeout(30_000))
    assert.equal(replica.head?.cid.toString(), writer.head?.cid.toString())
    assert.deepEqual(await replica.get('k/1999'), { i: 1999 })
    assert.equal(report.path, 'http')
    assert.equal(report.fetched, 0)
    let blocks = 1
    for await (const _ of writer.tree.walk((writer.head ?? assert.fail()).tree)) blocks++
    assert.equal(report.blocks, blocks)
  })

  it('completes a CAR that lacks a block one block at a time', async () => {
    mode = 'car-missing'
    const replica = await emptyReplica()
    const report = await startOverHttp(replica, id, [gateway], AbortSignal.timeout(30_000))
    assert.equal(replica.head?.seq, writer.head?.seq)
    assert.equal(report.fetched, 1)
  })

  for (const [lie, error] of [
    ['forged-record', /no gateway|not signed by the store key/],
    ['wrong-seq', HttpStartError],
    ['wrong-blocks', /hash|CID|match/i],
  ] as const) {
    it(`refuses ${lie} and keeps no head`, async () => {
      mode = lie
      const replica = await emptyReplica()
      await assert.rejects(startOverHttp(replica, id, [gateway], AbortSignal.timeout(30_000)), error)
      assert.equal(replica.head, null)
      assert.equal(await replica.storage.head(id), undefined)
    })
  }

  it("reaches a daemon's API at the page's own origin, and the API refuses other origins", async () => {
    const daemon = await DaemonProcess.start(scratch, await scratch.dir())
    const ready = await daemon.ready
    const demo = ready.stores.find((s) => s.names.includes('demo'))?.id ?? assert.fail('no demo store')
    const replica = await emptyReplica(demo)
    await startOverHttp(replica, demo, [ready.api], AbortSignal.timeout(30_000))
    assert.notEqual(await replica.get('welcome'), undefined)
    const elsewhere = await fetch(`${ready.api}/ipns/${demo}`, {
      headers: { accept: 'application/vnd.ipfs.ipns-record', origin: 'http://example.com' },
    })
    assert.equal(elsewhere.status, 401)
    await daemon.stop()
  })
})

describe("the node's tab before its node", () => {
  it('lets the node start only once a start under way has moved the replica', async () => {
    mode = 'honest'
    let asked = () => {}
    const carAsked = new Promise<void>((resolve) => (asked = resolve))
    let release = () => {}
    holdCar = { asked, released: new Promise<void>((resolve) => (release = resolve)) }
    const storage = memoryStorage()
    const started: number[] = []
    const cold = new ColdStarts({
      storage,
      gateways: [gateway],
      onStarted: (_, report) => started.push(report.seq),
      needNode: (_, why) => assert.fail(`the start failed: ${why}`),
      timeoutMs: 30_000,
      signal: new AbortController().signal,
    })
    const first = cold.start(id)
    assert.equal(cold.start(id), first, 'a second tab asking for the same store gets the same start')
    await carAsked // the start is under way, its CAR held
    let headWhenIdle: string | undefined
    const idle = cold.idle().then(async () => {
      headWhenIdle = (await storage.head(id))?.toString()
    })
    release()
    await idle
    holdCar = undefined
    assert.equal(headWhenIdle, writer.head?.cid.toString(), 'the replica had its head when the node could start')
    assert.deepEqual(started, [writer.head?.seq])
  })

  it('asks for the node when a replica cannot start over HTTP', async () => {
    const why: string[] = []
    const cold = new ColdStarts({
      storage: memoryStorage(),
      gateways: [],
      onStarted: () => assert.fail('no gateway, no start'),
      needNode: (_, reason) => why.push(reason),
      timeoutMs: 30_000,
      signal: new AbortController().signal,
    })
    await cold.start(id)
    assert.deepEqual(why, ['no gateway to start it over HTTP'])
  })
})
