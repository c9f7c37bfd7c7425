import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Block } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import { blockKey, dagLinks, memoryStorage, openStore, WholeDagWriter, walkDag } from '../src/index.ts'

/** A store's head DAG (commit, tree, values), parents first as a CAR holds it, with each block's links. */
async function headDag(): Promise<{ root: CID; blocks: (Block & { links: readonly CID[] })[] }> {
  const source = await openStore({ storage: memoryStorage() })
  await source.transact(async (tx) => {
    for (let i = 0; i < 400; i++) await tx.assoc(`k${i}`, { i, pad: i % 5 === 0 ? 'x'.repeat(300) : '' })
  })
  const root = source.head!.cid
  const blocks = []
  for await (const block of walkDag(
    async (cid) => ((await source.storage.blockstore.has(cid)) ? read(source, cid) : undefined),
    [root],
  ))
    blocks.push(block)
  return { root, blocks }
}

async function read(store: Awaited<ReturnType<typeof openStore>>, cid: CID): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of store.storage.blockstore.get(cid)) parts.push(part)
  return Buffer.concat(parts)
}

/** Memory storage that checks, at every commit, that each block's links are stored or in the same batch. */
function checkedStorage(rootKeys: Set<string>) {
  const storage = memoryStorage()
  const commit = storage.commit.bind(storage)
  const broken: string[] = []
  storage.commit = async (blocks, heads) => {
    const batch = new Set(blocks.map((b) => blockKey(b.cid)))
    for (const { cid, bytes } of blocks) {
      for (const link of dagLinks(cid, bytes, rootKeys.has(blockKey(cid)))) {
        if (!batch.has(blockKey(link)) && !(await storage.blockstore.has(link))) broken.push(`${cid} -> ${link}`)
      }
    }
    await commit(blocks, heads)
  }
  return { storage, broken }
}

describe('WholeDagWriter', () => {
  it('writes a DAG given parents first so that every write leaves only whole DAGs', async () => {
    const { root, blocks } = await headDag()
    const { storage, broken } = checkedStorage(new Set([blockKey(root)]))
    const writer = new WholeDagWriter(storage, { batchSize: 16 })
    for (const block of blocks) await writer.add(block, block.links)
    assert.deepEqual(await writer.finish(), [])
    assert.equal(writer.written, blocks.length)
    assert.deepEqual(broken, [])
    for (const { cid } of blocks) assert.ok(await storage.blockstore.has(cid))
  })

  it('leaves out, and reports, the blocks whose DAG never completes', async () => {
    const { root, blocks } = await headDag()
    const { storage, broken } = checkedStorage(new Set([blockKey(root)]))
    const writer = new WholeDagWriter(storage, { batchSize: 16 })
    // The last block of the walk never arrives: everything above it waits.
    const lost = blocks[blocks.length - 1]
    for (const block of blocks.slice(0, -1)) await writer.add(block, block.links)
    const left = await writer.finish()
    assert.deepEqual(broken, [])
    assert.ok(
      left.some((cid) => cid.equals(root)),
      'the root waits for the lost block',
    )
    assert.equal(await storage.blockstore.has(root), false)
    assert.equal(await storage.blockstore.has(lost.cid), false)
    assert.equal(writer.written + left.length, blocks.length - 1)
    assert.ok(writer.written > 0, 'subtrees that are whole are written')
  })

  it('counts links already in storage as whole', async () => {
    const { root, blocks } = await headDag()
    const { storage, broken } = checkedStorage(new Set([blockKey(root)]))
    // The lower half is already stored (as whole subtrees would be).
    const half = Math.floor(blocks.length / 2)
    await storage.commit(blocks.slice(half), new Map())
    const writer = new WholeDagWriter(storage)
    for (const block of blocks.slice(0, half)) await writer.add(block, block.links)
    assert.deepEqual(await writer.finish(), [])
    assert.deepEqual(broken, [])
  })
})
