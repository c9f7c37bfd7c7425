// addHistory: a replica's older commits, added below the oldest it holds without moving its head,
// and refused (changing nothing) unless each is exactly the commit before one it holds.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Block } from '@dagsync/tree'
import { encodeCommit } from '../src/commit.ts'
import { type Commit, memoryStorage, openStore, type Store, StoreError } from '../src/index.ts'

/** The blocks of `commit` (the commit and its tree) that `into` lacks. */
async function blocksOf(source: Store, commit: Commit, into: Store): Promise<Block[]> {
  const blocks: Block[] = [{ cid: commit.cid, bytes: await source.tree.blockBytes(commit.cid) }]
  for await (const block of source.tree.walk(commit.tree, { has: (cid) => into.storage.blockstore.has(cid) }))
    blocks.push(block)
  return blocks
}

async function blockCount(store: Store): Promise<number> {
  let n = 0
  for await (const _ of store.storage.blockstore.getAll()) n++
  return n
}

describe('addHistory', () => {
  it('adds the commit before the oldest held, with its tree, and the head stays', async () => {
    const writer = await openStore({ storage: memoryStorage(), name: 'w' })
    const commits: Commit[] = []
    for (let i = 1; i <= 4; i++) {
      await writer.assoc('k', i)
      await writer.assoc(`other${i}`, i)
      commits.push(writer.head!)
    }
    const replica = await openStore({ storage: memoryStorage(), name: 'r', readOnly: true })
    const head = commits[3]!
    await replica.adopt(head, await blocksOf(writer, head, replica))
    assert.equal((await collectSeqs(replica)).length, 1)

    const before = (await collectCommits(writer))[1]!
    await replica.addHistory(head, before, await blocksOf(writer, before, replica))
    assert.deepEqual(await collectSeqs(replica), [8, 7])
    const fromSecond: number[] = []
    for await (const commit of writer.log({ from: commits[1]! })) fromSecond.push(commit.seq)
    assert.deepEqual(fromSecond, [4, 3, 2, 1], 'the log from a given commit back')
    assert.equal(replica.head?.seq, 8)
    assert.equal(await (await replica.at(7)).get('k'), 4)
    assert.equal(await (await replica.at(7)).get('other4'), undefined)
  })

  it('refuses, changing nothing, a commit that is not the one before a held commit', async () => {
    const writer = await openStore({ storage: memoryStorage(), name: 'w' })
    for (let i = 1; i <= 3; i++) await writer.assoc('k', i)
    const [third, second, first] = await collectCommits(writer)
    const replica = await openStore({ storage: memoryStorage(), name: 'r', readOnly: true })
    await replica.adopt(third!, await blocksOf(writer, third!, replica))
    const held = await blockCount(replica)

    const refuse = async (child: Commit, commit: Commit, blocks: Block[], message: RegExp) => {
      await assert.rejects(replica.addHistory(child, commit, blocks), { name: 'StoreError', message })
      assert.equal(await blockCount(replica), held, 'nothing written')
    }
    // Not the one before: the first commit under the third.
    await refuse(third!, first!, await blocksOf(writer, first!, replica), /is not the one before commit 3/)
    // Another commit with the seq of the one before.
    const other = encodeCommit({ tree: second!.tree, prev: second!.prev, seq: 2, time: second!.time + 1 })
    await refuse(third!, other.commit, [other.block], /is not the one before commit 3/)
    // Below a commit this replica does not hold.
    await refuse(second!, first!, await blocksOf(writer, first!, replica), /commit 2 is not held/)
    // A commit with the right CID for `prev` cannot have another seq; one naming the CID with a wrong seq is refused.
    const forged = encodeCommit({ tree: second!.tree, prev: second!.prev, seq: 5, time: second!.time }).commit
    const child = { ...third!, prev: forged.cid }
    await refuse(child, forged, [], /is not the one before commit 3/)
    // Without the commit block itself.
    const blocks = (await blocksOf(writer, second!, replica)).filter((b) => !b.cid.equals(second!.cid))
    await refuse(third!, second!, blocks, /the commit block is not given/)
    // A writer holds its whole history.
    await assert.rejects(writer.addHistory(third!, second!, []), StoreError)
  })
})

async function collectCommits(store: Store): Promise<Commit[]> {
  const out: Commit[] = []
  for await (const commit of store.log()) out.push(commit)
  return out
}

async function collectSeqs(store: Store): Promise<number[]> {
  return (await collectCommits(store)).map((c) => c.seq)
}
