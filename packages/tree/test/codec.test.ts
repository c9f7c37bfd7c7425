// The hand-written node codec against @ipld/dag-cbor, the reference.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import type { CID } from 'multiformats/cid'
import { CborReader } from '../src/cbor.ts'
import { cidOf, decodeValidated, encodeValue, InvalidValueError } from '../src/index.ts'
import { treeLimits } from '../src/limits.ts'
import { decodeNode, encodeNode, type StoredValue, type TreeNode } from '../src/node.ts'
import { hexKey } from './helpers.ts'

const cidArb: fc.Arbitrary<CID> = fc.uint8Array({ maxLength: 8 }).map((b) => cidOf(b))

/** Values in the IPLD data model as @ipld/dag-cbor encodes them. */
const ipldArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer(),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string(),
    fc.string({ unit: 'grapheme' }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 40 }),
    cidArb,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4 }).map((d) => ({ ...d })),
  ),
})).value

const storedArb: fc.Arbitrary<StoredValue> = fc.oneof(
  ipldArb.map((v) => ({ kind: 'inline' as const, bytes: dagCbor.encode(v) })),
  cidArb.map((cid) => ({ kind: 'block' as const, cid })),
  cidArb.map((cid) => ({ kind: 'chunked' as const, cid })),
)

const nodeArb: fc.Arbitrary<TreeNode> = fc
  .record({
    left: fc.option(cidArb, { nil: null }),
    entries: fc.uniqueArray(
      fc.record({
        key: fc.uint8Array({ maxLength: 6, min: 0, max: 3 }),
        value: storedArb,
        meta: fc.option(
          fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 3 }).map((d) => dagCbor.encode({ ...d })),
          { nil: null },
        ),
        right: fc.option(cidArb, { nil: null }),
      }),
      { selector: (e) => hexKey(e.key), maxLength: 12 },
    ),
  })
  .map((n) => ({ left: n.left, entries: [...n.entries].sort((a, b) => (hexKey(a.key) < hexKey(b.key) ? -1 : 1)) }))

/** The same node as a plain object, for @ipld/dag-cbor to encode. */
function asPlainObject(node: TreeNode): unknown {
  let prev: Uint8Array | null = null
  return {
    l: node.left,
    e: node.entries.map((e) => {
      let p = 0
      if (prev !== null) while (p < prev.length && p < e.key.length && prev[p] === e.key[p]) p++
      prev = e.key
      const out: Record<string, unknown> = { k: e.key.subarray(p), p, t: e.right }
      if (e.meta !== null) out.m = dagCbor.decode(e.meta)
      if (e.value.kind === 'inline') out.v = dagCbor.decode(e.value.bytes)
      else out[e.value.kind === 'block' ? 'r' : 'c'] = e.value.cid
      return out
    }),
  }
}

/** @ipld/dag-cbor returns Buffers in Node: compare contents, not classes. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.deepEqual(new Uint8Array(actual), new Uint8Array(expected))
}

describe('node codec', () => {
  it('encodes byte-for-byte as @ipld/dag-cbor and decodes back', () => {
    const limits = treeLimits(4)
    fc.assert(
      fc.property(nodeArb, (node) => {
        const ours = encodeNode(node).bytes
        assertSameBytes(ours, dagCbor.encode(asPlainObject(node)))
        const decoded = decodeNode(ours, limits)
        assertSameBytes(encodeNode(decoded).bytes, ours)
        assert.deepEqual(
          decoded.entries.map((e) => e.key),
          node.entries.map((e) => e.key),
        )
      }),
      { numRuns: 500 },
    )
  })
})

const edgeNumbers = [
  0,
  -0,
  1,
  -1,
  23,
  24,
  255,
  256,
  65535,
  65536,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  -(2 ** 53 - 1),
  2 ** 53,
  1.5,
  -1e300,
  5e-324,
]
const edgeBigInts = [2n ** 53n, 2n ** 64n - 1n, -(2n ** 53n), -(2n ** 64n), 5n]

describe('value encoder and decoder', () => {
  it('encode byte-for-byte as @ipld/dag-cbor and decode to the same values', () => {
    fc.assert(
      fc.property(ipldArb, (value) => {
        const ours = encodeValue(value)
        const reference = dagCbor.encode(value)
        assertSameBytes(ours, reference)
        assert.deepStrictEqual(decodeValidated(reference), dagCbor.decode(reference))
      }),
      { numRuns: 2000 },
    )
  })

  it('agree at integer, float and bigint edges, with non-ASCII and unsorted keys', () => {
    const values = [
      ...edgeNumbers,
      ...edgeBigInts,
      { é: 1, a: 2, zz: 3, b: 4 },
      // Out of order before the non-ASCII key: the encoder once wrote no bytes for that key.
      { b: 1, a: 2, é: 3 },
      { ' ': '', '': 1, '\x80': 0 },
      { longer: 1, z: 2, '': 3, aa: 4 },
      { ['__proto__']: { x: 1 } } as unknown,
      'naïve ✓ text',
      'x'.repeat(70),
    ]
    for (const value of values) {
      const reference = dagCbor.encode(value)
      assertSameBytes(encodeValue(value), reference)
      assert.deepStrictEqual(decodeValidated(reference), dagCbor.decode(reference), String(value))
    }
  })

  it('refuses, with InvalidValueError, what @ipld/dag-cbor cannot encode', () => {
    for (const value of [
      undefined,
      [1, undefined],
      { a: undefined },
      Number.NaN,
      { x: -Infinity },
      () => 1,
      Symbol('s'),
    ]) {
      assert.throws(() => encodeValue(value), InvalidValueError)
      assert.throws(() => dagCbor.encode(value))
    }
  })
})

describe('value reader', () => {
  it('accepts every DAG-CBOR value and finds where it ends', () => {
    fc.assert(
      fc.property(ipldArb, fc.uint8Array({ maxLength: 4 }), (value, tail) => {
        const encoded = dagCbor.encode(value)
        const reader = new CborReader(Uint8Array.from([...encoded, ...tail]))
        assertSameBytes(reader.item(), encoded)
        assert.equal(reader.pos, encoded.length)
      }),
      { numRuns: 1000 },
    )
  })

  it('accepts only valid, canonical DAG-CBOR: whatever it accepts decodes as @ipld/dag-cbor does and re-encodes to itself', () => {
    fc.assert(
      fc.property(
        ipldArb,
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 3 }),
        (value, edits) => {
          const mutated = dagCbor.encode(value).slice()
          for (const [at, byte] of edits) mutated[at % mutated.length] = byte
          const reader = new CborReader(mutated)
          let accepted: Uint8Array
          try {
            accepted = reader.item()
          } catch {
            return // refused: fine
          }
          const decoded = dagCbor.decode(accepted)
          assert.deepStrictEqual(decodeValidated(accepted), decoded)
          // A float64 with an integral value (or -0) is valid DAG-CBOR that other languages write,
          // but it comes back from JavaScript as an integer: only blocks without floats must
          // re-encode to exactly the same bytes.
          if (!accepted.includes(0xfb)) assertSameBytes(dagCbor.encode(decoded), accepted)
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('collects the links inside a value', () => {
    const a = cidOf(Uint8Array.of(1))
    const b = cidOf(Uint8Array.of(2))
    const links: CID[] = []
    new CborReader(dagCbor.encode({ x: [a, { y: b }], z: 'no' })).item(links)
    assert.deepEqual(links.map(String), [a, b].map(String))
  })
})
