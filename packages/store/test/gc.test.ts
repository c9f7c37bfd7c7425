import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cidOf } from '@dagsync/tree'
import { MemoryBlockstore } from 'blockstore-core'
import { MemoryDatastore } from 'datastore-core'
import type { CID } from 'multiformats/cid'
import { BlockstoreStorage, CommitNotFoundError, memoryStorage, openStore, type Store } from '../src/index.ts'

const id = (cid: CID): string => Buffer.from(cid.multihash.bytes).toString('hex')

async function blockIds(storage: BlockstoreStorage): Promise<Set<string>> {
  const ids = new Set<string>()
  for await (const { cid } of storage.blockstore.getAll()) ids.add(id(cid))
  return ids
}

/** Every block reachable from a commit's tree (not its history), by multihash. */
async function reachable(store: Store, version: number): Promise<Set<string>> {
  const view = await store.at(version)
  const ids = new Set<string>([id(view.commit!.cid)])
  for await (const block of store.tree.walk(view.root)) ids.add(id(block.cid))
  return ids
}

async function contents(store: Store, version: number): Promise<unknown[]> {
  const out: unknown[] = []
  for await (const e of (await store.at(version)).entries()) out.push([e.key, e.value])
  return out
}

async function twentyCommits(store: Store): Promise<void> {
  for (let i = 1; i <= 20; i++) {
    await store.transact(async (tx) => {
      await tx.assoc(`k${i % 7}`, { i, pad: 'x'.repeat(300) }) // out of line: one value block each
      await tx.assoc('counter', i)
    })
  }
}

describe('garbage collection', () => {
  it('keeps the last N versions readable and deletes what only older versions used', async () => {
    const storage = memoryStorage()
    const db = await openStore({ storage })
    await twentyCommits(db)
    const expected = await Promise.all([16, 17, 18, 19, 20].map((v) => contents(db, v)))
    const keep = new Set<string>()
    for (const v of [16, 17, 18, 19, 20]) for (const id of await reachable(db, v)) keep.add(id)
    const before = await blockIds(storage)

    const result = await db.gc({ keep: { last: 5 } })

    assert.equal(result.commits, 5)
    assert.deepEqual(await Promise.all([16, 17, 18, 19, 20].map((v) => contents(db, v))), expected)
    await assert.rejects(db.at(15), CommitNotFoundError)
    const after = await blockIds(storage)
    assert.deepEqual([...after].sort(), [...keep].sort(), 'exactly the retained versions’ blocks remain')
    assert.equal(result.deletedBlocks, before.size - after.size)
    assert.ok(result.deletedBytes > 0)
    const log = []
    for await (const c of db.log()) log.push(c.seq)
    assert.deepEqual(log, [20, 19, 18, 17, 16], 'history ends at the oldest retained commit')
  })

  it('keeps versions by time, and by default keeps every version', async () => {
    let clock = 0
    const storage = memoryStorage()
    const db = await openStore({ storage, now: () => (clock += 1000) })
    await twentyCommits(db)
    // Garbage no commit reaches: only this goes by default.
    const stray = new TextEncoder().encode('stray block')
    await storage.blockstore.put(cidOf(stray, 0x55), stray)
    const everything = await db.gc()
    assert.equal(everything.commits, 20)
    assert.equal(everything.deletedBlocks, 1)
    assert.equal((await contents(db, 1)).length, 2)
    const bySince = await db.gc({ keep: { since: 15_000 } })
    assert.equal(bySince.commits, 6) // times 15,000 .. 20,000
    await assert.rejects(db.at(14), CommitNotFoundError)
    assert.equal((await contents(db, 15)).length, 8) // k0..k6 and counter
  })

  it('keeps pinned roots and the blocks of every store in the storage', async () => {
    const storage = memoryStorage()
    const a = await openStore({ storage, name: 'a' })
    const b = await openStore({ storage, name: 'b' })
    await twentyCommits(a)
    await twentyCommits(b)
    const pinned = (await a.at(3)).commit!.cid
    await storage.pin({ cid: pinned, time: Date.now(), name: 'a@3' })
    const version3 = await contents(a, 3)
    await a.gc({ keep: { last: 1 } })
    // The chain to it is gone (at(3) by seq cannot find it), but by CID it is all there.
    await assert.rejects(a.at(3), CommitNotFoundError)
    const kept = []
    for await (const e of (await a.at(pinned)).entries()) kept.push([e.key, e.value])
    assert.deepEqual(kept, version3, 'a pinned commit keeps its tree')
    assert.equal(await (await b.at(20)).get('counter'), 20, 'the other store’s head is kept')
    await assert.rejects(a.at(10), CommitNotFoundError)
    await storage.unpin(pinned)
    await a.gc({ keep: { last: 1 } })
    await assert.rejects(a.at(pinned), CommitNotFoundError)
  })

  it('never deletes what readers and writers use while it runs', async () => {
    // A blockstore that answers each read a little later, so reads, writes and gc interleave.
    const memory = new MemoryBlockstore()
    const slow = Object.assign(Object.create(memory), {
      async *get(cid: CID) {
        await new Promise((resolve) => setTimeout(resolve, 1))
        yield* memory.get(cid)
      },
    })
    const storage = new BlockstoreStorage(slow, new MemoryDatastore())
    const db = await openStore({ storage, cacheBytes: 1 })
    await twentyCommits(db)
    const retained = await contents(db, 20)
    let reads = 0
    let writes = 0
    const gc = db.gc({ keep: { last: 1 } })
    let done = false
    void gc.finally(() => {
      done = true
    })
    while (!done) {
      assert.deepEqual(await contents(db, 20), retained)
      reads++
      await db.assoc(`during-${writes}`, writes)
      writes++
    }
    await gc
    assert.ok(reads > 0 && writes > 0, 'gc overlapped reads and writes')
    const { missing, corrupt } = await db.verify()
    assert.deepEqual([missing, corrupt], [[], []], 'every block of the head is still there')
    for (let i = 0; i < writes; i++) assert.equal(await db.get(`during-${i}`), i)
  })
})

describe('verify', () => {
  it('reports missing and corrupt blocks', async () => {
    const storage = memoryStorage()
    const db = await openStore({ storage })
    for (let i = 0; i < 200; i++) await db.assoc(`key-${i}`, { i, text: 'v'.repeat(i % 3 === 0 ? 400 : 4) })
    assert.deepEqual((await db.verify()).missing, [])
    // Two out-of-line values (keys 0 and 3 hold 400-character texts): one lost, one damaged.
    const valueBlock = async (key: string): Promise<CID> => {
      const entry = await db.tree.getEntry(db.head!.tree, key)
      assert.equal(entry?.stored.kind, 'block')
      return (entry!.stored as { cid: CID }).cid
    }
    const lost = await valueBlock('key-0')
    const damaged = await valueBlock('key-3')
    const bytes = []
    for await (const chunk of storage.blockstore.get(damaged)) bytes.push(...chunk)
    await storage.blockstore.delete(lost)
    await storage.blockstore.put(damaged, Uint8Array.from(bytes.slice(0, -1)))
    const { blocks, missing, corrupt } = await db.verify()
    assert.deepEqual(missing.map(String), [lost.toString()])
    assert.deepEqual(corrupt.map(String), [damaged.toString()])
    assert.ok(blocks > 60)
  })
})
