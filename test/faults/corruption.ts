// Damaged storage: blocks a head reaches are flipped or removed, one at a time, in a real LevelDB.
// verify() must report each, and gc must never delete anything a head reaches because of it.
import { join } from 'node:path'
import { openStore, readBlock, type Store, walkDag } from '@dagsync/store'
import { openLevelStorage } from '@dagsync/store/level'
import type { CID } from 'multiformats/cid'
import type { Scratch } from '../cli-helpers.ts'
import { type FaultResult, result } from './report.ts'

/** A small deterministic generator (mulberry32), so a failing round can be run again. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function headBlocks(store: Store): Promise<CID[]> {
  const cids: CID[] = []
  for await (const { cid } of walkDag((c) => readBlock(store.storage.blockstore, c), [store.head!.cid])) cids.push(cid)
  return cids
}

export async function corruption(scratch: Scratch, rounds: number): Promise<FaultResult> {
  const storage = await openLevelStorage(join(await scratch.dir('dagsync-corrupt-'), 'data'))
  const store = await openStore({ storage, name: 'damaged' })
  await store.transact(async (tx) => {
    for (let i = 0; i < 600; i++) await tx.assoc(`k${i}`, { i, text: i % 4 === 0 ? 't'.repeat(400) : 'short' })
    await tx.bassoc(
      'file',
      new Uint8Array(1_500_000).map((_, i) => i & 0xff),
    )
  })
  for (let i = 0; i < 20; i++) await store.assoc(`later${i}`, i)
  const cids = await headBlocks(store)
  const next = random(12)
  const problems: string[] = []
  let detected = 0
  for (let round = 0; round < rounds; round++) {
    const cid = cids[Math.floor(next() * cids.length)]
    const original = (await readBlock(storage.blockstore, cid)) as Uint8Array
    const flip = round % 2 === 0
    if (flip) {
      const damaged = new Uint8Array(original) // a copy: a Buffer's slice is a view
      damaged[Math.floor(next() * damaged.length)] ^= 1 << Math.floor(next() * 8)
      await storage.blockstore.put(cid, damaged)
    } else {
      await storage.blockstore.delete(cid)
    }
    const check = await store.verify()
    const reported = (flip ? check.corrupt : check.missing).some((c) => c.equals(cid))
    if (reported) detected++
    else problems.push(`round ${round}: ${flip ? 'a flipped bit in' : 'the removal of'} ${cid} was not reported`)
    // gc may refuse to run, but must not delete what the head reaches.
    await store.gc({ keep: { last: 1 } }).catch(() => undefined)
    await storage.blockstore.put(cid, original)
    const after = await store.verify()
    if (after.missing.length + after.corrupt.length > 0)
      problems.push(
        `round ${round}: after gc and repair, ${after.missing.length} blocks missing, ${after.corrupt.length} corrupt`,
      )
  }
  await store.close()
  await storage.close()
  return result('corrupt or missing blocks (LevelDB)', { rounds, injected: rounds, detected, problems })
}
