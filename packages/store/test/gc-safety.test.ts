// gc against what runs beside it and against damaged storage: each test forces its interleaving
// through gc's phase hook or a gated storage, never by timing.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cidOf } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import { GcAbortedError, memoryStorage, openStore, type Store } from '../src/index.ts'

async function blockCount(store: Store): Promise<number> {
  let n = 0
  for await (const _ of store.storage.blockstore.getAll()) n++
  return n
}

async function valueBlock(store: Store, key: string): Promise<CID> {
  const entry = await store.tree.getEntry(store.head!.tree, key)
  assert.equal(entry?.stored.kind, 'block', `${key} is stored out of line`)
  return (entry!.stored as { cid: CID }).cid
}

const big = (tag: string) => ({ tag, pad: 'p'.repeat(400) })

describe('gc beside writes', () => {
  it('keeps the blocks of commits made between its marking and its sweep, old blocks they reuse included', async () => {
    const db = await openStore({ storage: memoryStorage() })
    await db.assoc('doc', big('A'))
    const blockA = await valueBlock(db, 'doc')
    await db.assoc('doc', big('B'))
    const binaries = [40_000, 300_000, 1_500_000].map((n, i) => new Uint8Array(n).fill(i + 1))

    const result = await db.gc({
      keep: { last: 1 },
      onPhase: async (phase) => {
        if (phase !== 'marked') return
        // gc has marked from head B and listed A's block as garbage; now A comes back.
        await db.assoc('doc', big('A'))
        for (let i = 0; i < binaries.length; i++) await db.bassoc(`bin-${i}`, binaries[i])
        for (let i = 0; i < 20; i++) await db.assoc(`plain-${i}`, i)
      },
    })

    assert.ok((await valueBlock(db, 'doc')).equals(blockA))
    assert.deepEqual(await db.get('doc'), big('A'))
    for (let i = 0; i < binaries.length; i++) {
      const value = await db.bget(`bin-${i}`)
      assert.ok(value !== undefined)
      const chunks: Uint8Array[] = []
      for await (const chunk of value.stream()) chunks.push(chunk)
      assert.deepEqual(Buffer.concat(chunks), Buffer.from(binaries[i]))
    }
    for (let i = 0; i < 20; i++) assert.equal(await db.get(`plain-${i}`), i)
    const { missing, corrupt } = await db.verify()
    assert.deepEqual([missing, corrupt], [[], []])
    assert.ok(result.deletedBlocks >= 1, 'the first commit’s root was collected')
  })
})

describe('gc on damaged storage', () => {
  async function twoStores() {
    const storage = memoryStorage()
    const a = await openStore({ storage, name: 'a' })
    const b = await openStore({ storage, name: 'b' })
    for (let i = 0; i < 30; i++) {
      await a.assoc(`k${i}`, big(`a${i}`))
      await b.assoc(`k${i}`, big(`b${i}`))
    }
    return { storage, a, b }
  }

  it('stops before deleting anything when a store’s head commit is missing', async () => {
    const { storage, a, b } = await twoStores()
    await storage.blockstore.delete(a.head!.cid)
    const before = await blockCount(b)
    await assert.rejects(b.gc(), (err: Error) => {
      assert.ok(err instanceof GcAbortedError)
      assert.match(err.message, /store a: its head commit .* is missing/)
      return true
    })
    assert.equal(await blockCount(b), before, 'nothing deleted')
  })

  it('stops before deleting anything when a store’s head is not a commit', async () => {
    const { storage, a, b } = await twoStores()
    await storage.blockstore.put(a.head!.cid, new TextEncoder().encode('not cbor at all'))
    const before = await blockCount(b)
    await assert.rejects(b.gc({ keep: { last: 1 } }), GcAbortedError)
    assert.equal(await blockCount(b), before)
  })

  it('stops before deleting anything when a block a kept commit reaches is missing', async () => {
    const { a, b } = await twoStores()
    await a.storage.blockstore.delete(await valueBlock(a, 'k7'))
    const before = await blockCount(b)
    await assert.rejects(b.gc({ keep: { last: 1 } }), (err: Error) => {
      assert.ok(err instanceof GcAbortedError)
      assert.match(err.message, /is missing/)
      return true
    })
    assert.equal(await blockCount(b), before)
  })

  it('stops before deleting anything when a pinned block is missing', async () => {
    const { storage, b } = await twoStores()
    const stray = new TextEncoder().encode('never stored')
    await storage.pin({ cid: cidOf(stray, 0x55), time: 0 })
    const before = await blockCount(b)
    await assert.rejects(b.gc({ keep: { last: 1 } }), GcAbortedError)
    assert.equal(await blockCount(b), before)
  })

  it('still treats a missing older commit as history collected before', async () => {
    const { a } = await twoStores()
    await a.gc({ keep: { last: 3 } })
    const second = await a.gc({ keep: { last: 3 } })
    assert.equal(second.deletedBlocks, 0)
    assert.equal(second.commits, 6)
  })
})
