import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import {
  CHUNK_BYTES,
  cidOf,
  encodeMeta,
  encodeValue,
  InvalidKeyError,
  InvalidValueError,
  MAX_BLOCK_BYTES,
  prepareByteStream,
  prepareEncoded,
  prepareValue,
  UnsortedInputError,
} from '../src/index.ts'
import { blockCount, bytes, collect, newTree } from './helpers.ts'

describe('value forms', () => {
  it('inlines a value whose encoding is at most 256 bytes and links a larger one', async () => {
    const { tree } = newTree()
    // A 254-character string encodes to 256 bytes (2-byte header), 255 characters to 257.
    assert.equal(dagCbor.encode('x'.repeat(254)).length, 256)
    let root = await tree.put(tree.emptyRoot, 'small', 'x'.repeat(254))
    root = await tree.put(root, 'large', 'x'.repeat(255))
    assert.equal((await tree.getEntry(root, 'small'))?.stored.kind, 'inline')
    assert.equal((await tree.getEntry(root, 'large'))?.stored.kind, 'block')
    assert.equal(await tree.get(root, 'large'), 'x'.repeat(255))
  })

  it('tells a value that is a CID apart from a link to an out-of-line value', async () => {
    const { tree } = newTree()
    const big = { text: 'y'.repeat(1000) }
    let root = await tree.put(tree.emptyRoot, 'big', big)
    const entry = await tree.getEntry(root, 'big')
    assert.equal(entry?.stored.kind, 'block')
    const linkToBig = entry?.stored.kind === 'block' ? entry.stored.cid : undefined
    assert.ok(linkToBig)
    // Store that same CID as a value: reading it must give the CID, not the block it names.
    root = await tree.put(root, 'link', linkToBig)
    assert.equal((await tree.getEntry(root, 'link'))?.stored.kind, 'inline')
    assert.ok(linkToBig.equals(await tree.get(root, 'link')))
    assert.deepEqual(await tree.get(root, 'big'), big)
  })

  it('chunks a byte string over 1 MiB into raw chunks and streams it back', async () => {
    const { tree } = newTree()
    const data = new Uint8Array(MAX_BLOCK_BYTES + 12345).map((_, i) => (i * 31) & 0xff)
    const root = await tree.put(tree.emptyRoot, 'file', data)
    const entry = await tree.getEntry(root, 'file')
    assert.equal(entry?.stored.kind, 'chunked')
    assert.deepEqual(await tree.get(root, 'file'), data)
    const pieces = await collect(tree.readBytes(entry!.stored))
    assert.deepEqual(
      pieces.map((p) => p.length),
      [CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES, data.length - 4 * CHUNK_BYTES],
    )
  })

  it('chunks a structured value whose encoding is over 1 MiB', async () => {
    const { tree } = newTree()
    const value = { rows: Array.from({ length: 60_000 }, (_, i) => ({ i, name: `row ${i}` })) }
    assert.ok(dagCbor.encode(value).length > MAX_BLOCK_BYTES)
    const root = await tree.put(tree.emptyRoot, 'table', value)
    assert.equal((await tree.getEntry(root, 'table'))?.stored.kind, 'chunked')
    assert.deepEqual(await tree.get(root, 'table'), value)
  })

  it('gives a streamed byte string exactly the form of the whole one', async () => {
    for (const size of [
      0,
      200,
      300_000,
      MAX_BLOCK_BYTES - 5,
      MAX_BLOCK_BYTES - 4,
      3 * CHUNK_BYTES + 1,
      5 * CHUNK_BYTES,
    ]) {
      const data = new Uint8Array(size).map((_, i) => (i * 7) & 0xff)
      const whole = prepareValue(data)
      const written: string[] = []
      const pieces = function* () {
        for (let i = 0; i < data.length; i += 100_000) yield data.subarray(i, i + 100_000)
      }
      const streamed = await prepareByteStream(pieces(), async (block) => {
        written.push(block.cid.toString())
      })
      assert.deepEqual(streamed, whole.stored, `size ${size}`)
      assert.deepEqual(written.sort(), whole.blocks.map((b) => b.cid.toString()).sort(), `blocks for size ${size}`)
    }
  })

  it('gives a value already encoded exactly the form of the value itself', () => {
    const bytesOf = (size: number) => new Uint8Array(size).map((_, i) => (i * 7) & 0xff)
    for (const value of [
      'x',
      'x'.repeat(300),
      bytesOf(MAX_BLOCK_BYTES - 4),
      bytesOf(MAX_BLOCK_BYTES - 5),
      bytesOf(3 * CHUNK_BYTES + 1),
      Array.from({ length: 40_000 }, (_, i) => ({ i })),
    ]) {
      const { stored, blocks, size } = prepareValue(value)
      const encoded = prepareEncoded(encodeValue(value))
      assert.deepEqual([encoded.stored, encoded.blocks, encoded.size], [stored, blocks, size])
    }
  })

  it('refuses values outside the IPLD data model, naming where', async () => {
    const { tree, blockstore } = newTree()
    class Point {
      x = 1
    }
    const bad: [unknown, RegExp][] = [
      [undefined, /value is undefined/],
      [() => 1, /value is a function/],
      [Number.NaN, /value is NaN/],
      [Number.POSITIVE_INFINITY, /value is Infinity/],
      [new Point(), /value is a Point/],
      [new Date(), /value is a Date/],
      [new Map([['a', 1]]), /value is a Map/],
      [new Uint16Array(2), /value is a Uint16Array/],
      [Symbol('s'), /value is a symbol/],
      [{ a: [1, { b: undefined }] }, /value\.a\[1\]\.b is undefined/],
    ]
    for (const [value, message] of bad) {
      await assert.rejects(
        tree.put(tree.emptyRoot, 'k', value),
        (err: Error) => err instanceof InvalidValueError && message.test(err.message),
      )
    }
    assert.equal(await blockCount(blockstore), 0, 'nothing written')
  })

  it('refuses a key over 1 KiB', async () => {
    const { tree } = newTree()
    await assert.rejects(tree.put(tree.emptyRoot, new Uint8Array(1025), 1), InvalidKeyError)
  })
})

describe('metadata', () => {
  it('takes metadata already encoded as it takes the object: the same tree', async () => {
    const { tree } = newTree()
    const stored = prepareValue('v').stored
    const meta = { w: 1, s: 2 }
    const plain = await tree.batch(tree.emptyRoot, [{ type: 'put', key: 'k', stored, meta }])
    const encoded = await tree.batch(tree.emptyRoot, [{ type: 'put', key: 'k', stored, encodedMeta: encodeMeta(meta) }])
    assert.equal(String(encoded), String(plain))
    assert.deepEqual((await tree.getEntry(encoded, 'k'))?.meta, meta)
  })

  it('keeps metadata beside the value and diffs a metadata-only change', async () => {
    const { tree } = newTree()
    const v1 = await tree.put(tree.emptyRoot, 'k', 'same', { lastWrite: 1 })
    const v2 = await tree.put(v1, 'k', 'same', { lastWrite: 2 })
    assert.deepEqual((await tree.getEntry(v2, 'k'))?.meta, { lastWrite: 2 })
    const changes = await collect(tree.diff(v1, v2))
    assert.equal(changes.length, 1)
    assert.deepEqual(changes[0].before?.meta, { lastWrite: 1 })
    assert.deepEqual(changes[0].after?.meta, { lastWrite: 2 })
  })

  it('with keepIf, leaves an entry holding the same value as it is when keepIf accepts its metadata', async () => {
    const { tree } = newTree()
    const v1 = await tree.batch(tree.emptyRoot, [
      { type: 'put', key: 'a', value: 'same', meta: { w: 1 } },
      { type: 'put', key: 'b', value: 'x'.repeat(300), meta: { w: 1 } },
    ])
    const seen: unknown[] = []
    const keep = (meta: Record<string, unknown> | undefined): boolean => {
      seen.push(meta)
      return true
    }
    const same = await tree.batch(v1, [
      { type: 'put', key: 'a', value: 'same', meta: { w: 2 }, keepIf: keep },
      { type: 'put', key: 'b', value: 'x'.repeat(300), meta: { w: 2 }, keepIf: keep },
    ])
    assert.ok(same.equals(v1), 'nothing changed')
    assert.deepEqual(seen, [{ w: 1 }, { w: 1 }])
    seen.length = 0
    const changed = await tree.batch(v1, [
      { type: 'put', key: 'a', value: 'other', meta: { w: 2 }, keepIf: keep }, // another value: keepIf not asked
      { type: 'put', key: 'b', value: 'x'.repeat(300), meta: { w: 2 }, keepIf: () => false },
      { type: 'put', key: 'c', value: 1, meta: { w: 2 }, keepIf: keep }, // a new key
    ])
    assert.deepEqual(seen, [])
    for (const key of ['a', 'b', 'c']) assert.deepEqual((await tree.getEntry(changed, key))?.meta, { w: 2 })
  })

  it('refuses metadata that is not a small plain object', async () => {
    const { tree } = newTree()
    await assert.rejects(tree.put(tree.emptyRoot, 'k', 1, { blob: 'z'.repeat(300) }), /metadata encodes to \d+ bytes/)
    await assert.rejects(tree.put(tree.emptyRoot, 'k', 1, [1] as never), /metadata must be a plain object/)
  })
})

describe('walks', () => {
  it('lists every reachable block once, following links inside values into any codec', async () => {
    const { tree, blockstore } = newTree({ bitsPerLevel: 1 })
    const raw = bytes('raw leaf')
    const rawCid = cidOf(raw, 0x55)
    const doc = dagCbor.encode({ child: rawCid })
    const docCid = cidOf(doc)
    const pb = dagPb.encode(dagPb.prepare({ Links: [{ Hash: docCid, Name: 'doc' }] }))
    const pbCid = cidOf(pb, 0x70)
    for (const [cid, b] of [
      [rawCid, raw],
      [docCid, doc],
      [pbCid, pb],
    ] as const) {
      await blockstore.put(cid, b)
    }
    const ops = Array.from({ length: 200 }, (_, i) => ({
      type: 'put' as const,
      key: `k${String(i).padStart(3, '0')}`,
      value: i,
    }))
    const root = await tree.batch(tree.emptyRoot, [
      ...ops,
      { type: 'put', key: 'linked', value: { files: pbCid } },
      { type: 'put', key: 'big', value: { text: 'b'.repeat(500), also: docCid } },
      { type: 'put', key: 'meta', value: 1, meta: { source: rawCid } },
    ])

    const walked = await collect(tree.walk(root))
    const ids = walked.map((b) => b.cid.toString())
    assert.equal(new Set(ids).size, ids.length, 'each block once')
    for (const cid of [rawCid, docCid, pbCid]) assert.ok(ids.includes(cid.toString()), `walk reaches ${cid}`)
    // One batch from empty: every block in the store is reachable, so the tree wrote nothing it does not link to.
    assert.equal(ids.length, await blockCount(blockstore))
  })

  it('with has(), lists exactly the blocks a holder of the old version lacks', async () => {
    const { tree } = newTree()
    const entries = Array.from({ length: 3000 }, (_, i) => ({ key: `k${String(i).padStart(5, '0')}`, value: { i } }))
    const v1 = await tree.build(entries)
    const v2 = await tree.batch(
      v1,
      Array.from({ length: 20 }, (_, i) => ({
        type: 'put' as const,
        key: `k${String(i * 97).padStart(5, '0')}`,
        value: 'new',
      })),
    )
    const old = new Set((await collect(tree.walk(v1))).map((b) => b.cid.toString()))
    const all = (await collect(tree.walk(v2))).map((b) => b.cid.toString())
    const missing = (await collect(tree.walk(v2, { has: (cid) => old.has(cid.toString()) }))).map((b) =>
      b.cid.toString(),
    )
    assert.deepEqual(missing.sort(), all.filter((id) => !old.has(id)).sort())
    assert.ok(missing.length > 0 && missing.length < all.length / 5)
  })

  it('gives proofs that answer a lookup with nothing else', async () => {
    const { tree } = newTree({ bitsPerLevel: 2 })
    const entries = Array.from({ length: 1000 }, (_, i) => ({ key: `k${String(i).padStart(4, '0')}`, value: i }))
    const root = await tree.build(entries)
    for (const key of ['k0500', 'k0999', 'k0500x', 'a', 'z']) {
      const proof = await tree.proof(root, key)
      const alone = newTree({ bitsPerLevel: 2 })
      for (const block of proof) await alone.blockstore.put(block.cid, block.bytes)
      const expected = await tree.get(root, key)
      assert.equal(await alone.tree.get(root, key), expected, key)
    }
  })

  it('writes only the nodes on the path of a change', async () => {
    const { tree, blockstore } = newTree()
    const entries = Array.from({ length: 20_000 }, (_, i) => ({ key: `k${String(i).padStart(6, '0')}`, value: i }))
    const root = await tree.build(entries)
    const depth = (await tree.proof(root, 'k010000')).length
    const before = await blockCount(blockstore)
    await tree.put(root, 'k010000', 'changed')
    const written = (await blockCount(blockstore)) - before
    assert.ok(written >= 1 && written <= depth, `${written} new blocks for a tree of depth ${depth}`)
  })

  it('reads correctly through a cache far smaller than the tree', async () => {
    const { tree, blockstore } = newTree({ cacheBytes: 4096 })
    const entries = Array.from({ length: 2000 }, (_, i) => ({ key: `k${String(i).padStart(4, '0')}`, value: i }))
    const root = await tree.build(entries)
    for (let i = 0; i < 2000; i += 37) assert.equal(await tree.get(root, `k${String(i).padStart(4, '0')}`), i)
    assert.equal(await tree.count(root), 2000)
    assert.ok((await blockCount(blockstore)) > 4)
  })

  it('refuses unsorted input to build', async () => {
    const { tree } = newTree()
    await assert.rejects(
      tree.build([
        { key: 'b', value: 1 },
        { key: 'a', value: 2 },
      ]),
      UnsortedInputError,
    )
  })
})
