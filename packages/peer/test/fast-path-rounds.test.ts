// The fast path on stores larger than one reply: a cold sync past the receive limits goes on in
// bounded rounds, a reply that keeps sending is never cut however long it takes, and one that
// stops is given up after `syncTimeoutMs` of silence. Real nodes on loopback.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { RemoteError } from '../src/errors.ts'
import type { DagsyncNode, ServedStore } from '../src/index.ts'
import { SYNC_PROTOCOL } from '../src/index.ts'
import { call, type Message, serve } from '../src/rpc.ts'
import { MAX_FRONTIER, newBlockMessages } from '../src/sync.ts'
import { startNode, startReader, stopAll, violations } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

/** Everything the reader's replica holds, in order, against the writer's store. */
async function assertSameEntries(a: { entries(): AsyncIterable<unknown> }, b: { entries(): AsyncIterable<unknown> }) {
  const all = async (source: { entries(): AsyncIterable<unknown> }) => {
    const out: unknown[] = []
    for await (const entry of source.entries()) out.push(entry)
    return out
  }
  assert.deepEqual(await all(a), await all(b))
}

/**
 * A writer with `keys` keys of `valueBytes` each, and a relay that follows it (so its bitswap is
 * honest) and whose fast path answers with `reply`, given the honest reply's messages.
 */
async function writerAndRelay(
  keys: number,
  valueBytes: number,
  reply: (honest: Message[]) => AsyncIterable<Message>,
): Promise<{ served: ServedStore; relay: DagsyncNode }> {
  const writer = await startNode({ pushMaxBytes: 0 })
  const served = await writer.createStore()
  await served.store.transact(async (tx) => {
    for (let i = 0; i < keys; i++) await tx.bassoc(`k${i}`, new Uint8Array(valueBytes).fill(i % 251))
  })
  const relay = await startReader(writer)
  const replica = await relay.follow(served.id)
  await replica.synced(1, AbortSignal.timeout(15_000))
  await relay.libp2p.unhandle(SYNC_PROTOCOL)
  await serve(relay.libp2p, SYNC_PROTOCOL, async function* (request) {
    const honest: Message[] = []
    for await (const m of newBlockMessages(replica.store, null, request.w as never)) honest.push(m)
    yield* reply(honest)
  })
  return { served, relay }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('the fast path on a large store', () => {
  it('syncs a store larger than the receive byte limit in several rounds, all on the fast path', async () => {
    const writer = await startNode({ pushMaxBytes: 0 })
    const served = await writer.createStore()
    await served.store.transact(async (tx) => {
      for (let i = 0; i < 4000; i++) await tx.assoc(`key/${i}`, { i, text: 'y'.repeat(i % 60) })
    })
    const { bytes } = await served.store.verify()
    // A quarter of the store's blocks at a time.
    const maxBytes = Math.ceil(bytes / 4)
    const reader = await startReader(writer, { syncMaxBytes: maxBytes })
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(30_000))
    const report = replica.status().lastSync!
    assert.equal(report.path, 'fast', 'no block came over bitswap')
    assert.equal(report.fetched, 0)
    assert.ok(report.roundTrips >= 4, `${report.roundTrips} rounds for 4 times the limit`)
    assert.ok(report.wireBytes > maxBytes, `${report.wireBytes} bytes on the wire, past the ${maxBytes}-byte limit`)
    assert.deepEqual((await replica.store.verify()).missing, [])
    await assertSameEntries(replica, served.store)
  })

  it('keeps taking a reply that sends slowly but steadily, for longer than syncTimeoutMs', async () => {
    const idleMs = 1500
    // Twelve values of 200 KiB: each is a frame of its own, sent 300 ms after the one before
    // (a frame goes out when the next message is made), 3.6 s in all. The margin is for a loaded machine.
    const { served, relay } = await writerAndRelay(12, 200 * 1024, async function* (honest) {
      for (const message of honest) {
        if (message.b instanceof Uint8Array && message.b.length > 100 * 1024) await sleep(300)
        yield message
      }
    })
    const reader = await startReader(relay, { syncTimeoutMs: idleMs })
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(30_000))
    const report = replica.status().lastSync!
    assert.ok(report.phases.receive > idleMs, `the reply took ${report.phases.receive} ms, past ${idleMs} ms`)
    assert.equal(report.path, 'fast', 'nothing was fetched over bitswap: the reply was not cut')
    await assertSameEntries(replica, served.store)
  })

  it('gives up a reply that stops sending midway after syncTimeoutMs, and fetches the rest over bitswap', async () => {
    const idleMs = 1500
    let stalled = false
    const { served, relay } = await writerAndRelay(12, 200 * 1024, async function* (honest) {
      yield* honest.slice(0, 6)
      stalled = true
      // Never ends: the stream stays open and silent.
      await new Promise(() => {})
    })
    const reader = await startReader(relay, { syncTimeoutMs: idleMs, fetchTimeoutMs: 5000 })
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(30_000))
    const report = replica.status().lastSync!
    assert.ok(stalled, 'the reply stalled')
    assert.equal(report.path, 'mixed', 'what came before the stall was used, the rest fetched')
    assert.ok(report.fetched > 0)
    assert.ok(report.phases.receive >= idleMs, `gave up after ${report.phases.receive} ms of receiving`)
    await assertSameEntries(replica, served.store)
  })

  it('refuses a later round asking for more than MAX_FRONTIER blocks, with bad-request', async () => {
    const writer = await startNode({ pushMaxBytes: 0 })
    const served = await writer.createStore()
    await served.store.assoc('a', 1)
    const asker = await startReader(writer)
    const head = served.store.head!
    const ask = async (n: number) => {
      const replies = call(asker.libp2p, writer.peerId, SYNC_PROTOCOL, {
        s: served.id,
        h: null,
        w: head.cid,
        f: Array.from({ length: n }, () => head.tree),
      })
      const out: Message[] = []
      for await (const message of replies) out.push(message)
      return out
    }
    assert.ok((await ask(MAX_FRONTIER)).length >= 1, 'the most it may ask for is answered')
    await assert.rejects(
      ask(MAX_FRONTIER + 1),
      (err: unknown) => err instanceof RemoteError && err.code === 'bad-request',
    )
  })
})
