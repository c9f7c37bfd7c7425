// A write refuses exactly what a reader of its blocks would refuse, so no store can hold a block
// that its own reads, walks (gc, verify, pins) or a follower's sync will not take.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import {
  blockLinks,
  cidOf,
  DAG_CBOR,
  InvalidKeyError,
  InvalidValueError,
  MAX_VALUE_DEPTH,
  toKey,
} from '../src/index.ts'
import { blockCount, collect, newTree } from './helpers.ts'

/** A value whose innermost item sits inside `depth` lists. */
function nested(depth: number, leaf: unknown = 1): unknown {
  let value = leaf
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

/** A value nested `depth` deep and encoding to more than 256 bytes, so it gets a block of its own. */
const large = (depth: number): unknown => nested(depth, 'x'.repeat(300))

/** Reads back everything a root reaches as every reader does: a walk that decodes each node, and gc's plain DAG-CBOR walk. */
async function readAll(tree: ReturnType<typeof newTree>['tree'], root: CID): Promise<void> {
  for (const block of await collect(tree.walk(root, { verify: true }))) {
    if (block.cid.code === DAG_CBOR) blockLinks(block.cid, block.bytes)
  }
}

describe('value nesting', () => {
  it(`accepts values nested up to ${MAX_VALUE_DEPTH} deep, inline, in a block and in metadata, and every reader takes them`, async () => {
    const { tree } = newTree()
    for (const depth of [MAX_VALUE_DEPTH - 1, MAX_VALUE_DEPTH]) {
      for (const value of [nested(depth), large(depth), nested(depth - 1, { k: 1n << 63n })]) {
        const root = await tree.put(tree.emptyRoot, 'k', value)
        await readAll(tree, root)
        assert.deepEqual(await tree.get(root, 'k'), value)
      }
      const withMeta = await tree.put(tree.emptyRoot, 'k', 1, { m: nested(depth - 1) })
      await readAll(tree, withMeta)
    }
  })

  it(`refuses values nested deeper than ${MAX_VALUE_DEPTH}, naming the limit, on every encoder path`, async () => {
    const { tree, blockstore } = newTree()
    for (const depth of [MAX_VALUE_DEPTH + 1, MAX_VALUE_DEPTH + 2, 10_000]) {
      // A bigint sends the whole value to @ipld/dag-cbor, which has no limit of its own.
      for (const value of [nested(depth), large(depth), nested(depth, []), [1n, nested(depth)]]) {
        await assert.rejects(
          tree.put(tree.emptyRoot, 'k', value),
          (err: Error) => err instanceof InvalidValueError && /deeper than the limit of 128/.test(err.message),
        )
      }
      await assert.rejects(tree.put(tree.emptyRoot, 'k', 1, { m: nested(depth) }), InvalidValueError)
    }
    const cycle: unknown[] = []
    cycle.push(cycle)
    await assert.rejects(tree.put(tree.emptyRoot, 'k', cycle), InvalidValueError)
    assert.equal(await blockCount(blockstore), 0, 'nothing written')
  })
})

describe('text', () => {
  it('refuses keys that are not well-formed Unicode instead of storing U+FFFD in their place', async () => {
    const { tree, blockstore } = newTree()
    for (const key of ['sur\ud800', '\udc00', 'a\ud800b', 'é\udfff']) {
      assert.throws(() => toKey(key), InvalidKeyError)
      await assert.rejects(tree.put(tree.emptyRoot, key, 1), /not well-formed Unicode/)
    }
    assert.equal(await blockCount(blockstore), 0)
    // Surrogate pairs are fine, and distinct from U+FFFD.
    const root = await tree.put(tree.emptyRoot, 'sur\ud83d\ude00', 1)
    assert.equal(await tree.get(root, 'sur\ufffd'), undefined)
    assert.equal(await tree.get(root, 'sur😀'), 1)
  })

  it('refuses strings and map keys with lone surrogates anywhere in a value or its metadata', async () => {
    const { tree, blockstore } = newTree()
    const bad: [unknown, RegExp][] = [
      ['x\ud800', /value is not well-formed/],
      [{ a: ['ok', 'é\udc00'] }, /value\.a\[1\] is not well-formed/],
      // Both keys would encode as "a\ufffd": a map with a repeated key, which readers refuse.
      [{ 'a\ud800': 1, 'a\udfff': 2 }, /key "a\\ud800", which is not well-formed/],
      [{ n: 1n, s: '\ud800' }, /value\.s is not well-formed/],
    ]
    for (const [value, message] of bad) {
      await assert.rejects(tree.put(tree.emptyRoot, 'k', value), (err: Error) => {
        return err instanceof InvalidValueError && message.test(err.message)
      })
    }
    await assert.rejects(tree.put(tree.emptyRoot, 'k', 1, { who: '\udbff' }), /meta\.who is not well-formed/)
    assert.equal(await blockCount(blockstore), 0)
    const fine = { 'ключ😀': 'значение😀', ascii: 'ok' }
    assert.deepEqual(await tree.get(await tree.put(tree.emptyRoot, 'k', fine), 'k'), fine)
  })
})

describe('a leading U+FEFF', () => {
  it('reads back as written, inline, in a block and as a map key beside the empty key', async () => {
    const { tree } = newTree()
    // A decoder that takes U+FEFF for a byte-order mark drops it: "\ufeffa" reads as "a", and
    // this map as one with the key "" twice, which @ipld/dag-cbor refuses.
    const values = ['\ufeffa', { '\ufeff': 1, '': 2 }, ['\ufeff'.repeat(200)], { k: `\ufeff${'x'.repeat(300)}` }]
    for (const value of values) {
      const root = await tree.put(tree.emptyRoot, 'k', value)
      await readAll(tree, root)
      assert.deepEqual(await tree.get(root, 'k'), value)
    }
  })
})

describe('integers', () => {
  it('accepts the 64-bit range DAG-CBOR holds and refuses past it, naming where', async () => {
    const { tree } = newTree()
    for (const n of [2n ** 64n - 1n, -(2n ** 64n), 2n ** 63n]) {
      const root = await tree.put(tree.emptyRoot, 'k', { n })
      await readAll(tree, root)
    }
    for (const n of [2n ** 64n, -(2n ** 64n) - 1n]) {
      await assert.rejects(tree.put(tree.emptyRoot, 'k', { n }), /value\.n is -?\d+, beyond the 64-bit integers/)
    }
  })
})

describe('links', () => {
  const sha256Cid = (code: number, data: string): CID =>
    CID.createV1(code, cidOf(new TextEncoder().encode(data)).multihash)

  it('accepts links walks can follow, and identity links to anything', async () => {
    const { tree, blockstore } = newTree()
    const leaf = new TextEncoder().encode('leaf')
    const rawCid = cidOf(leaf, 0x55)
    await blockstore.put(rawCid, leaf)
    const identity = CID.createV1(0x85, Digest.create(0x00, new Uint8Array([1, 2, 3])))
    const root = await tree.put(tree.emptyRoot, 'k', { raw: rawCid, id: identity })
    await readAll(tree, root)
    const cidV0 = CID.createV0(sha256Cid(0x70, 'pb').multihash as never)
    for (const link of [cidV0, sha256Cid(0x0129, 'json'), sha256Cid(DAG_CBOR, 'cbor')]) {
      await tree.put(tree.emptyRoot, 'k', link) // the linked block need not be here to write it
    }
  })

  it('refuses links walks cannot follow or verify, and CID objects whose bytes are not a CID', async () => {
    const { tree, blockstore } = newTree()
    const good = sha256Cid(DAG_CBOR, 'x')
    const sha512 = CID.createV1(DAG_CBOR, Digest.create(0x13, new Uint8Array(64)))
    const shortSha256 = CID.createV1(DAG_CBOR, Digest.create(0x12, new Uint8Array(20)))
    const forged = new CID(1, DAG_CBOR, good.multihash, new Uint8Array([1, 0x71, 0x12, 0x20, 9]))
    const bad: [unknown, RegExp][] = [
      [sha256Cid(0x85, 'jose'), /links to codec 0x85, which walks cannot follow/],
      [{ a: [sha256Cid(0x78, 'git')] }, /value\.a\[0\] links to codec 0x78/],
      [sha512, /hash 0x13/],
      [shortSha256, /hash 0x12 \(20 bytes\)/],
      [forged, /not a valid CID/],
      [[1n, sha256Cid(0x85, 'jose')], /value\[1\] links to codec 0x85/],
    ]
    for (const [value, message] of bad) {
      await assert.rejects(
        tree.put(tree.emptyRoot, 'k', value),
        (err: Error) => err instanceof InvalidValueError && message.test(err.message),
      )
    }
    await assert.rejects(tree.put(tree.emptyRoot, 'k', 1, { link: sha512 }), /meta\.link links with hash 0x13/)
    assert.equal(await blockCount(blockstore), 0)
  })
})
