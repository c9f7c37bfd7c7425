// The in-memory blockstore behaves as blockstore-core's does, which the rest of the stack expects.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cidOf } from '@dagsync/tree'
import { MemoryBlockstore as Reference } from 'blockstore-core'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { MemoryBlockstore } from '../src/index.ts'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

async function all<T>(source: Iterable<T> | AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

async function read(store: { get(cid: CID): Iterable<Uint8Array> | AsyncIterable<Uint8Array> }, cid: CID) {
  const chunks = await all(store.get(cid))
  return Buffer.concat(chunks)
}

describe('MemoryBlockstore', () => {
  it('agrees with blockstore-core on random puts, deletes, has, get and getAll', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('put', 'delete'), fc.integer({ min: 0, max: 20 })), { maxLength: 60 }),
        async (ops) => {
          const ours = new MemoryBlockstore()
          const reference = new Reference()
          const cids = Array.from({ length: 21 }, (_, i) => cidOf(text(`block ${i}`)))
          for (const [op, i] of ops) {
            if (op === 'put') {
              ours.put(cids[i], text(`block ${i}`))
              reference.put(cids[i], text(`block ${i}`))
            } else {
              ours.delete(cids[i])
              await reference.delete(cids[i])
            }
          }
          for (let i = 0; i < cids.length; i++) {
            const held = reference.has(cids[i])
            assert.equal(ours.has(cids[i]), held)
            if (held) assert.deepEqual(await read(ours, cids[i]), await read(reference, cids[i]))
          }
          const listed = (await all(ours.getAll())).map(({ cid }) => cid.toString()).sort()
          const expected = cids
            .filter((cid) => reference.has(cid))
            .map(String)
            .sort()
          assert.deepEqual(listed, expected)
          assert.equal(ours.size, expected.length)
        },
      ),
    )
  })

  it('throws NotFoundError for a missing block, as blockstore-core does', () => {
    const missing = cidOf(text('missing'))
    assert.throws(() => [...new MemoryBlockstore().get(missing)], { name: 'NotFoundError' })
    assert.throws(() => [...(new Reference().get(missing) as Iterable<Uint8Array>)], { name: 'NotFoundError' })
  })

  it('joins a block given in chunks, sync or async', async () => {
    const store = new MemoryBlockstore()
    const a = cidOf(text('hello world'))
    const b = cidOf(text('hello again'))
    store.put(a, [text('hello '), text('world')])
    await store.put(
      b,
      (async function* () {
        yield text('hello ')
        yield text('again')
      })(),
    )
    assert.equal(new TextDecoder().decode(await read(store, a)), 'hello world')
    assert.equal(new TextDecoder().decode(await read(store, b)), 'hello again')
  })

  it('replaces the bytes under a CID on a second put, as blockstore-core does (verify relies on it to test damage)', async () => {
    const cid = cidOf(text('original'))
    for (const store of [new MemoryBlockstore(), new Reference()]) {
      await store.put(cid, text('original'))
      await store.put(cid, text('damaged'))
      assert.equal(new TextDecoder().decode(await read(store, cid)), 'damaged')
    }
  })

  it('finds a block under any CID with the same hash, and lists it under the CID it was put with', async () => {
    const store = new MemoryBlockstore()
    const bytes = text('same bytes')
    const dagCbor = cidOf(bytes)
    const asRaw = CID.createV1(raw.code, dagCbor.multihash)
    store.put(dagCbor, bytes)
    assert.ok(store.has(asRaw))
    assert.deepEqual(await read(store, asRaw), Buffer.from(bytes))
    const [listed] = await all(store.getAll())
    assert.ok(listed.cid.equals(dagCbor))
  })
})
