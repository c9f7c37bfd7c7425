// ifMatch: a write based on an old read fails, in its own turn, instead of overwriting what was
// written since; one whose base still holds is applied.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { memoryStorage, openStore, PreconditionFailedError } from '../src/index.ts'

describe('transact with ifMatch', () => {
  it('fails a write whose key changed since its read, even when the change is queued just before it', async () => {
    const store = await openStore({ storage: memoryStorage() })
    await store.assoc('title', { text: 'draft' })
    // Both are queued before either runs: the second was based on the value the first replaces.
    const newer = store.transact([{ op: 'put', key: 'title', value: { text: 'final' } }])
    const stale = store.transact([{ op: 'put', key: 'title', value: { text: 'edited draft' } }], {
      ifMatch: { key: 'title', value: { text: 'draft' } },
    })
    assert.equal((await newer).commit?.seq, 2)
    await assert.rejects(stale, (err: Error) => {
      assert.ok(err instanceof PreconditionFailedError)
      assert.match(err.message, /"title" changed since the write was based on it/)
      return true
    })
    assert.deepEqual(await store.get('title'), { text: 'final' })
    assert.equal(store.head?.seq, 2, 'the failed write made no commit')

    const fresh = await store.transact([{ op: 'put', key: 'title', value: { text: 'v3' } }], {
      ifMatch: { key: 'title', value: { text: 'final' } },
    })
    assert.equal(fresh.commit?.seq, 3)
  })

  it('takes an absent key (value undefined) and a head commit as what the write was based on', async () => {
    const store = await openStore({ storage: memoryStorage() })
    assert.equal(
      (await store.transact([{ op: 'put', key: 'new', value: 1 }], { ifMatch: { key: 'new', value: undefined } }))
        .commit?.seq,
      1,
    )
    await assert.rejects(
      store.transact([{ op: 'put', key: 'new', value: 2 }], { ifMatch: { key: 'new', value: undefined } }),
      PreconditionFailedError,
    )
    const head = store.head?.cid
    assert.ok(head !== undefined)
    await store.assoc('other', true)
    await assert.rejects(
      store.transact((tx) => tx.assoc('new', 3), { ifMatch: { commit: head } }),
      /the write was based on commit .*; the head is now .* \(#2\)/,
    )
    assert.equal(await store.get('new'), 1)
    const now = store.head?.cid
    assert.ok(now !== undefined)
    assert.equal((await store.transact((tx) => tx.assoc('new', 4), { ifMatch: { commit: now } })).commit?.seq, 3)
  })
})
