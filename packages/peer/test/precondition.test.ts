// ifMatch through the writer, with real helia nodes on loopback: a remote write based on a value
// the writer has since replaced fails with PreconditionFailedError and changes nothing; one
// whose base still holds (a value, an absent key, the head commit) is applied.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { PreconditionFailedError } from '@dagsync/store'
import { startNode, startReader, stopAll, violations } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

describe('remote writes with ifMatch', () => {
  it('the writer refuses a stale one with a named error and applies fresh ones', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    await served.store.assoc('doc', { v: 1 })
    const node = await startReader(writer)
    const replica = await node.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(15_000))
    served.allowWriters([node.peerId])

    // The reader read {v: 1}; the writer then wrote {v: 2}.
    await served.store.assoc('doc', { v: 2 })
    await assert.rejects(
      replica.transact([{ op: 'put', key: 'doc', value: { v: 'from reader' } }], {
        ifMatch: { key: 'doc', value: { v: 1 } },
      }),
      (err: Error) => {
        assert.ok(err instanceof PreconditionFailedError, `${err.name}: ${err.message}`)
        assert.match(err.message, /^"doc" changed since the write was based on it/)
        return true
      },
    )
    assert.deepEqual(await served.store.get('doc'), { v: 2 })
    assert.equal(served.store.head?.seq, 2)

    const fresh = await replica.transact([{ op: 'put', key: 'doc', value: { v: 3 } }], {
      ifMatch: { key: 'doc', value: { v: 2 } },
    })
    assert.equal(fresh.commit?.seq, 3)
    assert.equal((await replica.assoc('other', 1))?.seq, 4)
    const created = await replica.transact([{ op: 'put', key: 'new', value: true }], {
      ifMatch: { key: 'new', value: undefined },
    })
    assert.equal(created.commit?.seq, 5)
    const head = replica.head?.cid
    assert.ok(head !== undefined)
    const onHead = await replica.transact([{ op: 'delete', key: 'new' }], { ifMatch: { commit: head } })
    assert.equal(onHead.commit?.seq, 6)
    await assert.rejects(
      replica.transact([{ op: 'put', key: 'new', value: 1 }], { ifMatch: { commit: head } }),
      PreconditionFailedError,
    )
  })
})
