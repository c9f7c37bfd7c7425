// A lying peer on loopback: a real node that speaks the sync protocol and gossip with bad
// replies. The reader must stay correct (never adopt a head it cannot read) and bounded.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { encodeTopicMessage } from '../src/announcement.ts'
import type { DagsyncNode, Follower } from '../src/index.ts'
import { createAnnouncement, createStoreKey, loadStoreKey, SYNC_PROTOCOL } from '../src/index.ts'
import { MAX_FRAME_BYTES, type Message, ServeError, serve } from '../src/rpc.ts'
import { newBlockMessages } from '../src/sync.ts'
import { recordingLog, startNode, startReader, stopAll, violations, waitFor } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

/** Replaces `node`'s fast-path handler with `reply`. */
async function answerSyncWith(node: DagsyncNode, reply: (request: Message) => AsyncIterable<Message>): Promise<void> {
  await node.libp2p.unhandle(SYNC_PROTOCOL)
  await serve(node.libp2p, SYNC_PROTOCOL, reply)
}

/** Checks every head `replica` moves to against its storage as it arrives; the result lists them. */
function checkEveryHead(replica: Follower): () => Promise<{ seq: number; missing: number }[]> {
  const checks: Promise<{ seq: number; missing: number }>[] = []
  replica.store.onHead((head) => {
    checks.push(replica.store.verify().then((check) => ({ seq: head.seq, missing: check.missing.length })))
  })
  return async () => Promise.all(checks)
}

/** A store of 300 keys on a writer that pushes nothing, and a liar that follows it (so its bitswap is honest). */
async function storeAndLiar() {
  const writer = await startNode({ pushMaxBytes: 0 })
  const served = await writer.createStore()
  await served.store.transact(async (tx) => {
    for (let i = 0; i < 300; i++) await tx.assoc(`k${i}`, { i, text: 'x'.repeat(i % 40) })
  })
  const liar = await startReader(writer)
  const liarReplica = await liar.follow(served.id)
  await liarReplica.synced(1, AbortSignal.timeout(60_000))
  /** The honest reply to `request`, from the liar's replica. */
  const honest = async (request: Message): Promise<Message[]> => {
    const out: Message[] = []
    for await (const m of newBlockMessages(liarReplica.store, null, request.w as never)) out.push(m)
    return out
  }
  return { writer, served, liar, liarReplica, honest }
}

/** The reader's checks of a finished sync: complete in storage, and the same entries as the writer. */
async function assertComplete(replica: Follower, writerStore: { entries(): AsyncIterable<unknown> }) {
  assert.deepEqual((await replica.store.verify()).missing, [])
  const all = async (source: { entries(): AsyncIterable<unknown> }) => {
    const out: unknown[] = []
    for await (const entry of source.entries()) out.push(entry)
    return out
  }
  assert.deepEqual(await all(replica), await all(writerStore))
}

describe('a lying peer', () => {
  it('sending more than the byte limit of blocks the commit reaches is cut at the limit, and the rest comes over bitswap', async () => {
    // Twelve values of 700 KiB each: all of them reachable, 8.4 MiB in all.
    const writer = await startNode({ pushMaxBytes: 0 })
    const served = await writer.createStore()
    await served.store.transact(async (tx) => {
      for (let i = 0; i < 12; i++) await tx.bassoc(`v${i}`, new Uint8Array(700 * 1024).fill(i + 1))
    })
    const maxBytes = 4 * 1024 * 1024
    const reader = await startReader(writer, { syncMaxBytes: maxBytes, syncTimeoutMs: 60_000 })
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(60_000))
    const report = replica.status().lastSync!
    // What was read before the cut: the limit, and at most the frames in flight.
    assert.ok(report.wireBytes <= maxBytes + 2 * MAX_FRAME_BYTES, `${report.wireBytes} bytes read`)
    assert.equal(report.path, 'mixed')
    await assertComplete(replica, served.store)
  })

  it('sending a block the commit does not reach has it refused as it arrives, before it is kept', async () => {
    const { served, liar, honest } = await storeAndLiar()
    // The commit, then 32 MiB of blocks nothing sent links to, then the real blocks.
    await answerSyncWith(liar, async function* (request) {
      const [commit, ...rest] = await honest(request)
      yield commit
      const junk = new Uint8Array(512 * 1024)
      for (let i = 0; i < 64; i++) {
        junk[0] = i
        yield { b: junk, k: 0x55 }
      }
      yield* rest
    })
    // The default limits (64 MiB) would take all of it: reachability refuses the first.
    const reader = await startReader(liar, { syncTimeoutMs: 60_000 })
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(60_000))
    const report = replica.status().lastSync!
    assert.ok(report.messages <= 2, `${report.messages} messages taken: the commit, then the refused block`)
    assert.ok(report.wireBytes <= 512 * 1024 + 2 * MAX_FRAME_BYTES + 64 * 1024, `${report.wireBytes} bytes read`)
    assert.equal(report.path, 'bitswap')
    await assertComplete(replica, served.store)
  })

  it('sending an endless reply is cut at the block limit, and what it sent that verifies is used', async () => {
    const { served, liar, honest } = await storeAndLiar()
    // Every real block, then small blocks that never end.
    await answerSyncWith(liar, async function* (request) {
      yield* await honest(request)
      for (let i = 0; ; i++) {
        // The liar shares this process with the reader: a real one, elsewhere, would not starve
        // the reader's event loop (here only libp2p's ping monitor aborting the connection did).
        if (i % 256 === 0) await new Promise((resolve) => setImmediate(resolve))
        yield { b: new TextEncoder().encode(`junk ${i}`), k: 0x55 }
      }
    })
    const maxBlocks = 2000
    const reader = await startReader(liar, { syncMaxBlocks: maxBlocks, syncTimeoutMs: 60_000 })
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(60_000))
    const report = replica.status().lastSync!
    assert.equal(report.path, 'fast', 'every real block came on the fast path, before the cut')
    assert.ok(report.messages <= maxBlocks, `${report.messages} messages taken`)
    assert.ok(report.wireBytes <= maxBlocks * 64 + 2 * MAX_FRAME_BYTES + 1024 * 1024, `${report.wireBytes} bytes read`)
    await assertComplete(replica, served.store)
  })

  it('a push over the limits is dropped whole, and the sync goes on', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    await served.store.assoc('a', 1)
    const reader = await startReader(writer, { syncMaxBlocks: 10 })
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(60_000))
    await waitFor(() => writer.libp2p.services.pubsub.getSubscribers(replica.topic).length > 0, 'the reader subscribed')
    // An honest push, of more blocks than the reader takes.
    await served.store.transact(async (tx) => {
      for (let i = 0; i < 300; i++) await tx.assoc(`k${i}`, { i })
    })
    await replica.synced(2, AbortSignal.timeout(60_000))
    assert.equal(reader.stats.pushesRefused, 1)
    assert.notEqual(replica.status().lastSync?.path, 'push')
    await assertComplete(replica, served.store)
  })

  it('sending a fast-path reply that does not start with the commit asked for is dropped at once', async () => {
    const { served, liar, honest } = await storeAndLiar()
    // Every real block, but the commit second: all of it would verify.
    await answerSyncWith(liar, async function* (request) {
      const [commit, first, ...rest] = await honest(request)
      yield first
      yield commit
      yield* rest
    })
    const { log, lines } = recordingLog()
    const reader = await startReader(liar, { log })
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(60_000))
    assert.equal(replica.status().lastSync?.path, 'bitswap', 'nothing of that reply was used')
    assert.ok(
      lines.some((l) => /fast path from .* failed: .*do not hash to/.test(l)),
      'the refusal logged',
    )
    await assertComplete(replica, served.store)
  })

  it('ending a reply with an error does not lose what it sent before', async () => {
    const { served, liar, honest } = await storeAndLiar()
    // Every real block, then an error instead of the end marker (a peer that lacks the rest).
    await answerSyncWith(liar, async function* (request) {
      yield* await honest(request)
      throw new ServeError('incomplete', 'this peer lacks the rest')
    })
    const reader = await startReader(liar)
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(60_000))
    assert.equal(replica.status().lastSync?.fetched, 0, 'no block had to come over bitswap')
    await assertComplete(replica, served.store)
  })

  it('sending a push that does not start with the announced commit has it dropped', async () => {
    const { writer, served, liar, liarReplica } = await storeAndLiar()
    const { log, lines } = recordingLog()
    const reader = await startReader(liar, { log })
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(60_000))
    served.stop() // no announcement: the liar's is the only one
    await served.store.assoc('k1', 'changed')
    const head = served.store.head!
    const messages: Message[] = []
    for await (const m of newBlockMessages(served.store, replica.head!.tree, head.cid)) messages.push(m)
    // Every real block, but the commit second.
    const push = { have: replica.head!.tree, messages: [messages[1], messages[0], ...messages.slice(2)], bytes: 100 }
    const key = (await loadStoreKey(writer.storage.datastore, served.id))!
    const announcement = await createAnnouncement(key, head.cid, head.seq)
    liarReplica.offer(announcement) // the liar holds 2, and serves it honestly on the fast path
    await liarReplica.synced(2, AbortSignal.timeout(60_000))
    replica.offer(announcement, liar.peerId, push)
    await replica.synced(2, AbortSignal.timeout(60_000))
    assert.equal(reader.stats.pushesRefused, 1)
    assert.ok(
      lines.some((l) => /push for .* at 2 refused/.test(l)),
      'the refusal logged',
    )
    assert.equal(replica.status().lastSync?.path, 'fast')
    await assertComplete(replica, served.store)
  })

  it('flooding the topic with bad announcements leaves the reader correct, its checks one at a time', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    await served.store.assoc('a', 1)
    const { log, lines } = recordingLog()
    const reader = await startReader(writer, { log })
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(60_000))
    const attacker = await startReader(reader)
    const pubsub = attacker.libp2p.services.pubsub
    pubsub.subscribe(replica.topic)
    await waitFor(
      () => pubsub.getSubscribers(replica.topic).some((p) => p.equals(reader.peerId)),
      'the attacker seeing the reader',
    )

    // The reader's checks, made slower, as on a loaded machine (or in a browser, where checking a
    // signature is asynchronous): checks that did not wait for each other would pile up here.
    const validators = reader.libp2p.services.pubsub.topicValidators
    const check = validators.get(replica.topic)!
    let pending = 0
    let peak = 0
    validators.set(replica.topic, async (source, message) => {
      peak = Math.max(peak, ++pending)
      try {
        await new Promise((resolve) => setImmediate(resolve))
        return await check(source, message)
      } finally {
        pending--
      }
    })
    // Forged announcements of a far newer head, each with 64 KiB of push, and replays of the real one.
    const forged = await createAnnouncement(await createStoreKey(), served.store.head!.cid, 1000)
    const junk = { have: served.store.head!.tree, messages: [{ b: new Uint8Array(64 * 1024) }], bytes: 0 }
    const replay = encodeTopicMessage(served.announcement!.bytes, junk)
    const rejected = reader.stats.announcementsRejected
    const stale = reader.stats.announcementsStale
    const rounds = 150
    for (let i = 0; i < rounds; i++) {
      await pubsub.publish(replica.topic, encodeTopicMessage(forged.bytes, junk))
      await pubsub.publish(replica.topic, replay)
    }
    await waitFor(
      () =>
        reader.stats.announcementsRejected >= rejected + rounds && reader.stats.announcementsStale >= stale + rounds,
      'every flooded announcement checked',
      // 19 MB through gossipsub: slow on a loaded machine, however correct.
      120_000,
    )
    assert.ok(peak <= 2, `${peak} checks were pending at once`)
    assert.ok(lines.some((l) => /refused an announcement on .*not signed by the store key/.test(l)))
    assert.equal(replica.head?.seq, 1)
    assert.equal(replica.status().newest?.seq, 1, 'nothing forged was taken as newer')
    // And the real writer is still followed.
    await served.store.assoc('a', 2)
    await replica.synced(2, AbortSignal.timeout(60_000))
  })

  it('cannot make a reader adopt a head on a delta whose base only its node cache holds (fast path)', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    await served.store.transact(async (tx) => {
      for (let i = 0; i < 300; i++) await tx.assoc(`k${i}`, { i })
    })
    const head = served.store.head!
    const commit = await served.store.tree.blockBytes(head.cid)
    const root = await served.store.tree.blockBytes(head.tree)
    // The liar holds none of the store: it answers from the writer's store, in this process.
    const liar = await startNode()
    let mode: 'partial' | 'attack' | 'honest' = 'partial'
    await answerSyncWith(liar, async function* () {
      if (mode === 'honest') {
        yield* newBlockMessages(served.store, null, head.cid)
        return
      }
      yield { b: commit }
      if (mode === 'partial') {
        // The root and nothing under it: the reader walks (and caches) the root, then fails.
        yield { b: root }
        return
      }
      // The root again, as a "delta" against the root the reader cached but never stored.
      mode = 'honest'
      yield { d: head.tree.multihash.digest, o: [[0, root.length]] }
    })
    const reader = await startReader(liar, { fetchTimeoutMs: 300 })
    const replica = await reader.follow(served.id)
    const heads = checkEveryHead(replica)
    const key = (await loadStoreKey(writer.storage.datastore, served.id))!
    replica.offer(await createAnnouncement(key, head.cid, head.seq), liar.peerId)
    await waitFor(() => replica.status().lastError !== undefined, 'the first sync failing part-way')
    assert.equal(replica.head, null)
    mode = 'attack'
    // The retry meets the attack, the one after it an honest reply.
    await replica.synced(1, AbortSignal.timeout(60_000))
    assert.deepEqual(await heads(), [{ seq: 1, missing: 0 }], 'every head adopted was complete')
  })

  it('cannot make a reader adopt a head on a delta whose base only its node cache holds (push)', async () => {
    const writer = await startNode({ pushMaxBytes: 0 })
    const served = await writer.createStore()
    await served.store.transact(async (tx) => {
      for (let i = 0; i < 300; i++) await tx.assoc(`k${i}`, { i })
    })
    const reader = await startReader(writer)
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(60_000))
    const heads = checkEveryHead(replica)

    // Commit 2 changes every key, so every node is new. The reader walks its root, as a sync that
    // fails part-way does, and so caches it without storing it.
    served.stop() // no announcement: the liar's is the only one
    await served.store.transact(async (tx) => {
      for (let i = 0; i < 300; i++) await tx.assoc(`k${i}`, { i, again: true })
    })
    const head = served.store.head!
    for await (const _ of replica.store.tree.walk(head.tree, {
      getBlock: (cid) => served.store.tree.blockBytes(cid),
    })) {
      break
    }

    // A push against the tree the reader holds, naming that root as a base.
    const root = await served.store.tree.blockBytes(head.tree)
    const push = {
      have: replica.head!.tree,
      messages: [
        { b: await served.store.tree.blockBytes(head.cid) },
        { d: head.tree.multihash.digest, o: [[0, root.length]] },
      ],
      bytes: root.length,
    }
    const key = (await loadStoreKey(writer.storage.datastore, served.id))!
    replica.offer(await createAnnouncement(key, head.cid, head.seq), undefined, push)
    await replica.synced(2, AbortSignal.timeout(60_000))
    assert.deepEqual(await heads(), [{ seq: 2, missing: 0 }], 'every head adopted was complete')
    assert.equal(reader.stats.pushesRefused, 1)
  })
})
