// Ops given as DAG-CBOR (CheckedOps.addCbor, what the daemon reads from its clients): a put's
// value is stored as the bytes it came in, not decoded and encoded again, only when those bytes
// are the encoder's own. Whichever way an op goes, the store ends as `assoc` of the value leaves
// it (equal content, equal CIDs), and refuses what `assoc` refuses.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cidOf, collectCids, decodeCbor, encodeValue, MAX_VALUE_DEPTH } from '@dagsync/tree'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import { CheckedOps, InvalidOpError, memoryStorage, openStore, type Store } from '../src/index.ts'
import { splitPut } from '../src/op-cbor.ts'

const cidArb: fc.Arbitrary<CID> = fc.uint8Array({ maxLength: 8 }).map((b) => CID.createV1(0x55, identity.digest(b)))

const valueArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer(),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string(),
    fc.string({ unit: 'grapheme' }),
    fc.string({ maxLength: 4 }).map((s) => `\ufeff${s}`),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 40 }),
    cidArb,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4 }).map((d) => ({ ...d })),
  ),
})).value

const keyArb = fc.oneof(fc.string({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }))

/** A put op's DAG-CBOR with `value` as the given bytes. */
function putOp(key: string | Uint8Array, value: Uint8Array): Uint8Array {
  const head = encodeValue({ op: 'put', key, value: null })
  // The value is the map's last item: swap the encoded null (one byte) for the bytes.
  return Uint8Array.from([...head.subarray(0, head.length - 1), ...value])
}

/** 1.0 as a float64, as other DAG-CBOR encoders may write it (JavaScript reads it as 1). */
const FLOAT_ONE = Uint8Array.of(0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0)
/** -0.0 as a float64. */
const FLOAT_MINUS_ZERO = Uint8Array.of(0xfb, 0x80, 0, 0, 0, 0, 0, 0, 0)

async function headWith(write: (db: Store) => Promise<unknown>): Promise<string | Error> {
  // One clock: an entry holds its write time, and the trees are compared.
  const db = await openStore({ storage: memoryStorage(), now: () => 1_000 })
  try {
    await write(db)
    return String(db.head?.tree)
  } catch (err) {
    return err as Error
  } finally {
    await db.close()
  }
}

async function viaCbor(bytes: Uint8Array[]): Promise<string | Error> {
  return headWith(async (db) => {
    const ops = new CheckedOps()
    for (const op of bytes) ops.addCbor(op)
    await db.transact(ops)
  })
}

async function viaAssoc(key: string | Uint8Array, value: unknown): Promise<string | Error> {
  return headWith((db) => db.transact((tx) => tx.assoc(key, value)))
}

describe('ops given as DAG-CBOR', () => {
  it('leave the store as assoc of the decoded value does, the bytes kept as they came when they are the encoder’s', async () => {
    let kept = 0
    await fc.assert(
      fc.asyncProperty(keyArb, valueArb, async (key, value) => {
        const bytes = encodeValue({ op: 'put', key, value })
        const put = splitPut(bytes)
        if (put !== undefined) {
          kept++
          assert.deepEqual(put.encoding, new Uint8Array(encodeValue(value)))
          // In the encoding's order (map keys sorted), not the object's: compared as sets.
          assert.deepEqual(put.links.map(String).sort(), collectCids(value).map(String).sort())
        }
        assert.equal(await viaCbor([bytes]), await viaAssoc(key, value))
      }),
      { numRuns: 300 },
    )
    assert.ok(kept > 250, `${kept} of 300 puts kept their bytes`)
  })

  it('write a float64 holding an integer as assoc writes the number it reads as: the same tree', async () => {
    for (const [bytes, read] of [
      [FLOAT_ONE, 1],
      [FLOAT_MINUS_ZERO, -0],
      [Uint8Array.of(0x81, ...FLOAT_ONE), [1]],
      [Uint8Array.of(0xa1, 0x61, 0x61, ...FLOAT_ONE), { a: 1 }],
    ] as const) {
      assert.equal(splitPut(putOp('k', bytes)), undefined, 'not kept as it came')
      assert.deepEqual(decodeCbor(bytes), read)
      assert.equal(await viaCbor([putOp('k', bytes)]), await viaAssoc('k', read))
    }
    // A float that is not an integer is the encoder's own bytes.
    const half = Uint8Array.of(0xfb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0)
    assert.deepEqual(splitPut(putOp('k', half))?.encoding, encodeValue(0.5))
  })

  it('refuse a value nested past MAX_VALUE_DEPTH, as assoc does, naming the op', async () => {
    const depth = (n: number): Uint8Array => Uint8Array.from([...new Array(n).fill(0x81), 0x01])
    assert.notEqual(splitPut(putOp('k', depth(MAX_VALUE_DEPTH))), undefined)
    const tooDeep = putOp('k', depth(MAX_VALUE_DEPTH + 1))
    assert.equal(splitPut(tooDeep), undefined)
    const err = await viaCbor([tooDeep])
    assert.ok(err instanceof InvalidOpError, String(err))
    assert.match(err.message, /ops\[0\] \(put "k"\).*deeper than the limit of 128/)
  })

  it('refuse a link no walk can follow, as assoc does', async () => {
    // A CIDv1 of an unknown codec (0x300) over a sha2-256 digest.
    const odd = CID.createV1(0x300, cidOf(Uint8Array.of(1)).multihash)
    // Written by hand: the encoder refuses it. Tag 42 over a byte string of 0x00 and the CID.
    const bytes = putOp('k', Uint8Array.of(0xd8, 0x2a, 0x58, odd.bytes.length + 1, 0, ...odd.bytes))
    assert.ok(CID.asCID(decodeCbor(bytes) && (decodeCbor(bytes) as { value: unknown }).value)?.equals(odd))
    assert.equal(splitPut(bytes), undefined)
    const viaOps = await viaCbor([bytes])
    assert.ok(viaOps instanceof InvalidOpError, String(viaOps))
    assert.ok((await viaAssoc('k', odd)) instanceof Error)
  })

  it('hold the links in a kept value, so a link to a block the store lacks is refused', async () => {
    const missing = cidOf(Uint8Array.of(9, 9, 9))
    const bytes = encodeValue({ op: 'put', key: 'k', value: { see: missing } })
    assert.deepEqual(splitPut(bytes)?.links.map(String), [String(missing)])
    const err = await viaCbor([bytes])
    assert.ok(err instanceof InvalidOpError, String(err))
    assert.match(err.message, /does not hold/)
  })

  it('give plain ops back, values decoded, to send on to a writer', () => {
    const ops = new CheckedOps()
    ops.addCbor(encodeValue({ op: 'put', key: 'a', value: { n: 1, s: 'x' } }))
    ops.addCbor(encodeValue({ op: 'delete', key: 'b' }))
    assert.deepEqual(ops.ops, [
      { op: 'put', key: 'a', value: { n: 1, s: 'x' } },
      { op: 'delete', key: 'b' },
    ])
  })
})
