// A cold sync's reply is the commit, then its tree's blocks as stored, wave by wave (sync.ts):
// whatever the tree holds, the reader gets all of it on the fast path.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { entries, startNode, startReader, stopAll, violations } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

describe('cold sync', () => {
  it('takes a store of nodes, value blocks and chunks whole on the fast path', async () => {
    const writer = await startNode({ pushMaxBytes: 0 })
    const served = await writer.createStore()
    await served.store.transact(async (tx) => {
      for (let i = 0; i < 2000; i++) await tx.assoc(`k${i}`, { i })
      await tx.assoc('large', { text: 'x'.repeat(4000) })
      await tx.assoc('bytes', new Uint8Array(600_000).fill(7))
    })
    const reader = await startReader(writer)
    const replica = await reader.follow(served.id)
    await replica.synced(served.store.head?.seq ?? 0, AbortSignal.timeout(30_000))
    assert.equal(replica.status().lastSync?.path, 'fast')
    assert.deepEqual(await entries(replica), await entries(served.store))
  })

  it('takes a store whose head is the empty tree on the fast path', async () => {
    const writer = await startNode({ pushMaxBytes: 0 })
    const served = await writer.createStore()
    await served.store.assoc('a', 1)
    await served.store.dissoc('a')
    const reader = await startReader(writer)
    const replica = await reader.follow(served.id)
    await replica.synced(2, AbortSignal.timeout(30_000))
    assert.equal(replica.status().lastSync?.path, 'fast')
    assert.deepEqual(await entries(replica), [])
  })
})
