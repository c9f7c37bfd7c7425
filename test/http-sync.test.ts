// A follower that reaches no libp2p peer syncs through a daemon's trustless gateway alone (a real
// daemon process, real HTTP): the head from the store's IPNS record, then the blocks, each
// verified; it catches up after a commit and says `path: 'http'`. Behind a lying gateway (a
// local HTTP server in front of the real one) a wrong block, a forged record and a stale record
// are refused, and the replica stays at a readable head.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, describe, it } from 'node:test'
import {
  type Announcement,
  createAnnouncement,
  createDagsyncNode,
  createStoreKey,
  type Follower,
  storePublicKey,
} from '@dagsync/peer'
import { GatewayClient } from '@dagsync/peer/http'
import { memoryStorage } from '@dagsync/store'
import { CarBlockIterator, CarWriter } from '@ipld/car'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { cli, cliJson, DaemonProcess, eventually, freePort, listenOnLoopback, Scratch } from './cli-helpers.ts'

type Mode =
  | 'honest'
  | 'wrong-block'
  | 'forged-record'
  | 'stale-record'
  | 'huge'
  | 'car-extra'
  | 'car-missing'
  | 'car-wrong'

const scratch = new Scratch()
let repo: string
let gateway: string
let store: string
let peerId: string
let mode: Mode = 'honest'
let stale: Uint8Array | undefined
let forged: Uint8Array | undefined
/** Requests the lying gateway answered falsely. */
const lies = { blocks: 0, records: 0 }
/** Block requests the lying gateway was sent: CARs and single blocks. */
const asked = { car: 0, raw: 0 }

/** The CAR a lying gateway sends instead of `real`'s, as `mode` says. */
async function lyingCar(real: Uint8Array, how: Mode): Promise<Uint8Array> {
  const reader = await CarBlockIterator.fromBytes(real)
  const blocks: { cid: CID; bytes: Uint8Array }[] = []
  for await (const block of reader) blocks.push(block)
  assert.ok(blocks.length > 2, 'a DAG of a few blocks')
  const [first, second, third] = blocks as [(typeof blocks)[0], (typeof blocks)[0], (typeof blocks)[0]]
  const extra = dagCbor.encode({ not: 'reached by anything' })
  const sent =
    how === 'car-extra'
      ? [first, { cid: CID.createV1(dagCbor.code, await sha256.digest(extra)), bytes: extra }, ...blocks.slice(1)]
      : how === 'car-missing'
        ? blocks.slice(0, -1)
        : [first, { cid: second.cid, bytes: third.bytes }, ...blocks.slice(2)]
  const { writer, out } = CarWriter.create(await reader.getRoots())
  const chunks: Uint8Array[] = []
  const collecting = (async () => {
    for await (const chunk of out) chunks.push(chunk)
  })()
  for (const block of sent) await writer.put(block)
  await writer.close()
  await collecting
  return new Uint8Array(Buffer.concat(chunks))
}
let liar: string
after(() => scratch.close())
before(async () => {
  repo = await scratch.dir()
  const daemon = await DaemonProcess.start(scratch, repo, {}, { args: ['--gateway-address', '127.0.0.1:0'] })
  const ready = await daemon.ready
  gateway = ready.gateway ?? ''
  peerId = ready.peerId
  store = ready.stores.find((s) => s.names.includes('demo'))?.id ?? ''
  // A gateway in front of the daemon's that lies as `mode` says.
  const server = createServer(async (req, res) => {
    const url = req.url ?? '/'
    if (url.includes('format=car')) asked.car++
    else if (url.startsWith('/ipfs/')) asked.raw++
    const real = await fetch(`${gateway}${url}`, { headers: { accept: req.headers.accept ?? '' } })
    let bytes: Uint8Array = new Uint8Array(await real.arrayBuffer())
    if (mode === 'wrong-block' && url.startsWith('/ipfs/') && real.ok) {
      bytes = bytes.slice()
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1
      lies.blocks++
    }
    if (url.startsWith('/ipns/') && (mode === 'forged-record' || mode === 'stale-record')) {
      bytes = (mode === 'forged-record' ? forged : stale) ?? bytes
      lies.records++
    }
    if ((mode === 'car-extra' || mode === 'car-missing' || mode === 'car-wrong') && url.includes('format=car'))
      bytes = await lyingCar(bytes, mode)
    // Far more than any block or record may be, with no Content-Length to warn the reader.
    if (mode === 'huge') bytes = new Uint8Array(3 * 1024 * 1024)
    res.writeHead(real.status, { 'content-type': real.headers.get('content-type') ?? 'text/plain' })
    res.end(bytes)
  })
  liar = await listenOnLoopback(scratch, server)
})

async function put(key: string, value: string): Promise<number> {
  assert.equal((await cli(scratch, repo, ['put', 'demo', key, value])).code, 0)
  return (await cliJson<{ stores: { id: string; seq: number }[] }>(scratch, repo, ['status'])).stores.find(
    (s) => s.id === store,
  )?.seq as number
}

/** A reader with no libp2p listener whose only configured peer is the daemon at a port nobody listens on. */
async function reader(gateways: string[]): Promise<{ replica: Follower; stop: () => Promise<void> }> {
  const node = await createDagsyncNode({
    storage: memoryStorage(),
    listen: [],
    peers: [`/ip4/127.0.0.1/tcp/${await freePort()}/ws/p2p/${peerId}`],
    gateways,
    gatewayPollMs: 200,
    fetchTimeoutMs: 3000,
  })
  scratch.defer(() => node.stop())
  return { replica: await node.follow(store), stop: () => node.stop() }
}

describe('syncing over HTTP', () => {
  it('a follower whose dial fails syncs through the gateway alone, says so, and catches up after a commit', async () => {
    const seq = await put('http/1', '"one"')
    const { replica, stop } = await reader([gateway])
    await replica.synced(seq, AbortSignal.timeout(20_000))
    assert.equal(await replica.get('http/1'), 'one')
    assert.equal(await replica.get('counter'), 0)
    assert.equal(replica.status().path, 'http')
    assert.equal(replica.status().lastSync?.path, 'http')
    const next = await put('http/2', '"two"')
    await replica.synced(next, AbortSignal.timeout(20_000))
    assert.equal(await replica.get('http/2'), 'two')
    assert.equal(replica.status().lag, 0)
    await stop()
  })

  it('a cold follower takes the head as one CAR; a CAR with an extra, a missing or a wrong block is cut there, the rest fetched block by block', async () => {
    const seq = await put('car/1', '"whole"')
    for (const how of ['honest', 'car-extra', 'car-missing', 'car-wrong'] as const) {
      mode = how
      asked.car = 0
      asked.raw = 0
      const { replica, stop } = await reader([liar])
      await replica.synced(seq, AbortSignal.timeout(20_000))
      assert.equal(await replica.get('car/1'), 'whole', how)
      assert.equal((await replica.get('welcome')) !== undefined, true, how)
      assert.equal(asked.car, 1, how)
      if (how === 'honest') assert.equal(asked.raw, 0, 'everything came in the CAR')
      else assert.ok(asked.raw > 0, `${how}: the blocks after the cut came one by one`)
      await stop()
    }
    mode = 'honest'
  })

  it('refuses a gateway that sends a wrong block, keeping the head it had, and syncs once the block is right', async () => {
    mode = 'honest'
    const { replica, stop } = await reader([liar])
    const seq = (await replica.synced(await put('lie/1', '1'), AbortSignal.timeout(20_000)))?.seq ?? 0
    mode = 'wrong-block'
    lies.blocks = 0
    const next = await put('lie/2', '2')
    // The new head is known (its record is honest) but every block of it is wrong.
    const failed = await eventually('a refused block', async () => replica.status().lastError)
    assert.match(failed, /hash|match|sha/i)
    assert.ok(lies.blocks > 0)
    // The client itself refuses the block: what a store would do with the bytes is not relied on.
    const announced = replica.status().newest?.cid
    assert.ok(announced !== undefined)
    await assert.rejects(new GatewayClient([liar]).block(announced, AbortSignal.timeout(5000)), /do not hash to/)
    assert.equal(replica.head?.seq, seq)
    assert.equal(await replica.get('lie/1'), 1)
    assert.equal(await replica.get('lie/2'), undefined)
    mode = 'honest'
    await replica.synced(next, AbortSignal.timeout(20_000))
    assert.equal(await replica.get('lie/2'), 2)
    await stop()
  })

  it('refuses a record not signed by the store key, and takes the newest good one of several gateways', async () => {
    const key = storePublicKey(store)
    const good = await new GatewayClient([gateway]).announcement(key, store, AbortSignal.timeout(5000))
    const impostor = await createStoreKey()
    forged = (await createAnnouncement(impostor, good.commit, good.seq + 100)).bytes
    mode = 'forged-record'
    await assert.rejects(
      new GatewayClient([liar]).announcement(key, store, AbortSignal.timeout(5000)),
      /not signed by the store key/,
    )
    const chosen: Announcement = await new GatewayClient([liar, gateway]).announcement(
      key,
      store,
      AbortSignal.timeout(5000),
    )
    assert.equal(chosen.seq, good.seq)
    // A follower on the liar alone never takes the forged head: after the liar has answered
    // polls, the newest head it knows is still none.
    const { replica, stop } = await reader([liar])
    lies.records = 0
    await eventually('polls answered by the liar', async () => (lies.records >= 3 ? true : undefined))
    assert.equal(replica.status().newest, null)
    assert.equal(replica.head, null)
    await stop()
    mode = 'honest'
  })

  it('stops reading a block or record past the size an honest one has', async () => {
    const key = storePublicKey(store)
    const head = (await new GatewayClient([gateway]).announcement(key, store, AbortSignal.timeout(5000))).commit
    mode = 'huge'
    const client = new GatewayClient([liar])
    await assert.rejects(client.block(head, AbortSignal.timeout(5000)), /sent more than 1048576 bytes/)
    await assert.rejects(client.announcement(key, store, AbortSignal.timeout(5000)), /sent more than 10240 bytes/)
    mode = 'honest'
  })

  it('keeps the newer head when a gateway serves a stale record', async () => {
    mode = 'honest'
    const key = storePublicKey(store)
    stale = (await new GatewayClient([gateway]).announcement(key, store, AbortSignal.timeout(5000))).bytes
    const seq = await put('stale/1', 'true')
    mode = 'stale-record'
    const newest = await new GatewayClient([liar, gateway]).announcement(key, store, AbortSignal.timeout(5000))
    assert.equal(newest.seq, seq)
    const { replica, stop } = await reader([gateway, liar])
    await replica.synced(seq, AbortSignal.timeout(20_000))
    lies.records = 0
    await eventually('polls answered by the liar', async () => (lies.records >= 3 ? true : undefined))
    assert.equal(replica.head?.seq, seq)
    assert.equal(await replica.get('stale/1'), true)
    await stop()
    mode = 'honest'
  })
})
