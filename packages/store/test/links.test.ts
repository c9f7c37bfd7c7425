// Values may link to other blocks; every walk (verify, gc, a reader's sync) follows those links,
// so a store must never commit a link to a block it does not hold.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cidOf, InvalidValueError } from '@dagsync/tree'
import { memoryStorage, openStore, StoreError } from '../src/index.ts'

const bytesOf = (text: string) => new TextEncoder().encode(text)

describe('values that link to blocks', () => {
  it('refuses a link to a block storage does not hold, in a value or in commit metadata', async () => {
    const db = await openStore({ storage: memoryStorage() })
    await db.assoc('before', 1)
    const head = db.head
    const absent = cidOf(bytesOf('never stored'), 0x55)
    await assert.rejects(db.assoc('k', { file: absent }), (err: Error) => {
      assert.ok(err instanceof InvalidValueError)
      assert.match(err.message, /links to .*, which this storage does not hold/)
      return true
    })
    await assert.rejects(
      db.transact((tx) => tx.assoc('k', 1), { meta: { attachment: absent } }),
      InvalidValueError,
    )
    assert.equal(db.head, head, 'no commit was made')
    assert.deepEqual((await db.verify()).missing, [])
  })

  it('takes a link to a block storage holds, and gc keeps that block', async () => {
    const storage = memoryStorage()
    const db = await openStore({ storage })
    const bytes = bytesOf('a stored attachment')
    const held = cidOf(bytes, 0x55)
    await storage.commit([{ cid: held, bytes }], new Map())
    await db.assoc('k', { file: held })
    await db.gc({ keep: { last: 1 } })
    assert.ok(await storage.blockstore.has(held))
    const check = await db.verify()
    assert.deepEqual([check.missing, check.corrupt], [[], []])
    assert.equal(check.blocks, 3, 'the commit, the root node and the linked block')
  })

  it('fails the commit when gc collects the linked block between the write and its commit', async () => {
    const storage = memoryStorage()
    const db = await openStore({ storage })
    await db.assoc('before', 1)
    const bytes = bytesOf('held for now, kept by nothing')
    const stray = cidOf(bytes, 0x55)
    await storage.commit([{ cid: stray, bytes }], new Map())
    const write = db.transact(async (tx) => {
      await tx.assoc('k', { file: stray })
      // The link was checked; nothing keeps the block, and gc runs before the commit is written.
      const result = await db.gc()
      assert.equal(result.deletedBlocks, 1)
    })
    await assert.rejects(write, (err: Error) => {
      assert.ok(err instanceof StoreError)
      assert.match(err.message, /was collected by gc before it was committed/)
      return true
    })
    assert.equal(await db.get('k'), undefined)
    assert.deepEqual((await db.verify()).missing, [], 'the head never links to a missing block')
  })
})
