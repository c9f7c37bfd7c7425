// Real helia nodes on loopback, in one process: writer and readers converge, refuse bad input,
// and recover from lying peers.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { memoryStorage, openStore } from '@dagsync/store'
import { cidOf } from '@dagsync/tree'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { encodeTopicMessage, MAX_ANNOUNCEMENT_BYTES } from '../src/announcement.ts'
import { loadStoreKey } from '../src/identity.ts'
import {
  createAnnouncement,
  createStoreKey,
  NotAvailableOfflineError,
  SYNC_PROTOCOL,
  UnauthorizedError,
} from '../src/index.ts'
import { entries, startNode, startReader, stopAll, stopNode, violations, waitFor } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

describe('replication', () => {
  it('five readers converge on the writer after bursts of commits', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    const readers = await Promise.all(Array.from({ length: 5 }, () => startReader(writer)))
    const replicas = await Promise.all(readers.map((r) => r.follow(served.id)))
    for (let burst = 0; burst < 3; burst++) {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          served.store.assoc(`b${burst}/k${i}`, { burst, i, text: i % 10 === 0 ? 'x'.repeat(500) : 'y' }),
        ),
      )
      await served.store.dissoc(`b${burst}/k3`)
    }
    const head = served.store.head!
    await Promise.all(replicas.map((replica) => replica.synced(head.seq, AbortSignal.timeout(30_000))))
    const expected = await entries(served.store)
    for (const replica of replicas) {
      assert.ok(replica.head?.cid.equals(head.cid))
      assert.deepEqual(await entries(replica), expected)
      const status = replica.status()
      assert.equal(status.lag, 0)
      assert.equal(status.lastError, undefined)
    }
    assert.equal(expected.length, 117)
  })

  it('fetches everything over bitswap when no peer serves the fast path', async () => {
    const writer = await startNode({ serveSync: false, pushMaxBytes: 0 })
    const served = await writer.createStore()
    await served.store.transact(async (tx) => {
      for (let i = 0; i < 500; i++) await tx.assoc(`k${i}`, { i })
    })
    const reader = await startReader(writer)
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(30_000))
    assert.equal(replica.status().lastSync?.path, 'bitswap')
    assert.ok((replica.status().lastSync?.fetched ?? 0) > 10)
    assert.deepEqual(await entries(replica), await entries(served.store))
    // The next version too, still over bitswap, fetching only the new blocks.
    await served.store.assoc('k7', 'changed')
    await replica.synced(2, AbortSignal.timeout(30_000))
    assert.equal(await replica.get('k7'), 'changed')
    assert.equal(replica.status().lastSync?.path, 'bitswap')
    assert.ok((replica.status().lastSync?.fetched ?? 0) < 10)
  })

  it('refuses forged, stale and oversized announcements, and does not forward them', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    await served.store.assoc('k', 1)
    await served.store.assoc('k', 2)
    const first = await readerThatSees(writer, served.id, 2)
    // A second reader behind the first: what the first refuses must never reach it.
    const second = await startReader(first.node)
    const behind = await second.follow(served.id)
    await behind.synced(2, AbortSignal.timeout(15_000))
    const rejectedBefore = second.stats.announcementsRejected

    const attacker = await startReader(first.node)
    await attacker.follow(served.id)
    await waitFor(
      () => first.node.libp2p.services.pubsub.getSubscribers(first.replica.topic).length >= 3,
      'subscriptions',
    )
    const pubsub = attacker.libp2p.services.pubsub
    // The attacker must know the first reader is subscribed, or it would publish to no one.
    await waitFor(
      () => pubsub.getSubscribers(first.replica.topic).some((p) => p.equals(first.node.peerId)),
      'the attacker seeing the first reader subscribed',
    )
    const forged = await createAnnouncement(await createStoreKey(), cidOf(new Uint8Array(8)), 99)
    // A real announcement, signed by the store key, of an older commit: a replay.
    const stale = await createAnnouncement(
      (await loadStoreKey(writer.storage.datastore, served.id))!,
      (await served.store.at(1)).commit!.cid,
      1,
    )
    const rejected = first.node.stats.announcementsRejected
    await pubsub.publish(first.replica.topic, encodeTopicMessage(forged.bytes))
    await pubsub.publish(first.replica.topic, encodeTopicMessage(new Uint8Array(MAX_ANNOUNCEMENT_BYTES + 1)))
    await pubsub.publish(first.replica.topic, new TextEncoder().encode('not a topic message'))
    await pubsub.publish(first.replica.topic, encodeTopicMessage(stale.bytes))
    await waitFor(
      () => first.node.stats.announcementsRejected >= rejected + 3,
      'the first reader refusing three announcements',
    )
    await waitFor(() => first.node.stats.announcementsStale >= 1, 'the stale one ignored')
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(first.replica.head?.seq, 2, 'state unchanged')
    assert.equal(behind.head?.seq, 2)
    assert.equal(second.stats.announcementsRejected, rejectedBefore, 'refused announcements were not forwarded')
  })

  it('refuses a commit whose seq is not the one its announcement signed, in full and sparse replicas', async () => {
    const writer = await startNode({ pushMaxBytes: 0 })
    const served = await writer.createStore()
    await served.store.assoc('a', 1)
    const full = await readerThatSees(writer, served.id, 1)
    const sparseNode = await startReader(writer)
    const sparse = await sparseNode.follow(served.id, { sparse: true })
    await sparse.synced(1, AbortSignal.timeout(15_000))
    served.stop() // no announcement of its own: the wrong one is the only one
    await served.store.assoc('a', 2)
    // The store's key signed seq 3 for commit 2: a mistake, and never a head to take.
    const key = (await loadStoreKey(writer.storage.datastore, served.id))!
    const wrong = await createAnnouncement(key, served.store.head!.cid, 3)
    for (const replica of [full.replica, sparse]) {
      // A replica that took it would move its head, and then sync again and again toward seq 3.
      const moved = new Promise<never>((_, reject) => {
        replica.store.onHead((head) => reject(new Error(`the head moved to ${head.seq}`)))
      })
      replica.offer(wrong, writer.peerId)
      await Promise.race([
        waitFor(() => /has seq 2, but was announced as 3/.test(replica.status().lastError ?? ''), 'the refusal'),
        moved,
      ])
    }
  })

  it('detects a peer that serves wrong bytes on the fast path and gets the blocks another way', async () => {
    // No pushes: the reader must ask the liar.
    const writer = await startNode({ pushMaxBytes: 0 })
    const served = await writer.createStore()
    await served.store.assoc('a', 'first')
    const liar = await readerThatSees(writer, served.id, 1)
    // The liar answers fast-path requests with one byte flipped in every block.
    await liar.node.libp2p.unhandle(SYNC_PROTOCOL)
    const { serve } = await import('../src/rpc.ts')
    const { syncHandler } = await import('../src/sync.ts')
    const honest = syncHandler(() => liar.replica.store)
    await serve(liar.node.libp2p, SYNC_PROTOCOL, async function* (request) {
      for await (const message of honest(request)) {
        if (message.b instanceof Uint8Array) message.b = Uint8Array.from(message.b, (x, i) => (i === 5 ? x ^ 1 : x))
        yield message
      }
    })
    // Connected to the liar alone: the fast path must be refused, and bitswap finish the job.
    const reader = await startReader(liar.node)
    const replica = await reader.follow(served.id)
    await served.store.assoc('b', 'second')
    await replica.synced(2, AbortSignal.timeout(20_000))
    assert.deepEqual(await entries(replica), [
      ['a', 'first'],
      ['b', 'second'],
    ])
    assert.equal(replica.status().lastSync?.path, 'bitswap', 'nothing the liar sent on the fast path was kept')
  })

  it('fails a sync with a clear error, and changes nothing, when only a liar is reachable', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    await served.store.assoc('a', 1)
    const liar = await readerThatSees(writer, served.id, 1)
    const reader = await startReader(liar.node, { fetchTimeoutMs: 1500 })
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(15_000))
    // The writer goes away and the liar starts lying: it relays a real announcement of a
    // commit it does not have, and answers the fast path with garbage.
    await liar.node.libp2p.unhandle(SYNC_PROTOCOL)
    const { serve } = await import('../src/rpc.ts')
    await serve(liar.node.libp2p, SYNC_PROTOCOL, async function* () {
      yield { c: cidOf(new Uint8Array(1)), b: new Uint8Array(4) }
    })
    await served.store.assoc('a', 2)
    await served.announce()
    const announcement = served.announcement!
    await stopNode(writer)
    await liar.node.libp2p.services.pubsub.publish(liar.replica.topic, encodeTopicMessage(announcement.bytes))
    await waitFor(() => replica.status().lastError !== undefined, 'the sync failing')
    assert.match(
      replica.status().lastError ?? '',
      /SyncFailedError|could not get every block|LoadBlockFailed|HashMismatch/,
    )
    assert.equal(replica.head?.seq, 1, 'the head did not move')
    assert.equal(await replica.get('a'), 1)
    assert.equal(replica.status().newest?.seq, 2)
  })

  it('syncs from the blocks pushed with an announcement, and drops a push that does not check out', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    await served.store.assoc('a', 1)
    const reader = await startReader(writer)
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(10_000))
    await waitFor(
      () => writer.libp2p.services.pubsub.getSubscribers(replica.topic).length > 0,
      'the writer seeing the reader subscribed',
    )
    const requests = writer.stats.syncRequestsServed
    await served.store.transact(async (tx) => {
      for (let i = 0; i < 50; i++) await tx.assoc(`k${i}`, { i })
    })
    await replica.synced(2, AbortSignal.timeout(10_000))
    const pushed = replica.status().lastSync!
    assert.equal(pushed.path, 'push')
    assert.equal(pushed.roundTrips, 0)
    assert.equal(writer.stats.syncRequestsServed, requests, 'the writer was not asked')
    assert.deepEqual(await entries(replica), await entries(served.store))

    // A push whose blocks are wrong (anyone may attach one to a real announcement): dropped
    // whole, and the reader asks a peer instead. The writer stops announcing, so this is the only one.
    served.stop()
    await served.store.assoc('b', 2)
    const head = served.store.head!
    const key = (await loadStoreKey(writer.storage.datastore, served.id))!
    const announcement = await createAnnouncement(key, head.cid, head.seq)
    const bad = { have: replica.head!.tree, messages: [{ b: new Uint8Array([1, 2, 3]) }], bytes: 5 }
    replica.offer(announcement, undefined, bad)
    await replica.synced(3, AbortSignal.timeout(10_000))
    assert.equal(reader.stats.pushesRefused, 1)
    assert.equal(replica.status().lastSync?.path, 'fast')
    assert.equal(await replica.get('b'), 2)
  })

  it('pushes a commit made while the writer was down to a reader that comes back to it', async () => {
    const storage = memoryStorage()
    const privateKey = await generateKeyPair('Ed25519')
    let writer = await startNode({ storage, privateKey })
    const served = await writer.createStore()
    await served.store.assoc('a', 1)
    const reader = await startReader(writer)
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(10_000))
    const listen = writer.addresses.map((address) => address.split('/p2p/')[0])

    // The writer's node stops; a commit is made on its storage directly (as `dagsync put` does
    // while the daemon is down); the node comes back at the same address.
    await stopNode(writer)
    const offline = await openStore({ storage, name: served.id })
    await offline.transact(async (tx) => {
      for (let i = 0; i < 50; i++) await tx.assoc(`k${i}`, { i })
    })
    await offline.close()
    writer = await startNode({ storage, privateKey, listen })
    await writer.serve(served.id)

    // The reader redials and subscribes; the re-announcement carries the blocks against the
    // head's parent, which the reader holds: it catches up without asking.
    await replica.synced(2, AbortSignal.timeout(30_000))
    const report = replica.status().lastSync!
    assert.equal(report.path, 'push')
    assert.equal(report.roundTrips, 0)
    assert.equal(writer.stats.syncRequestsServed, 0)
    assert.deepEqual(await entries(replica), await entries(writer.served(served.id)!.store))
  })

  it('takes writes from readers on the allow-list only', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    await served.store.assoc('owner', 'writer')
    const allowed = await readerThatSees(writer, served.id, 1)
    const refused = await readerThatSees(writer, served.id, 1)
    served.allowWriters([allowed.node.peerId])
    const { commit } = await allowed.replica.transact([
      { op: 'put', key: 'from/reader', value: { hello: true } },
      { op: 'put-in', key: 'owner-info', path: ['name'], value: 'x' },
    ])
    assert.equal(commit?.seq, 2)
    assert.deepEqual(
      await allowed.replica.get('from/reader'),
      { hello: true },
      'the reader holds its own write when the call resolves',
    )
    assert.deepEqual(await served.store.get('owner-info'), { name: 'x' })
    assert.equal((await served.store.at(2)).commit?.meta?.by, allowed.node.peerId.toString())
    await assert.rejects(refused.replica.assoc('intruder', 1), UnauthorizedError)
    await assert.rejects(
      allowed.replica.transact([{ op: 'put-in', key: 'owner', path: ['deep'], value: 1 }]),
      /indexes a map, but the value there is not one/,
    )
    assert.equal(served.store.head?.seq, 2, 'refused writes changed nothing')
    assert.equal(await served.store.exists('intruder'), false)
  })

  it('serves sparse reads from the network, and says clearly when offline', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    await served.store.transact(async (tx) => {
      for (let i = 0; i < 2000; i++) await tx.assoc(`k${String(i).padStart(4, '0')}`, { i })
    })
    const reader = await startReader(writer, { sparseTimeoutMs: 1000 })
    const replica = await reader.follow(served.id, { sparse: true })
    await replica.synced(1, AbortSignal.timeout(15_000))
    assert.deepEqual(await replica.get('k0007'), { i: 7 })
    assert.deepEqual(await replica.get('k1999'), { i: 1999 })
    assert.equal(replica.status().lastSync, undefined, 'a sparse replica does not sync the tree')
    await stopNode(writer)
    assert.deepEqual(await replica.get('k0007'), { i: 7 }, 'what was read stays readable')
    const started = Date.now()
    await assert.rejects(replica.get('k1000'), NotAvailableOfflineError)
    assert.ok(Date.now() - started < 5000)
  })
})

/** A reader of `store` on `writer` that already holds commit `seq`. */
async function readerThatSees(writer: Awaited<ReturnType<typeof startNode>>, store: string, seq: number) {
  const node = await startReader(writer)
  const replica = await node.follow(store)
  await replica.synced(seq, AbortSignal.timeout(15_000))
  return { node, replica }
}
