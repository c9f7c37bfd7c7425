// A write that leaves a key as it is (same value, same type, same key form) changes nothing: it
// keeps the key's write time, and a transaction of only such writes makes no commit.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { type BlockstoreStorage, memoryStorage, openStore } from '../src/index.ts'

const utf8 = new TextEncoder()

async function blockCount(storage: BlockstoreStorage): Promise<number> {
  let n = 0
  for await (const _ of storage.blockstore.getAll()) n++
  return n
}

function clocked() {
  const clock = { now: 1_000 }
  return { clock, now: () => clock.now }
}

describe('equal writes', () => {
  it('make no commit and keep the write time, for inline, block and chunked values', async () => {
    const storage = memoryStorage()
    const { clock, now } = clocked()
    const db = await openStore({ storage, now })
    const big = new Uint8Array(3 * 1024 * 1024).fill(7)
    await db.transact(async (tx) => {
      await tx.assoc('small', { a: 1 })
      await tx.assoc('block', 'x'.repeat(1000))
      await tx.bassoc('chunked', big)
    })
    const head = db.head
    const blocks = await blockCount(storage)
    clock.now = 5_000
    const again = await db.transact(async (tx) => {
      await tx.assoc('small', { a: 1 })
      await tx.assoc('block', 'x'.repeat(1000))
      await tx.bassoc('chunked', big.slice())
      await tx.dissoc('never-there')
      // Inside the transaction too, the key reads as last written at 1000.
      return (await tx.getMeta('small'))?.lastWrite.getTime()
    })
    assert.deepEqual(again, { value: 1_000, commit: null })
    assert.equal(db.head, head)
    assert.equal(await blockCount(storage), blocks, 'nothing written')
    for (const key of ['small', 'block', 'chunked']) assert.equal((await db.getMeta(key))?.lastWrite.getTime(), 1_000)
    await db.assoc('small', { a: 1 })
    assert.equal(db.head, head, 'a single equal assoc makes no commit either')
  })

  it('in a transaction that also changes a key, make one commit in which the equal key keeps its time', async () => {
    const { clock, now } = clocked()
    const db = await openStore({ storage: memoryStorage(), now })
    await db.transact(async (tx) => {
      await tx.assoc('same', 'v')
      await tx.assoc('changed', 1)
    })
    clock.now = 2_000
    const { commit } = await db.transact(async (tx) => {
      await tx.assoc('same', 'v')
      await tx.assoc('changed', 2)
    })
    assert.equal(commit?.seq, 2)
    assert.equal(db.head?.seq, 2)
    assert.equal((await db.getMeta('same'))?.lastWrite.getTime(), 1_000)
    assert.equal((await db.getMeta('changed'))?.lastWrite.getTime(), 2_000)
    const changes = []
    for await (const change of db.diff(1)) changes.push(change.key)
    assert.deepEqual(changes, ['changed'], 'the commit changes only the changed key')
  })

  it('count a change of type (value or binary) or of key form (string or bytes) as a change', async () => {
    const db = await openStore({ storage: memoryStorage() })
    const bytes = new Uint8Array([1, 2, 3])
    await db.assoc('k', bytes)
    await db.bassoc('k', bytes)
    assert.equal(db.head?.seq, 2)
    assert.equal((await db.getMeta('k'))?.type, 'binary')
    await db.bassoc('k', bytes)
    assert.equal(db.head?.seq, 2)
    await db.bassoc(utf8.encode('k'), bytes)
    assert.equal(db.head?.seq, 3)
    assert.deepEqual((await db.getMeta('k'))?.key, utf8.encode('k'))
  })

  it('tell watchers nothing for a transaction that changed nothing', async () => {
    const db = await openStore({ storage: memoryStorage() })
    await db.assoc('k', 1)
    const watch = db.watch()
    await db.assoc('k', 1) // equal: no commit, no event
    await db.assoc('k', 2)
    await db.close() // delivers what is due, then ends the watch
    const events = []
    for await (const event of watch) events.push([event.commit.seq, event.changes.map((c) => c.after)])
    assert.deepEqual(events, [[2, [2]]])
  })

  it('match a model: a commit exactly when some key changes, and each key keeps the time of its last change', async () => {
    type Write =
      | { type: 'assoc' | 'bassoc'; key: string; bytesKey: boolean; value: number }
      | { type: 'dissoc'; key: string; bytesKey: boolean }
    const writeArb: fc.Arbitrary<Write> = fc.record({
      type: fc.constantFrom('assoc' as const, 'bassoc' as const, 'dissoc' as const),
      key: fc.constantFrom('a', 'b', 'c'),
      bytesKey: fc.boolean(),
      value: fc.integer({ min: 0, max: 2 }),
    })
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(writeArb, { minLength: 1, maxLength: 4 }), { maxLength: 12 }), async (txs) => {
        const { clock, now } = clocked()
        const db = await openStore({ storage: memoryStorage(), now })
        // The model: each key's value, type, key form and last write time.
        const model = new Map<string, { state: string; time: number }>()
        let seq = 0
        for (const writes of txs) {
          clock.now += 1_000
          const after = new Map(model)
          for (const w of writes) {
            if (w.type === 'dissoc') after.delete(w.key)
            else after.set(w.key, { state: `${w.type}:${w.bytesKey}:${w.value}`, time: clock.now })
          }
          // A key whose state is as before keeps its time.
          for (const [key, entry] of after) {
            if (model.get(key)?.state === entry.state) after.set(key, model.get(key)!)
          }
          const changed =
            after.size !== model.size || [...after].some(([key, entry]) => model.get(key)?.state !== entry.state)
          const { commit } = await db.transact(async (tx) => {
            for (const w of writes) {
              const key = w.bytesKey ? utf8.encode(w.key) : w.key
              if (w.type === 'dissoc') await tx.dissoc(key)
              else if (w.type === 'assoc') await tx.assoc(key, new Uint8Array([w.value]))
              else await tx.bassoc(key, new Uint8Array([w.value]))
            }
          })
          if (changed) seq++
          assert.equal(commit?.seq ?? null, changed ? seq : null)
          assert.equal(db.head?.seq ?? 0, seq)
          model.clear()
          for (const [key, entry] of after) model.set(key, entry)
        }
        for (const key of ['a', 'b', 'c']) {
          const info = await db.getMeta(key)
          assert.equal(info?.lastWrite.getTime(), model.get(key)?.time, `lastWrite of ${key}`)
        }
      }),
      { numRuns: 150 },
    )
  })
})
