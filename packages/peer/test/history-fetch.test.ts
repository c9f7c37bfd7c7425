// A replica's older history, fetched on demand (history-fetch.ts), with real helia nodes on
// loopback: a reader that synced cold holds only its head's commit, and fetches the commits
// before it (and the gaps between two syncs) with what their trees need; a key's history then
// reaches the store's first commit. A block that does not match its CID is refused, nothing added.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { type Commit, keyHistory, memoryStorage, openStore, type Store } from '@dagsync/store'
import { fetchOlderCommits } from '../src/history-fetch.ts'
import { startNode, startReader, stopAll, violations } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

async function seqs(store: Store): Promise<number[]> {
  const out: number[] = []
  for await (const commit of store.log()) out.push(commit.seq)
  return out
}

async function history(store: Store, key: string) {
  const entries: string[] = []
  const walk = keyHistory(store, key)
  for (;;) {
    const next = await walk.next()
    if (next.done) return { entries, complete: next.value.complete }
    entries.push(`${next.value.commit.seq} ${next.value.change}`)
  }
}

describe('fetching older history', () => {
  it('reaches back to the first commit, filling the gaps between syncs, and the head stays', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    await served.store.assoc('k', 0) // 1: created
    for (let i = 1; i <= 14; i++) {
      await served.store.assoc('k', i) // 2, 4, ... 28
      // Key history takes a held commit with no parent held as the key's writer when the key's
      // write time is the commit's, and commit times are whole milliseconds: 29 must not share 28's.
      if (i === 14) while (Date.now() <= (served.store.head?.time ?? 0)) await new Promise((r) => setTimeout(r, 1))
      await served.store.assoc(`other${i}`, i) // 3, 5, ... 29
    }
    const reader = await startReader(writer)
    const replica = await reader.follow(served.id)
    await replica.synced(29, AbortSignal.timeout(30_000))
    assert.deepEqual(await seqs(replica.store), [29], 'a cold sync holds only the head commit')
    assert.deepEqual(await history(replica.store, 'k'), { entries: [], complete: false })

    assert.equal(await replica.fetchOlder(10), 10)
    assert.deepEqual(await seqs(replica.store), [29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19])
    assert.equal(await (await replica.store.at(20)).get('k'), 10)
    assert.equal(replica.head?.seq, 29)

    // Three commits the reader does not hear of (off the topic): back on it, it is told of the
    // newest and syncs to it at once, holding 29 and 32, not 30 and 31.
    const pubsub = reader.libp2p.services.pubsub
    pubsub.unsubscribe(replica.topic)
    await served.store.assoc('k', 'x')
    await served.store.assoc('k', 'y')
    await served.store.dissoc('k') // 32: removed
    pubsub.subscribe(replica.topic)
    await replica.synced(32, AbortSignal.timeout(30_000))
    assert.deepEqual((await seqs(replica.store)).slice(0, 2), [32], 'a gap after the head')
    // Which commits the replica holds (a sync may have taken 30 before the reader left the topic).
    let held = 0
    for await (const commit of served.store.log()) if (await replica.store.storage.blockstore.has(commit.cid)) held++
    assert.equal(await replica.fetchOlder(100), 32 - held, 'the gap (31, maybe 30), then 18 down to 1')
    assert.deepEqual(
      await seqs(replica.store),
      Array.from({ length: 32 }, (_, i) => 32 - i),
    )
    const { entries, complete } = await history(replica.store, 'k')
    assert.equal(complete, true)
    assert.deepEqual(entries.slice(0, 3), ['32 removed', '31 changed', '30 changed'])
    assert.equal(entries.at(-1), '1 added')
    assert.equal(entries.length, 18)
    assert.equal(await replica.fetchOlder(5), 0, 'nothing older than the first commit')
    const check = await replica.store.verify()
    assert.deepEqual([check.missing, check.corrupt], [[], []], 'every commit and its tree held whole')
  })

  it('refuses a block that does not match its CID, and adds nothing', async () => {
    const source = await openStore({ storage: memoryStorage(), name: 'w' })
    await source.assoc('k', 1)
    await source.assoc('k', 2)
    const head = source.head as Commit
    const replica = await openStore({ storage: memoryStorage(), name: 'r', readOnly: true })
    const blocks = [{ cid: head.cid, bytes: await source.tree.blockBytes(head.cid) }]
    for await (const block of source.tree.walk(head.tree)) blocks.push(block)
    await replica.adopt(head, blocks)
    // A network that answers every CID with the bytes of another block.
    const liar = { fetch: async () => blocks[0]!.bytes, fetchTimeoutMs: 1000 }
    await assert.rejects(fetchOlderCommits(liar, replica, 1), { name: 'HashMismatchError' })
    assert.deepEqual(await seqs(replica), [2])
  })
})
