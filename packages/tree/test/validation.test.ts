// Every validation error, triggered by a hand-crafted bad block.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from 'multiformats/cid'
import {
  BlockNotFoundError,
  BlockTooLargeError,
  cidOf,
  HashMismatchError,
  InvalidValueError,
  KeyTooLongError,
  keyLevel,
  MalformedNodeError,
  MalformedValueError,
  MerkleSearchTree,
  TooManyEntriesError,
  type TreeInit,
  TreeTooDeepError,
  UnsortedKeysError,
  WrongLevelError,
} from '../src/index.ts'
import { treeLimits } from '../src/limits.ts'
import { decodeNode } from '../src/node.ts'
import { blockCount, bytes, collect, newTree } from './helpers.ts'

const hex = (h: string): Uint8Array =>
  Uint8Array.from((h.replace(/\s+/g, '').match(/../g) ?? []).map((x) => Number.parseInt(x, 16)))

/** Stores `block` and reads through it as a root, looking up `key` (which may make it descend). */
async function readRoot(block: Uint8Array, init: TreeInit = {}, key = ''): Promise<unknown> {
  const { tree, blockstore } = newTree(init)
  const cid = cidOf(block)
  await blockstore.put(cid, block)
  return tree.get(cid, key)
}

/** A one-entry node {e: [{k: 'a', p: 0, t: null, v: <value>}], l: null} with the value's bytes spliced in. */
const withValue = (valueHex: string): Uint8Array =>
  hex(`a2 6165 81 a4 616b 4161 6170 00 6174 f6 6176 ${valueHex} 616c f6`)

interface E {
  k: string | Uint8Array
  p?: number
  v?: unknown
  t?: CID | null
}
/** A node encoded by @ipld/dag-cbor, so the CBOR is canonical and only the tree-level content is wrong. */
const node = (entries: E[], l: CID | null = null): Uint8Array =>
  dagCbor.encode({
    e: entries.map((e) => ({
      k: typeof e.k === 'string' ? bytes(e.k) : e.k,
      p: e.p ?? 0,
      t: e.t ?? null,
      v: e.v ?? 1,
    })),
    l,
  })

/** The first `count` keys `k<n>` whose level is `level` at the given bits per level. */
function keysAt(level: number, bits: number, count = 1): string[] {
  const out: string[] = []
  for (let n = 0; out.length < count; n++) if (keyLevel(bytes(`k${n}`), bits) === level) out.push(`k${n}`)
  return out.sort()
}

describe('malformed nodes', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['an empty block', new Uint8Array(0), /unexpected end of block/],
    ['a node that is not a map', dagCbor.encode([1, 2]), /expected CBOR major type 5/],
    ['an extra node field', dagCbor.encode({ e: [], l: null, x: 1 }), /exactly e and l/],
    ['a missing l field', dagCbor.encode({ e: [] }), /exactly e and l/],
    [
      'an unknown entry field',
      dagCbor.encode({ e: [{ k: bytes('a'), p: 0, t: null, v: 1, z: 1 }], l: null }),
      /unknown entry field z/,
    ],
    [
      'an entry with too few fields',
      dagCbor.encode({ e: [{ k: bytes('a'), p: 0, v: 1 }], l: null }),
      /an entry has k, p, t/,
    ],
    ['an entry without t', dagCbor.encode({ e: [{ k: bytes('a'), m: {}, p: 0, v: 1 }], l: null }), /needs k, p, t/],
    [
      'an entry with both v and r',
      dagCbor.encode({ e: [{ k: bytes('a'), p: 0, t: null, v: 1, r: cidOf(bytes('x')) }], l: null }),
      /exactly one of v, r and c/,
    ],
    [
      'entry fields out of canonical order',
      hex('a2 6165 81 a4 6170 00 616b 4161 6174 f6 6176 01 616c f6'),
      /canonical order/,
    ],
    ['a non-minimal integer', hex('a2 6165 81 a4 616b 4161 6170 1800 6174 f6 6176 01 616c f6'), /non-minimal/],
    ['an indefinite-length array', hex('a2 6165 9f ff 616c f6'), /indefinite-length/],
    ['trailing bytes', hex('a2 6165 80 616c f6 00'), /trailing bytes/],
    ['a CID without the 0x00 prefix', hex('a2 6165 80 616c d82a 42 0102'), /must start with 0x00/],
    ['a first entry with a prefix', node([{ k: 'a', p: 1 }]), /prefix length 0/],
    ['a prefix longer than the previous key', node([{ k: 'a' }, { k: 'b', p: 3 }]), /exceeds the previous key/],
    [
      'a prefix shorter than the shared prefix',
      node([{ k: 'ab' }, { k: 'ac', p: 0 }]),
      /not the longest shared prefix/,
    ],
    ['a root with no entries but a subtree', dagCbor.encode({ e: [], l: cidOf(bytes('x')) }), /root with no entries/],
    ['an undefined inline value', withValue('f7'), /simple value 0xf7/],
    ['a non-CID tag in a value', withValue('c1 00'), /tag 1 is not allowed/],
    ['NaN in a value', withValue('fb 7ff8000000000000'), /NaN and Infinity/],
    ['a half-precision float in a value', withValue('f9 3c00'), /simple value 0xf9/],
    ['unsorted map keys in a value', withValue('a2 6162 01 6161 02'), /canonical order or repeat/],
    ['repeated map keys in a value', withValue('a2 6161 01 6161 02'), /canonical order or repeat/],
    ['invalid UTF-8 in a value', withValue('62 c328'), /not valid UTF-8/],
    ['a value running past the block', withValue('5a 00010000'), /runs past the end/],
  ]
  for (const [name, block, message] of cases) {
    it(`refuses ${name}`, async () => {
      await assert.rejects(readRoot(block), (err: Error) => {
        assert.ok(err instanceof MalformedNodeError, `${err.name}: ${err.message}`)
        assert.match(err.message, message)
        assert.ok((err as MalformedNodeError).cid?.equals(cidOf(block)), 'the error names the block')
        return true
      })
    })
  }

  it('refuses an empty node linked as a subtree', async () => {
    const [high] = keysAt(1, 1)
    const empty = dagCbor.encode({ e: [], l: null })
    const { tree, blockstore } = newTree({ bitsPerLevel: 1 })
    await blockstore.put(cidOf(empty), empty)
    const root = node([{ k: high }], cidOf(empty))
    await blockstore.put(cidOf(root), root)
    await assert.rejects(tree.get(cidOf(root), ''), /empty subtree must be a null link/)
  })
})

describe('decoding against a base node', () => {
  it('refuses a non-canonical entry even where its bytes equal an entry of the base', () => {
    const limits = treeLimits(4)
    const entry = (k: string, p: number, v: number) => ({ k: new TextEncoder().encode(k), p, t: null, v })
    const base = decodeNode(dagCbor.encode({ e: [entry('a', 0, 1), entry('bc', 1, 3)], l: null }), limits)
    // 'ab' then 'abc': the last entry must share 2 bytes, but reuses the base's {p: 1, k: 'bc'}.
    const bad = dagCbor.encode({ e: [entry('a', 0, 1), entry('b', 1, 2), entry('bc', 1, 3)], l: null })
    assert.throws(() => decodeNode(bad, limits), /not the longest shared prefix/)
    assert.throws(() => decodeNode(bad, limits, base), /not the longest shared prefix/)
    // The same entry after the same key is the base's entry, reused.
    const good = decodeNode(dagCbor.encode({ e: [entry('a', 0, 5), entry('bc', 1, 3)], l: null }), limits, base)
    assert.equal(good.entries[1], base.entries[1])
    assert.notEqual(good.entries[0], base.entries[0])
  })
})

describe('tree-level validation', () => {
  it('refuses keys out of order', async () => {
    await assert.rejects(readRoot(node([{ k: 'b' }, { k: 'a' }])), UnsortedKeysError)
  })

  it('refuses a repeated key', async () => {
    await assert.rejects(readRoot(node([{ k: 'a' }, { k: '', p: 1 }])), UnsortedKeysError)
  })

  it('refuses a node mixing key levels', async () => {
    const [low] = keysAt(0, 1)
    const [high] = keysAt(1, 1)
    const entries = [low, high].sort().map((k) => ({ k }))
    const block = node(entries.map((e, i) => (i === 0 ? e : { k: e.k.slice(1), p: 1 })))
    await assert.rejects(
      readRoot(block, { bitsPerLevel: 1 }),
      (err: Error) => err instanceof WrongLevelError && /mixes keys/.test(err.message),
    )
  })

  it('checks the keys a rebuilt node adds to its base, in a precheck told the base', async () => {
    const [low1, low2] = keysAt(0, 1, 2)
    const [high] = keysAt(1, 1)
    const { tree, blockstore } = newTree({ bitsPerLevel: 1 })
    const base = node([{ k: low1 }])
    await blockstore.put(cidOf(base), base)
    assert.equal(await tree.get(cidOf(base), low1), 1, 'the base is loaded, so validated and cached')
    const shared = (a: string, b: string) => {
      const at = [...a].findIndex((c, i) => b[i] !== c)
      return at < 0 ? a.length : at
    }
    const prefixed = (keys: string[]) =>
      node(
        keys.sort().map((k, i, all) => {
          const p = i === 0 ? 0 : shared(all[i - 1], k)
          return { k: k.slice(p), p }
        }),
      )
    // Same level as the base's key: accepted, and a walk (as a sync's) places the checked node.
    const valid = prefixed([low1, low2])
    const checked = tree.precheck(valid, cidOf(base))
    assert.ok(checked !== undefined)
    const walked = await collect(tree.walk(cidOf(valid), { getBlock: async () => valid, checked: () => checked }))
    assert.equal(walked.length, 1)
    // A key from another level next to one the base vouches for: still refused, by the precheck
    // and by the walk that then decodes it itself.
    const mixed = prefixed([low1, high])
    assert.equal(tree.precheck(mixed, cidOf(base)), undefined)
    await assert.rejects(
      collect(tree.walk(cidOf(mixed), { getBlock: async () => mixed })),
      (err: Error) => err instanceof WrongLevelError && /mixes keys/.test(err.message),
    )
  })

  it('refuses a subtree whose keys are at the wrong level', async () => {
    const [a, b] = keysAt(1, 1, 2)
    const { tree, blockstore } = newTree({ bitsPerLevel: 1 })
    const child = node([{ k: a }])
    await blockstore.put(cidOf(child), child)
    const root = node([{ k: b }], cidOf(child))
    await blockstore.put(cidOf(root), root)
    await assert.rejects(
      tree.get(cidOf(root), a),
      (err: Error) => err instanceof WrongLevelError && /linked at level 0/.test(err.message),
    )
  })

  it('refuses a level-0 node with a subtree', async () => {
    const [low] = keysAt(0, 1)
    const block = node([{ k: low, t: cidOf(bytes('x')) }])
    await assert.rejects(
      readRoot(block, { bitsPerLevel: 1 }),
      (err: Error) => err instanceof WrongLevelError && /level 0 cannot have subtrees/.test(err.message),
    )
  })

  it('refuses a node with more entries than the limit', async () => {
    // bitsPerLevel 1: fanout 2, at most 128 entries per node.
    const keys = keysAt(0, 1, 129)
    await assert.rejects(readRoot(node(keys.map((k) => ({ k }))), { bitsPerLevel: 1 }), TooManyEntriesError)
  })

  it('refuses a block over 1 MiB', async () => {
    await assert.rejects(readRoot(new Uint8Array((1 << 20) + 1)), BlockTooLargeError)
  })

  it('refuses a key over 1 KiB', async () => {
    await assert.rejects(readRoot(node([{ k: new Uint8Array(1025).fill(0x61) }])), KeyTooLongError)
  })

  it('refuses a tree deeper than maxLevel', async () => {
    const [high] = keysAt(2, 1)
    await assert.rejects(readRoot(node([{ k: high }]), { bitsPerLevel: 1, maxLevel: 1 }), TreeTooDeepError)
  })

  it('reports a missing block by CID', async () => {
    const missing = cidOf(bytes('not stored'))
    const { tree } = newTree()
    await assert.rejects(
      tree.get(missing, 'a'),
      (err: Error) => err instanceof BlockNotFoundError && err.cid.equals(missing),
    )
  })
})

describe('malformed values', () => {
  it('refuses an out-of-line value block that is not DAG-CBOR', async () => {
    const { tree, blockstore } = newTree()
    const garbage = hex('ff ff')
    await blockstore.put(cidOf(garbage), garbage)
    const root = dagCbor.encode({ e: [{ k: bytes('a'), p: 0, r: cidOf(garbage), t: null }], l: null })
    await blockstore.put(cidOf(root), root)
    await assert.rejects(tree.get(cidOf(root), 'a'), MalformedValueError)
  })

  it('refuses a chunk index whose chunks do not add up', async () => {
    const { tree, blockstore } = newTree()
    const index = dagCbor.encode({ c: [cidOf(bytes('x'), 0x55)], k: 'bytes', s: 5_000_000 })
    await blockstore.put(cidOf(index), index)
    const root = dagCbor.encode({ e: [{ c: cidOf(index), k: bytes('a'), p: 0, t: null }], l: null })
    await blockstore.put(cidOf(root), root)
    await assert.rejects(
      tree.get(cidOf(root), 'a'),
      (err: Error) => err instanceof MalformedValueError && /has 20 chunks, not 1/.test(err.message),
    )
  })
})

describe('nothing is half-applied', () => {
  it('writes nothing when one value in a batch is invalid', async () => {
    const { tree, blockstore } = newTree()
    const root = await tree.put(tree.emptyRoot, 'a', 1)
    const before = await blockCount(blockstore)
    await assert.rejects(
      tree.batch(root, [
        { type: 'put', key: 'b', value: 'x'.repeat(1000) },
        { type: 'put', key: 'c', value: { when: new Date() } },
      ]),
      (err: Error) => err instanceof InvalidValueError && /value\.when is a Date/.test(err.message),
    )
    assert.equal(await blockCount(blockstore), before)
    assert.deepEqual(await collect(tree.entries(root)), [{ key: bytes('a'), value: 1, meta: undefined }])
  })

  it('writes nothing when a batch meets a corrupt subtree', async () => {
    const { tree, blockstore } = newTree({ bitsPerLevel: 1 })
    let root = tree.emptyRoot
    for (let i = 0; i < 64; i++) root = await tree.put(root, `k${i}`, i)
    // Corrupt a leaf in place; a tree with a cold cache must refuse it and leave the store as it was.
    const blocks = await collect(tree.walk(root))
    await blockstore.put(blocks[blocks.length - 1].cid, hex('a2 6165 80 616c f6 00'))
    const cold = new MerkleSearchTree(blockstore, { bitsPerLevel: 1 })
    const before = await blockCount(blockstore)
    const ops = Array.from({ length: 64 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: -i }))
    await assert.rejects(cold.batch(root, ops), MalformedNodeError)
    assert.equal(await blockCount(blockstore), before)
  })

  it('detects a block whose bytes do not match its CID', async () => {
    const { tree } = newTree()
    const root = await tree.put(tree.emptyRoot, 'a', 1)
    const lying = async (): Promise<Uint8Array> => dagCbor.encode({ e: [], l: null })
    await assert.rejects(collect(tree.walk(root, { getBlock: lying, verify: true })), HashMismatchError)
  })
})
