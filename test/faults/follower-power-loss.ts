// Power loss on a reader: it follows a writer over real libp2p nodes on loopback, runs gc beside
// its syncs, and loses power right after its n-th adopted head. Coming back, it must open whole
// (every block its head reaches, re-hashed) at or past that head: a reader never shows a head
// it cannot read.
import { openStore } from '@dagsync/store'
import { LevelStorage } from '@dagsync/store/level'
import { startNode, startReader, stopNode } from '../../packages/peer/test/helpers.ts'
import { PowerLossLevel } from '../../packages/store/test/faults/power-loss-level.ts'
import { type FaultResult, result } from './report.ts'

async function levelStorage(db: PowerLossLevel): Promise<LevelStorage> {
  await db.open()
  const storage = new LevelStorage(db as never)
  await storage.datastore.open()
  return storage
}

export async function followerPowerLoss(rounds: number): Promise<FaultResult> {
  const writer = await startNode()
  const served = await writer.createStore()
  const problems: string[] = []
  let db = new PowerLossLevel()
  let adopted = 0
  try {
    for (let round = 0; round < rounds; round++) {
      const storage = await levelStorage(db)
      const reader = await startReader(writer, { storage })
      const replica = await reader.follow(served.id)
      const failAt = 1 + (round % 4)
      let heads = 0
      let survivor: { db: PowerLossLevel; seq: number } | undefined
      const failed = new Promise<void>((resolve) => {
        replica.store.onHead((head) => {
          // The head is durable when this is called: the power fails right after it.
          if (++heads === failAt && survivor === undefined) {
            survivor = { db: db.powerFail(), seq: head.seq }
            resolve()
          }
        })
      })
      let writing = true
      const writes = (async () => {
        for (let i = 0; writing; i++) {
          await served.store.transact(async (tx) => {
            await tx.assoc(`r${round}/${i}`, { round, i, pad: i % 3 === 0 ? 'x'.repeat(500) : '' })
            if (i % 2 === 0) await tx.assoc('doc', { tag: i % 4 === 0 ? 'A' : 'B', pad: 'y'.repeat(400) })
          })
          await new Promise((resolve) => setTimeout(resolve, 2))
        }
      })()
      const collector = (async () => {
        while (survivor === undefined) {
          await replica.store
            .gc({ keep: { last: 1 } })
            .catch((err) => problems.push(`round ${round}: gc: ${err.message}`))
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
      })()
      await failed
      writing = false
      await Promise.all([writes, collector])
      adopted += heads
      await stopNode(reader)
      await storage.close()

      db = (survivor as { db: PowerLossLevel }).db
      const back = await levelStorage(db)
      try {
        const store = await openStore({ storage: back, name: served.id, readOnly: true, verify: 'full' })
        if ((store.head?.seq ?? 0) < (survivor as { seq: number }).seq)
          problems.push(
            `round ${round}: came back at ${store.head?.seq}, behind its adopted head ${(survivor as { seq: number }).seq}`,
          )
        await store.close()
      } catch (err) {
        problems.push(`round ${round}: did not open whole: ${(err as Error).message}`)
      } finally {
        await back.close()
      }
    }
  } finally {
    await stopNode(writer)
  }
  return result(`power loss on a reader: ${adopted} synced heads, gc beside`, { rounds, problems })
}
