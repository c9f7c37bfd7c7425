// Differential tests: at bitsPerLevel 2 with CID values, root CIDs must equal @atproto/repo's MST.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryBlockstore as AtprotoBlockstore, MST } from '@atproto/repo'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import { cidOf, keyLevel } from '../src/index.ts'
import { bytes, newTree } from './helpers.ts'

const recordCid = (n: number): CID => cidOf(bytes(`record ${n}`))

/** atproto keys are `collection/rkey` with a restricted alphabet. */
const rkeyArb = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split('')),
  minLength: 1,
  maxLength: 10,
})

async function atprotoRoot(entries: { key: string; value: CID }[], deletions: string[] = []): Promise<CID> {
  let mst = await MST.create(new AtprotoBlockstore(), [])
  for (const { key, value } of entries) mst = await mst.add(key, value)
  for (const key of deletions) mst = await mst.delete(key)
  return CID.parse((await mst.getPointer()).toString())
}

async function ourRoots(
  entries: { key: string; value: CID }[],
  deletions: string[] = [],
): Promise<{ incremental: CID; built: CID }> {
  const { tree } = newTree({ bitsPerLevel: 2 })
  let incremental = tree.emptyRoot
  for (const { key, value } of entries) incremental = await tree.put(incremental, key, value)
  for (const key of deletions) incremental = await tree.delete(incremental, key)
  const deleted = new Set(deletions)
  const remaining = entries
    .filter((e) => !deleted.has(e.key))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return { incremental, built: await tree.build(remaining) }
}

async function assertSameRoots(entries: { key: string; value: CID }[], deletions: string[] = []): Promise<void> {
  const expected = await atprotoRoot(entries, deletions)
  const { incremental, built } = await ourRoots(entries, deletions)
  assert.equal(incremental.toString(), expected.toString(), 'incremental root equals atproto')
  assert.equal(built.toString(), expected.toString(), 'built root equals atproto')
}

/** Finds `count` keys of the given level (bitsPerLevel 2), trying `com.example/k<n>` in order. */
function keysAtLevel(level: number, count: number, from = 0): string[] {
  const out: string[] = []
  for (let n = from; out.length < count; n++) {
    const key = `com.example/k${n}`
    if (keyLevel(bytes(key), 2) === level) out.push(key)
  }
  return out
}

describe('byte-identical to @atproto/repo MST at bitsPerLevel 2', () => {
  it('matches on random key sets, insertion orders and deletions', async () => {
    const setArb = fc.uniqueArray(fc.tuple(fc.constantFrom('app.bsky.feed.post', 'com.example', 'x'), rkeyArb), {
      selector: ([c, r]) => `${c}/${r}`,
      maxLength: 120,
    })
    await fc.assert(
      fc.asyncProperty(setArb, fc.array(fc.nat()), async (pairs, deletePicks) => {
        const entries = pairs.map(([c, r], i) => ({ key: `${c}/${r}`, value: recordCid(i) }))
        const deletions = [...new Set(deletePicks.map((p) => entries[p % Math.max(1, entries.length)]?.key))].filter(
          (k): k is string => k !== undefined,
        )
        await assertSameRoots(entries, deletions)
      }),
      { numRuns: 60 },
    )
  })

  it('matches on the empty tree', async () => {
    await assertSameRoots([])
  })

  it('matches after deleting every key', async () => {
    const entries = Array.from({ length: 50 }, (_, i) => ({ key: `com.example/k${i}`, value: recordCid(i) }))
    await assertSameRoots(
      entries,
      entries.map((e) => e.key),
    )
    const { tree } = newTree({ bitsPerLevel: 2 })
    const { incremental } = await ourRoots(
      entries,
      entries.map((e) => e.key),
    )
    assert.ok(incremental.equals(tree.emptyRoot))
  })

  it('matches when an insert splits a subtree two levels down', async () => {
    // Level-0 keys on both sides of a new level-2 key, under a level-1 key: the split cuts through two levels.
    const low = keysAtLevel(0, 30)
    const mid = keysAtLevel(1, 4)
    const high = keysAtLevel(2, 1)
    const base = [...low, ...mid].map((key, i) => ({ key, value: recordCid(i) }))
    await assertSameRoots([...base, { key: high[0], value: recordCid(999) }])
    await assertSameRoots([{ key: high[0], value: recordCid(999) }, ...base])
  })

  it('matches when a new key lands two levels above every other key', async () => {
    const low = keysAtLevel(0, 20).map((key, i) => ({ key, value: recordCid(i) }))
    const [high] = keysAtLevel(2, 1)
    await assertSameRoots([...low, { key: high, value: recordCid(100) }])
    // ... and removing it again brings the tree back down two levels.
    await assertSameRoots([...low, { key: high, value: recordCid(100) }], [high])
  })

  it('leaves the root as it is when deleting an absent key above the top level, alone or in a batch', async () => {
    const low = keysAtLevel(0, 20).map((key, i) => ({ key, value: recordCid(i) }))
    const [high] = keysAtLevel(2, 1)
    const { tree } = newTree({ bitsPerLevel: 2 })
    const root = await tree.build([...low].sort((a, b) => (a.key < b.key ? -1 : 1)))
    assert.ok((await tree.delete(root, high)).equals(root))
    // With a put below it in the same batch, only the put shows.
    const changed = await tree.batch(root, [
      { type: 'delete', key: high },
      { type: 'put', key: low[3].key, value: recordCid(500) },
    ])
    assert.ok(changed.equals(await tree.put(root, low[3].key, recordCid(500))))
  })
})
