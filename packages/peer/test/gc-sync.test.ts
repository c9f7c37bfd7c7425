// gc on a reader while it syncs: a sync skips blocks its storage holds, so gc must not delete
// them between that look and the adopt. The interleaving is forced with a gated storage.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { BlockstoreStorage, blockKey, MemoryBlockstore } from '@dagsync/store'
import { MemoryDatastore } from 'datastore-core'
import type { CID } from 'multiformats/cid'
import { startNode, startReader, stopAll, violations } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

/** Memory storage whose `has` for one block answers, then waits at a gate before returning. */
function gatedStorage() {
  const blocks = new MemoryBlockstore()
  let target: string | undefined
  let reached!: () => void
  const atGate = new Promise<void>((resolve) => {
    reached = resolve
  })
  let open!: () => void
  const gate = new Promise<void>((resolve) => {
    open = resolve
  })
  const has = blocks.has.bind(blocks)
  // Storage is asked through the async Blockstore interface; this one answers, then waits.
  const gatedHas = async (cid: CID): Promise<boolean> => {
    const answer = has(cid)
    if (target !== undefined && blockKey(cid) === target) {
      reached()
      await gate
    }
    return answer
  }
  blocks.has = gatedHas as never
  return {
    storage: new BlockstoreStorage(blocks, new MemoryDatastore()),
    hold: (cid: CID) => {
      target = blockKey(cid)
    },
    atGate,
    open,
  }
}

const doc = (tag: string) => ({ tag, pad: 'p'.repeat(400) })

describe('gc on a reader while it syncs', () => {
  it('keeps the stored blocks a sync relies on, so the reader never adopts a head it lacks', async () => {
    // No fast path and no pushes: the reader walks the new tree itself, asking storage what it has.
    const writer = await startNode({ serveSync: false, pushMaxBytes: 0 })
    const served = await writer.createStore()
    const gated = gatedStorage()
    const reader = await startReader(writer, { storage: gated.storage })
    const replica = await reader.follow(served.id)

    await served.store.assoc('doc', doc('A'))
    await replica.synced(1, AbortSignal.timeout(15_000))
    const entry = await served.store.tree.getEntry(served.store.head!.tree, 'doc')
    const blockA = (entry!.stored as { cid: CID }).cid
    await served.store.assoc('doc', doc('B'))
    await replica.synced(2, AbortSignal.timeout(15_000))

    // A comes back: the reader finds A's block in storage, and is held right after it does.
    gated.hold(blockA)
    await served.store.assoc('doc', doc('A'))
    await gated.atGate
    // gc marks from head B, so A's block is garbage to it unless it waits for the sync.
    const gc = replica.store.gc({
      keep: { last: 1 },
      onPhase: (phase) => {
        if (phase === 'waiting') gated.open()
      },
    })
    void gc.then(gated.open, gated.open)
    await gc
    await replica.synced(3, AbortSignal.timeout(15_000))

    assert.deepEqual(await replica.get('doc'), doc('A'))
    const { missing, corrupt } = await replica.store.verify()
    assert.deepEqual([missing.map(String), corrupt], [[], []], 'the adopted head is whole')
  })
})
