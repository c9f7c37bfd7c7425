// newBlocks: what a holder of one root needs to catch up to another.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { cidOf, verifyBlock } from '../src/index.ts'
import { treeLimits } from '../src/limits.ts'
import { decodeNode } from '../src/node.ts'
import { collect, keyArb, newTree, valueArb } from './helpers.ts'

describe('newBlocks', () => {
  it('gives a holder of the old root everything the new root reaches, with delta bases it already has', async () => {
    const opsArb = fc.array(
      fc.oneof(
        fc.record({ type: fc.constant('put' as const), key: keyArb, value: valueArb }),
        fc.record({ type: fc.constant('delete' as const), key: keyArb }),
      ),
      { maxLength: 40 },
    )
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(1, 2, 4), opsArb, opsArb, async (bitsPerLevel, first, second) => {
        const { tree } = newTree({ bitsPerLevel })
        const a = await tree.batch(tree.emptyRoot, first)
        const b = await tree.batch(a, second)
        const held = new Set((await collect(tree.walk(a))).map((block) => block.cid.toString()))
        const sent = await collect(tree.newBlocks(a, b))
        const limits = treeLimits(bitsPerLevel)
        for (const block of sent) {
          verifyBlock(block.cid, block.bytes)
          if (block.base !== undefined) {
            assert.ok(held.has(block.base.cid.toString()), 'a delta base is a block the holder has')
            verifyBlock(block.base.cid, block.base.bytes)
            // Decoding against the base (reusing its unchanged entries) gives the same node.
            const alone = decodeNode(block.bytes, limits)
            const withBase = decodeNode(block.bytes, limits, decodeNode(block.base.bytes, limits))
            assert.deepEqual(
              withBase.entries.map((e) => ({ ...e })),
              alone.entries.map((e) => ({ ...e })),
            )
            assert.deepEqual(withBase.left, alone.left)
            assert.deepEqual([...withBase.encoding!.offsets], [...alone.encoding!.offsets])
          }
        }
        const ids = sent.map((block) => block.cid.toString())
        assert.equal(new Set(ids).size, ids.length, 'each block once')
        for (const block of await collect(tree.walk(b))) {
          const id = block.cid.toString()
          assert.ok(held.has(id) || ids.includes(id), `block ${id} of the new root is covered`)
        }
      }),
      { numRuns: 150 },
    )
  })

  it('sends only the changed paths of a large tree, each node with its predecessor, and what values link to', async () => {
    const { tree, blockstore } = newTree()
    const entries = Array.from({ length: 20_000 }, (_, i) => ({ key: `k${String(i).padStart(6, '0')}`, value: { i } }))
    const a = await tree.build(entries)
    const linked = new TextEncoder().encode('linked from a value')
    const linkedCid = cidOf(linked, 0x55)
    await blockstore.put(linkedCid, linked)
    const b = await tree.batch(a, [
      { type: 'put', key: 'k000100', value: 'changed' },
      { type: 'put', key: 'k015000', value: { big: 'x'.repeat(2000) } },
      { type: 'put', key: 'k019999', value: { link: linkedCid } },
    ])
    const depth = (await tree.proof(b, 'k000100')).length
    const sent = await collect(tree.newBlocks(a, b))
    const nodes = sent.filter((block) => block.offsets !== undefined)
    assert.ok(nodes.length <= 3 * depth, `${nodes.length} nodes for 3 changes at depth ${depth}`)
    assert.ok(
      nodes.every((node) => node.base !== undefined),
      'every changed node replaces one',
    )
    const others = sent.filter((block) => block.offsets === undefined).map((block) => block.cid.toString())
    assert.equal(others.length, 2, 'the out-of-line value and the block a value links to')
    assert.ok(others.includes(linkedCid.toString()))
    assert.deepEqual(await collect(tree.newBlocks(b, b)), [])
  })

  it('gives no base to a new node whose keys all sit beside the old node (appended keys make new subtrees)', async () => {
    const { tree } = newTree()
    const key = (i: number) => `k${String(i).padStart(6, '0')}`
    const a = await tree.build(Array.from({ length: 5_000 }, (_, i) => ({ key: key(i), value: { i } })))
    const b = await tree.batch(
      a,
      Array.from({ length: 5_000 }, (_, i) => ({ type: 'put' as const, key: key(5_000 + i), value: { i } })),
    )
    const nodes = (await collect(tree.newBlocks(a, b))).filter((block) => block.offsets !== undefined)
    const limits = treeLimits(4)
    const range = (bytes: Uint8Array) => {
      const { entries } = decodeNode(bytes, limits)
      return [Buffer.from(entries[0]!.key).toString(), Buffer.from(entries.at(-1)!.key).toString()]
    }
    const withBase = nodes.filter((node) => node.base !== undefined)
    for (const node of withBase) {
      const [first, last] = range(node.bytes)
      const [baseFirst, baseLast] = range(node.base!.bytes)
      assert.ok(
        first! <= baseLast! && baseFirst! <= last!,
        `${first}..${last} overlaps its base ${baseFirst}..${baseLast}`,
      )
    }
    // Only the old right edge (one node per level: three here) is replaced; the rest are new.
    assert.ok(withBase.length <= 3, `${withBase.length} of ${nodes.length} nodes have a base`)
  })
})
