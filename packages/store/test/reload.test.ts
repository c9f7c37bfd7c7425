// reload: a read-only store whose storage another holder moves (a browser tab reading the
// replica another tab syncs) follows that head, tells its watchers, and never moves back.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type CommitEvent, memoryStorage, openStore, StoreError } from '../src/index.ts'

const keysOf = (event: IteratorResult<CommitEvent>) => (event.done ? [] : event.value.changes.map((c) => c.key))

describe('Store.reload', () => {
  it('moves to the head another holder wrote, with the changes for watchers, and never back', async () => {
    const source = await openStore({ storage: memoryStorage(), name: 'w' })
    await source.assoc('a', 1)
    const first = source.head!
    await source.assoc('b', 2)
    const second = source.head!

    // Two read-only stores on one storage: one is moved by adopt (the syncing node), one reads.
    const shared = memoryStorage()
    const syncing = await openStore({ storage: shared, name: 'r', readOnly: true })
    const reading = await openStore({ storage: shared, name: 'r', readOnly: true })
    const watch = reading.watch()
    const events = watch[Symbol.asyncIterator]()

    const blocks = []
    for await (const { cid, bytes } of source.storage.blockstore.getAll()) {
      const chunks = []
      for await (const chunk of bytes) chunks.push(chunk)
      blocks.push({ cid, bytes: Buffer.concat(chunks) })
    }
    await syncing.adopt(first, blocks)
    assert.equal(reading.head, null, 'nothing moves it but reload')
    assert.equal((await reading.reload())?.seq, 1)
    assert.equal(await reading.get('a'), 1)
    assert.deepEqual(keysOf(await events.next()), ['a'])

    await syncing.adopt(second, [])
    assert.equal((await reading.reload())?.seq, 2)
    assert.deepEqual(keysOf(await events.next()), ['b'])

    // Storage going back (an older head written by a confused holder) does not move it back.
    await shared.commit([], new Map([['r', first.cid]]))
    assert.equal((await reading.reload())?.seq, 2)
    assert.equal(await reading.get('b'), 2)
    watch.close()
  })

  it('is refused on a store that writes', async () => {
    const store = await openStore({ storage: memoryStorage() })
    await assert.rejects(store.reload(), StoreError)
  })
})
