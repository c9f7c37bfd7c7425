// Power-failure rounds on PowerLossLevel, for the power-loss test and the fault suite: writers
// commit unique keys (some with binary values) while gc runs, the power fails at a chosen
// acknowledgement, and the database comes back with only what was synced.
import { isDeepStrictEqual } from 'node:util'
import { openStore, type Store } from '../../src/index.ts'
import { LevelStorage } from '../../src/level.ts'
import { PowerLossLevel } from './power-loss-level.ts'

export interface PowerLossReport {
  readonly rounds: number
  /** Commits acknowledged before some power failure. */
  readonly acked: number
  /** Acknowledged commits whose key was missing or wrong after a failure. */
  readonly lost: readonly string[]
  /** Rounds after which the store did not open whole (verify found blocks missing or corrupt). */
  readonly broken: readonly string[]
}

async function reopen(db: PowerLossLevel): Promise<{ storage: LevelStorage; store: Store }> {
  await db.open()
  const storage = new LevelStorage(db as never)
  await storage.datastore.open()
  return { storage, store: await openStore({ storage, verify: 'full' }) }
}

export const expectedValue = (key: string, i: number) => ({ key, i, pad: i % 5 === 0 ? 'x'.repeat(700) : '' })
const binarySize = (i: number) => 40_000 + i

/** Runs until the power fails at the `failAt`-th acknowledgement; returns what comes back and what was acknowledged. */
async function untilPowerFails(
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
        if (i % 11 === 0) await tx.bassoc(`${key}/bin`, new Uint8Array(binarySize(i)).fill(i & 0xff))
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

/** `rounds` power failures in a row on one database, each checked on the way back up. */
export async function powerLossRounds(rounds: number): Promise<PowerLossReport> {
  let db = new PowerLossLevel()
  const owed = new Map<string, number>()
  const lost: string[] = []
  const broken: string[] = []
  let lastSeq = 0
  for (let round = 0; round < rounds; round++) {
    const { survivor, acked, ackedSeq } = await untilPowerFails(db, round, 1 + ((round * 7) % 23))
    for (const [key, i] of acked) owed.set(key, i)
    lastSeq = Math.max(lastSeq, ackedSeq)
    db = survivor

    const { storage, store } = await reopen(db)
    if ((store.head?.seq ?? 0) < lastSeq)
      broken.push(`round ${round}: head ${store.head?.seq} < acknowledged ${lastSeq}`)
    const { missing, corrupt } = await store.verify()
    if (missing.length + corrupt.length > 0)
      broken.push(`round ${round}: ${missing.length} missing, ${corrupt.length} corrupt`)
    for (const [key, i] of owed) {
      const same = isDeepStrictEqual(await store.get(key), expectedValue(key, i))
      const binaryOk = i % 11 !== 0 || (await store.bget(`${key}/bin`))?.size === binarySize(i)
      if (!same || !binaryOk) {
        lost.push(`round ${round}: ${key}`)
        owed.delete(key)
      }
    }
    await store.close()
    await storage.close()
  }
  return { rounds, acked: owed.size + lost.length, lost, broken }
}
