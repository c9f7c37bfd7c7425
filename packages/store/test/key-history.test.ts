// keyHistory: the commits that added, changed or removed one key, newest first, each labelled by
// what it did; the whole history however long, and an honest end where older history is not held.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  collectGarbage,
  type KeyHistoryEnd,
  type KeyHistoryEntry,
  keyHistory,
  memoryStorage,
  openStore,
} from '../src/index.ts'

async function walk(gen: AsyncGenerator<KeyHistoryEntry, KeyHistoryEnd>) {
  const entries: string[] = []
  for (;;) {
    const next = await gen.next()
    if (next.done) return { entries, end: next.value }
    entries.push(`${next.value.commit.seq} ${next.value.change}`)
  }
}

describe('keyHistory', () => {
  it('lists every commit that touched the key, the first as added, past any number of others', async () => {
    const db = await openStore({ storage: memoryStorage() })
    await db.assoc('other', 0) // 1
    await db.assoc('k', 0) // 2: created
    for (let i = 1; i <= 24; i++) {
      await db.assoc('k', i) // 3..26
      await db.assoc('other', i) // 4..50: commits that do not touch k
    }
    await db.dissoc('k') // 51
    await db.assoc('k', 'again') // 52
    const { entries, end } = await walk(keyHistory(db, 'k'))
    assert.equal(entries.length, 27) // created, 24 changes, removed, created again
    assert.deepEqual(entries.slice(0, 3), ['52 added', '51 removed', '49 changed'])
    assert.equal(entries.at(-1), '2 added', 'the first value is labelled as created')
    assert.equal(entries.at(-2), '3 changed')
    assert.deepEqual(end, { complete: true })
  })

  it('stops at the limit, and says where older history was collected', async () => {
    const db = await openStore({ storage: memoryStorage() })
    for (let i = 0; i < 5; i++) await db.assoc('k', i)
    assert.deepEqual(await walk(keyHistory(db, 'k', 2)), {
      entries: ['5 changed', '4 changed'],
      end: { complete: false },
    })
    assert.deepEqual((await walk(keyHistory(db, 'k'))).entries.at(-1), '1 added', 'written in the first commit of all')
    assert.deepEqual(await walk(keyHistory(db, 'never')), { entries: [], end: { complete: true } })

    await collectGarbage(db.storage, { keep: { last: 2 } })
    const { entries, end } = await walk(keyHistory(db, 'k'))
    // Commit 4 is the oldest held: it wrote k, but whether it created it is not known here.
    assert.deepEqual(entries, ['5 changed', '4 changed'])
    assert.deepEqual(end, { complete: false })
  })
})
