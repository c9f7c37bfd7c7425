// AppliedWrites on an in-memory store: a write id is applied once per peer, while it is being
// applied and after, across a restart (from the commits' metadata), within the documented bounds.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Commit, memoryStorage, openStore, type Store } from '@dagsync/store'
import { AppliedWrites } from '../src/applied-writes.ts'

/** Applies a put as the remote write handler does, counting the calls. */
function writer(store: Store, peer: string, id: string) {
  let calls = 0
  return {
    calls: () => calls,
    apply: async (): Promise<Commit | null> => {
      calls++
      return (await store.transact([{ op: 'put', key: id, value: calls }], { meta: { by: peer, write: id } })).commit
    },
  }
}

describe('AppliedWrites', () => {
  it('a copy that arrives while the write is being applied waits for it and gets its commit', async () => {
    const store = await openStore({ storage: memoryStorage(), name: 't' })
    const applied = new AppliedWrites(store)
    const gate = Promise.withResolvers<void>()
    let calls = 0
    const slow = async () => {
      calls++
      await gate.promise
      return (await store.transact([{ op: 'put', key: 'k', value: 1 }], { meta: { by: 'p', write: 'w1' } })).commit
    }
    const first = applied.once('p', 'w1', slow)
    const second = applied.once('p', 'w1', slow)
    gate.resolve()
    const [a, b] = await Promise.all([first, second])
    assert.equal(calls, 1)
    assert.equal(a.repeated, false)
    assert.equal(b.repeated, true)
    assert.equal(b.commit?.seq, a.commit?.seq)
    assert.equal(store.head?.seq, 1)
  })

  it('a write sent again after it was applied gets its commit; another peer with the same id is applied', async () => {
    const store = await openStore({ storage: memoryStorage(), name: 't' })
    const applied = new AppliedWrites(store)
    const p = writer(store, 'p', 'w1')
    const first = await applied.once('p', 'w1', p.apply)
    await store.assoc('between', true)
    const again = await applied.once('p', 'w1', p.apply)
    assert.equal(p.calls(), 1)
    assert.deepEqual([again.repeated, again.commit?.seq], [true, first.commit?.seq])
    const q = writer(store, 'q', 'w1')
    assert.equal((await applied.once('q', 'w1', q.apply)).repeated, false)
    assert.equal(q.calls(), 1)
  })

  it('after a restart the commits name the writes applied before, as far back as scanCommits', async () => {
    const storage = memoryStorage()
    const store = await openStore({ storage, name: 't' })
    const before = new AppliedWrites(store)
    for (const id of ['w1', 'w2', 'w3']) await before.once('p', id, writer(store, 'p', id).apply)
    await store.assoc('local write', true) // a commit of the writer's own, without a write id

    const restarted = new AppliedWrites(store, { scanCommits: 3 })
    const w3 = writer(store, 'p', 'w3')
    const again = await restarted.once('p', 'w3', w3.apply)
    assert.deepEqual([w3.calls(), again.repeated, again.commit?.seq], [0, true, 3])
    const w2 = writer(store, 'p', 'w2')
    assert.equal((await restarted.once('p', 'w2', w2.apply)).repeated, true)
    // w1 is 4 commits back, past scanCommits: applied again, as the docs say.
    const w1 = writer(store, 'p', 'w1')
    assert.equal((await restarted.once('p', 'w1', w1.apply)).repeated, false)
    assert.equal(w1.calls(), 1)
  })

  it('remembers the newest `remember` writes', async () => {
    const store = await openStore({ storage: memoryStorage(), name: 't' })
    const applied = new AppliedWrites(store, { remember: 2 })
    for (const id of ['w1', 'w2', 'w3']) await applied.once('p', id, writer(store, 'p', id).apply)
    const w3 = writer(store, 'p', 'w3')
    assert.equal((await applied.once('p', 'w3', w3.apply)).repeated, true)
    const w1 = writer(store, 'p', 'w1')
    assert.equal((await applied.once('p', 'w1', w1.apply)).repeated, false)
  })
})
