import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Commit, memoryStorage, openStore } from '@dagsync/store'
import { MerkleSearchTree } from '@dagsync/tree'
import { MemoryBlockstore } from 'blockstore-core'
import fc from 'fast-check'
import { applyDelta, deltaSize, encodeDelta } from '../src/delta.ts'
import { ProtocolError } from '../src/errors.ts'
import { newBlockMessages } from '../src/sync.ts'

describe('node deltas', () => {
  it('rebuild every changed node of random edits exactly, from much less than the node', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.nat(3000), value: fc.string({ maxLength: 20 }) }), {
          minLength: 1,
          maxLength: 30,
        }),
        async (edits) => {
          const tree = new MerkleSearchTree(new MemoryBlockstore())
          const a = await tree.build(
            Array.from({ length: 3000 }, (_, i) => ({ key: `k${String(i).padStart(5, '0')}`, value: { i } })),
          )
          const b = await tree.batch(
            a,
            edits.map((e) => ({ type: 'put' as const, key: `k${String(e.key).padStart(5, '0')}`, value: e.value })),
          )
          let full = 0
          let sent = 0
          for await (const block of tree.newBlocks(a, b)) {
            if (block.base === undefined || block.offsets === undefined) continue
            const ops = encodeDelta(block.base.bytes, block.base.offsets, block.bytes, block.offsets)
            assert.deepEqual(applyDelta(block.base.bytes, ops), block.bytes)
            full += block.bytes.length
            sent += deltaSize(ops)
          }
          assert.ok(sent < full / 3, `deltas of ${sent} bytes for nodes of ${full}`)
        },
      ),
      { numRuns: 40 },
    )
  })

  it('sends of a changed entry only the bytes between the ends it shares with the entry it replaces', async () => {
    const tree = new MerkleSearchTree(new MemoryBlockstore())
    const value = (i: number) => ({ i, pad: 'x'.repeat(40) })
    const key = (i: number) => `k${String(i).padStart(5, '0')}`
    const a = await tree.build(Array.from({ length: 3000 }, (_, i) => ({ key: key(i), value: value(i) })))
    const b = await tree.put(a, key(1234), { ...value(1234), i: 99999 })
    let deltas = 0
    for await (const block of tree.newBlocks(a, b)) {
      if (block.base === undefined || block.offsets === undefined) continue
      const ops = encodeDelta(block.base.bytes, block.base.offsets, block.bytes, block.offsets)
      assert.deepEqual(applyDelta(block.base.bytes, ops), block.bytes)
      // A leaf's new number, or an inner node's new subtree link (36 bytes), not the whole entry.
      const literal = ops.reduce((n, op) => n + (op instanceof Uint8Array ? op.length : 0), 0)
      assert.ok(literal <= 36, `${literal} literal bytes in a delta`)
      deltas++
    }
    assert.ok(deltas >= 2)
  })

  it('refuses ops that reach outside the base or build an oversized block', () => {
    const base = new Uint8Array(10)
    assert.throws(() => applyDelta(base, [[8, 5]]), ProtocolError)
    assert.throws(() => applyDelta(base, [[-1, 2]]), ProtocolError)
    assert.throws(() => applyDelta(base, ['text']), ProtocolError)
    assert.throws(() => applyDelta(base, [new Uint8Array(1 << 20), new Uint8Array(1)]), ProtocolError)
    assert.deepEqual(applyDelta(Uint8Array.of(1, 2, 3), [[1, 2], Uint8Array.of(9)]), Uint8Array.of(2, 3, 9))
  })

  it('go out as a sync reply only when smaller than the node: a node with every entry changed goes whole', async () => {
    const store = await openStore({ storage: memoryStorage(), name: 'deltas' })
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`)
    await store.transact(async (tx) => {
      for (const key of keys) await tx.assoc(key, { v: 1, pad: 'x'.repeat(40) })
    })
    const first = store.head!
    await store.transact(async (tx) => {
      await tx.assoc('k3', { v: 2, pad: 'x'.repeat(40) })
    })
    const one = store.head!
    // Every entry replaced by a value of another type and size: little left to copy.
    await store.transact(async (tx) => {
      for (const [i, key] of keys.entries()) await tx.assoc(key, i % 2 === 0 ? 'y'.repeat(30 + i) : [i, i * 1000])
    })
    const all = store.head!
    /** Each changed node's message kind, and the kind the rule gives it (delta only if smaller). */
    const kinds = async (have: Commit, want: Commit) => {
      const sent: string[] = []
      for await (const m of newBlockMessages(store, have.tree, want.cid)) sent.push('d' in m ? 'delta' : 'block')
      const expected = ['block'] // the commit
      for await (const block of store.tree.newBlocks(have.tree, want.tree)) {
        if (block.base === undefined || block.offsets === undefined) expected.push('block')
        else {
          const ops = encodeDelta(block.base.bytes, block.base.offsets, block.bytes, block.offsets)
          expected.push(deltaSize(ops) + 32 < block.bytes.length ? 'delta' : 'block')
        }
      }
      return { sent, expected }
    }
    const oneChanged = await kinds(first, one)
    assert.deepEqual(oneChanged.sent, oneChanged.expected)
    assert.ok(oneChanged.sent.includes('delta'), 'one entry changed: a delta')
    const allChanged = await kinds(one, all)
    assert.deepEqual(allChanged.sent, allChanged.expected)
    assert.ok(!allChanged.sent.includes('delta'), 'every entry changed: whole nodes')
    await store.close()
  })
})
