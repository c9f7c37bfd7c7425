// Counting: a subtree's count is kept by CID, so a count after a small change opens only the
// nodes the change made, and the kept counts stay bounded.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryBlockstore } from 'blockstore-core'
import type { CID } from 'multiformats/cid'
import { SubtreeCounts } from '../src/count.ts'
import { MerkleSearchTree } from '../src/index.ts'
import { collect } from './helpers.ts'

/** A blockstore that counts reads. */
class CountingBlockstore extends MemoryBlockstore {
  reads = 0
  override get(cid: CID, options?: Parameters<MemoryBlockstore['get']>[1]) {
    this.reads++
    return super.get(cid, options)
  }
}

/** A blockstore whose reads take a turn of the event loop, as IndexedDB's do; it counts reads in flight. */
class SlowBlockstore extends MemoryBlockstore {
  inFlight = 0
  maxInFlight = 0
  override async *get(cid: CID, options?: Parameters<MemoryBlockstore['get']>[1]) {
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    await new Promise((resolve) => setTimeout(resolve, 1))
    this.inFlight--
    yield* super.get(cid, options)
  }
}

const key = (i: number) => `k${String(i).padStart(6, '0')}`

describe('count', () => {
  it('opens only the changed nodes when counting again after a commit', async () => {
    const blockstore = new CountingBlockstore()
    // No node cache: every node opened is a read.
    const tree = new MerkleSearchTree(blockstore, { cacheBytes: 0 })
    const a = await tree.build(Array.from({ length: 20_000 }, (_, i) => ({ key: key(i), value: { i } })))
    const nodes = (await collect(tree.walk(a))).length
    blockstore.reads = 0
    assert.equal(await tree.count(a), 20_000)
    assert.equal(blockstore.reads, nodes, 'the first count opens every node')
    const b = await tree.batch(a, [
      { type: 'put', key: 'new', value: 1 },
      { type: 'delete', key: key(7) },
    ])
    const changed = (await collect(tree.newBlocks(a, b))).length
    blockstore.reads = 0
    assert.equal(await tree.count(b), 20_000)
    assert.ok(blockstore.reads <= changed, `${blockstore.reads} reads for ${changed} changed nodes of ${nodes}`)
    // A range opens the nodes along its two edges; the subtrees between are counted already.
    blockstore.reads = 0
    assert.equal(await tree.count(b, { gte: key(100), lt: key(19_000) }), 18_900)
    assert.ok(blockstore.reads < 20, `${blockstore.reads} reads for a range`)
  })

  it('reads a node’s children together, not one after another', async () => {
    const blockstore = new SlowBlockstore()
    const writer = new MerkleSearchTree(blockstore)
    const root = await writer.build(Array.from({ length: 5_000 }, (_, i) => ({ key: key(i), value: { i } })))
    // A cold tree over the same blocks, as a page's replica is after a reload.
    const reader = new MerkleSearchTree(blockstore)
    assert.equal(await reader.count(root), 5_000)
    assert.ok(blockstore.maxInFlight >= 8, `at most ${blockstore.maxInFlight} reads at once`)
  })

  it('keeps at most its bound of counts, forgetting the oldest first', () => {
    const counts = new SubtreeCounts(2)
    const cids = [1, 2, 3].map((n) => ({ bytes: Uint8Array.of(n) }) as unknown as CID)
    for (const [i, cid] of cids.entries()) counts.set(cid, i)
    assert.equal(counts.size, 2)
    assert.equal(counts.get(cids[0]!), undefined)
    assert.equal(counts.get(cids[2]!), 2)
  })
})
