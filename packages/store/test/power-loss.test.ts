// Power loss, not only kill -9: SIGKILL leaves the OS page cache, so a missing fsync never shows
// there. Here the database keeps only synced writes when "power fails" (see PowerLossLevel),
// at a chosen acknowledgement, while writers and gc run; every acknowledged commit must survive.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { openStore, type Store } from '../src/index.ts'
import { LevelStorage } from '../src/level.ts'
import { PowerLossLevel } from './faults/power-loss-level.ts'

async function reopen(db: PowerLossLevel): Promise<{ storage: LevelStorage; store: Store }> {
  await db.open()
  const storage = new LevelStorage(db as never)
  await storage.datastore.open()
  return { storage, store: await openStore({ storage, verify: 'full' }) }
}

const expectedValue = (key: string, i: number) => ({ key, i, pad: i % 5 === 0 ? 'x'.repeat(700) : '' })

/**
 * Writers commit unique keys while gc runs; the power fails at the `failAt`-th acknowledgement.
 * Returns the database as it comes back and the keys acknowledged before the failure.
 */
async function roundUntilPowerFails(
  db: PowerLossLevel,
  round: number,
  failAt: number,
): Promise<{ survivor: PowerLossLevel; acked: Map<string, number>; ackedSeq: number }> {
  const { storage, store } = await reopen(db)
  const acked = new Map<string, number>()
  let ackedSeq = 0
  let survivor: PowerLossLevel | undefined
  let n = 0
  const writer = async (w: number) => {
    while (survivor === undefined) {
      const i = n++
      const key = `r${round}/w${w}/${i}`
      const { commit } = await store.transact(async (tx) => {
        await tx.assoc(key, expectedValue(key, i))
        if (i % 11 === 0) await tx.bassoc(`${key}/bin`, new Uint8Array(40_000 + i).fill(i & 0xff))
      })
      if (survivor !== undefined) return
      acked.set(key, i)
      ackedSeq = Math.max(ackedSeq, commit?.seq ?? 0)
      // The failure happens right here, at this acknowledgement: nothing after it is owed.
      if (acked.size === failAt) survivor = db.powerFail()
    }
  }
  const collector = async () => {
    while (survivor === undefined) {
      await store.gc({ keep: { last: 2 } })
      // In memory every step is a microtask: let the writers' macrotasks run between runs.
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  await Promise.all([...Array.from({ length: 6 }, (_, w) => writer(w)), collector()])
  await store.close()
  await storage.close()
  return { survivor: survivor as PowerLossLevel, acked, ackedSeq }
}

describe('power loss', () => {
  it('keeps every acknowledged commit, with every block, across 30 power failures during writes and gc', async () => {
    let db = new PowerLossLevel()
    const owed = new Map<string, number>()
    let lastSeq = 0
    let synced = 0
    for (let round = 0; round < 30; round++) {
      const { survivor, acked, ackedSeq } = await roundUntilPowerFails(db, round, 1 + ((round * 7) % 23))
      synced += db.syncedWrites
      for (const [key, i] of acked) owed.set(key, i)
      lastSeq = Math.max(lastSeq, ackedSeq)
      db = survivor

      const { storage, store } = await reopen(db)
      assert.ok((store.head?.seq ?? 0) >= lastSeq, `round ${round}: head ${store.head?.seq} < acknowledged ${lastSeq}`)
      const { missing, corrupt } = await store.verify()
      assert.deepEqual([missing, corrupt], [[], []], `round ${round}: the head is whole`)
      for (const [key, i] of owed) {
        assert.deepEqual(await store.get(key), expectedValue(key, i), `round ${round}: ${key}`)
        if (i % 11 === 0) assert.equal((await store.bget(`${key}/bin`))?.size, 40_000 + i)
      }
      await store.close()
      await storage.close()
    }
    assert.ok(owed.size >= 30 * 1, `${owed.size} acknowledged commits checked`)
    assert.ok(synced > 0)
  })
})
