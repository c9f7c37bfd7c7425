// A lying peer on loopback: a real node that speaks the sync protocol and gossip with bad
// replies. The reader must stay correct (never adopt a head it cannot read) and bounded.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { DagsyncNode, Follower } from '../src/index.ts'
import { createAnnouncement, loadStoreKey, SYNC_PROTOCOL } from '../src/index.ts'
import { type Message, serve } from '../src/rpc.ts'
import { newBlockMessages } from '../src/sync.ts'
import { startNode, startReader, stopAll, violations, waitFor } from './helpers.ts'

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

describe('a lying peer', () => {
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
    await replica.synced(1, AbortSignal.timeout(15_000))
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
    await replica.synced(1, AbortSignal.timeout(15_000))
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
    await replica.synced(2, AbortSignal.timeout(15_000))
    assert.deepEqual(await heads(), [{ seq: 2, missing: 0 }], 'every head adopted was complete')
    assert.equal(reader.stats.pushesRefused, 1)
  })
})
