// Property test: whatever a write accepts, every reader accepts (the tree's own validation on a
// walk from each commit, commit decoding, verify, checkDag, gc); whatever a reader would refuse,
// the write refuses first, with a clear error and no change to the store. A simple model of the
// documented limits says which is which, so a writer that refuses too much fails as well.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  blockLinks,
  cidOf,
  collectBytes,
  DAG_CBOR,
  MAX_BLOCK_BYTES,
  MAX_KEY_BYTES,
  MAX_VALUE_DEPTH,
} from '@dagsync/tree'
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import {
  type BlockstoreStorage,
  checkDag,
  collectGarbage,
  decodeCommit,
  InvalidCommitError,
  InvalidKeyError,
  InvalidValueError,
  memoryStorage,
  openStore,
  type Store,
  StoreError,
} from '../src/index.ts'

const utf8 = new TextEncoder()

/** Blocks of every codec a value may link to, put in storage before the writes that link them. */
const LINKED = [
  { bytes: utf8.encode('a raw leaf'), code: 0x55 },
  { bytes: dagCbor.encode({ nested: 'block' }), code: DAG_CBOR },
  { bytes: utf8.encode('{"a":1}'), code: 0x0129 }, // dag-json
  { bytes: new Uint8Array(0), code: 0x70 }, // the empty dag-pb node
].map(({ bytes, code }) => ({ bytes, cid: cidOf(bytes, code) }))
const PB_V0 = CID.createV0(LINKED[3].cid.multihash as never)

const GOOD_LINKS: CID[] = [
  ...LINKED.map((b) => b.cid),
  PB_V0,
  CID.createV1(0x85, Digest.create(0x00, utf8.encode('identity: carried inline, never fetched'))),
]
const BAD_LINKS: CID[] = [
  CID.createV1(0x85, cidOf(utf8.encode('jose')).multihash), // a codec no walk can follow
  CID.createV1(DAG_CBOR, Digest.create(0x13, new Uint8Array(64))), // sha2-512: no walk can verify it
]
const BAD = new Set(BAD_LINKS.map(String))

const LONE = ['\ud800', '\udbff', '\udc00', '\udfff']
const loneArb = fc
  .tuple(fc.string({ maxLength: 4 }), fc.constantFrom(...LONE), fc.string({ maxLength: 4 }))
  .map(([a, s, b]) => a + s + b)
const textArb = fc.oneof(
  { weight: 8, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) }, // any code point, pairs included
  { weight: 1, arbitrary: loneArb },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }).map((s) => `\ufeff${s}`) }, // a leading U+FEFF is text, not a BOM
  { weight: 1, arbitrary: fc.string({ minLength: 300, maxLength: 600 }) }, // out of line
)
const INT_EDGES = [2n ** 64n - 1n, 2n ** 64n, -(2n ** 64n), -(2n ** 64n) - 1n, 2n ** 53n, -(2n ** 63n)]

// Invalid leaves are rare enough that most transactions (several writes each) are accepted.
const leafArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.integer() },
  { weight: 2, arbitrary: fc.double() }, // NaN, ±Infinity and -0 included
  { weight: 2, arbitrary: fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }) },
  { weight: 1, arbitrary: fc.constantFrom(...INT_EDGES) },
  { weight: 6, arbitrary: textArb },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...GOOD_LINKS) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(...BAD_LINKS, undefined, new Date(0)) },
)

/** Values nested anywhere from a little to just past the limit, by lists and maps. */
const nestedArb = fc
  .tuple(fc.integer({ min: MAX_VALUE_DEPTH - 3, max: MAX_VALUE_DEPTH + 2 }), leafArb, fc.boolean())
  .map(([depth, leaf, maps]) => {
    let value = leaf
    for (let i = 0; i < depth; i++) value = maps && i % 2 === 0 ? { [`k${i}`]: value } : [value]
    return value
  })

const valueArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: leafArb },
    { weight: 2, arbitrary: fc.array(tie('value'), { maxLength: 5 }) },
    // fast-check builds records without a prototype; plain objects are what callers pass.
    { weight: 2, arbitrary: fc.dictionary(textArb, tie('value'), { maxKeys: 5 }).map((d) => ({ ...d })) },
    { weight: 1, arbitrary: nestedArb },
  ),
})).value

/** A few large values, built once: a wide map with non-ASCII keys, chunked bytes, a chunked structure. */
const BIG_MAP = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`ключ-${i}-😀`, i % 7 === 0 ? `${i}` : i]))
const bigArb = fc.constantFrom<unknown>(
  BIG_MAP,
  new Uint8Array(MAX_BLOCK_BYTES + 1),
  Array.from({ length: 40_000 }, (_, i) => ({ i, s: 'abcdefgh' })),
)

const keyArb: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 8, arbitrary: fc.string({ minLength: 0, maxLength: 8 }) },
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: loneArb },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }).map((s) => `\ufeff${s}`) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_KEY_BYTES - 1, max: MAX_KEY_BYTES + 1 }).map((n) => 'k'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 511, max: 513 }).map((n) => 'é'.repeat(n)) }, // 2 bytes each: 1022 to 1026
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 8 }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: MAX_KEY_BYTES - 1, max: MAX_KEY_BYTES + 1 }).map((n) => new Uint8Array(n)),
  },
)

const HUGE_META = { note: 'x'.repeat(MAX_BLOCK_BYTES) }
const metaArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.dictionary(textArb, valueArb, { maxKeys: 3 }).map((d) => ({ ...d })) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>([1, 2], LINKED[0].cid, new Uint8Array(2), HUGE_META) },
  { weight: 1, arbitrary: nestedArb.map((m) => ({ m })) },
)

interface Tx {
  writes: { key: string | Uint8Array; value: unknown }[]
  meta: unknown
}
const txArb: fc.Arbitrary<Tx> = fc.record({
  writes: fc.array(
    fc.record({ key: keyArb, value: fc.oneof({ weight: 12, arbitrary: valueArb }, { weight: 1, arbitrary: bigArb }) }),
    { minLength: 1, maxLength: 3 },
  ),
  meta: metaArb,
})

// --- the model: the documented limits, written out independently of the code -----------------

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** Whether the documented limits refuse a value (or metadata) sitting `depth` lists and maps deep. */
function refusedValue(v: unknown, depth = 0): boolean {
  if (depth > MAX_VALUE_DEPTH) return true
  switch (typeof v) {
    case 'string':
      return !v.isWellFormed()
    case 'number':
      return !Number.isFinite(v)
    case 'bigint':
      return v > 2n ** 64n - 1n || v < -(2n ** 64n)
    case 'boolean':
      return false
    case 'object': {
      if (v === null || v instanceof Uint8Array) return false
      if (Array.isArray(v)) return v.some((x) => refusedValue(x, depth + 1))
      const cid = CID.asCID(v)
      if (cid !== null) return BAD.has(String(cid))
      if (!isPlainObject(v)) return true
      return Object.entries(v).some(([k, x]) => !k.isWellFormed() || refusedValue(x, depth + 1))
    }
    default:
      return true
  }
}

function keyBytes(key: string | Uint8Array): Uint8Array {
  return typeof key === 'string' ? utf8.encode(key) : key
}

function refusedKey(key: string | Uint8Array): boolean {
  if (typeof key !== 'string') return key.length > MAX_KEY_BYTES
  return !key.isWellFormed() || keyBytes(key).length > MAX_KEY_BYTES
}

/** Commit metadata is a map inside the commit (one level down), and the commit one block. */
function refusedMeta(meta: unknown): boolean {
  if (meta === undefined) return false
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta) || meta instanceof Uint8Array) return true
  if (CID.asCID(meta) !== null || refusedValue(meta, 1)) return true
  return dagCbor.encode(meta).length > MAX_BLOCK_BYTES - 200
}

/** A value as DAG-CBOR gives it back: integers that fit are numbers, -0 is 0, maps are plain objects. */
function asRead(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= -(2n ** 53n) + 1n && v <= 2n ** 53n - 1n ? Number(v) : v
  if (typeof v === 'number') return Object.is(v, -0) ? 0 : v
  if (v === null || typeof v !== 'object') return v
  if (v instanceof Uint8Array) return new Uint8Array(v)
  if (Array.isArray(v)) return v.map(asRead)
  const cid = CID.asCID(v)
  if (cid !== null) return cid
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asRead(x)]))
}

// --- the readers -------------------------------------------------------------------------------

async function blockCount(storage: BlockstoreStorage): Promise<number> {
  let n = 0
  for await (const _ of storage.blockstore.getAll()) n++
  return n
}

/** Every check a reader makes, on every commit of the store and every block in its storage. */
async function readEverything(db: Store, storage: BlockstoreStorage): Promise<void> {
  for await (const commit of db.log()) {
    const bytes = await db.tree.blockBytes(commit.cid)
    decodeCommit(commit.cid, bytes, true)
    // A follower's sync: each node decoded and checked where it sits, every block re-hashed.
    for await (const _ of db.tree.walk(commit.tree, { verify: true })) {
      // walking is the check
    }
    const dag = await checkDag(storage.blockstore, [commit.cid])
    assert.deepEqual([dag.missing, dag.corrupt], [[], []], `checkDag of commit ${commit.seq}`)
  }
  // gc, verify and pins read every block as plain DAG-CBOR.
  for await (const { cid, bytes } of storage.blockstore.getAll()) {
    if (cid.code === DAG_CBOR) blockLinks(cid, await collectBytes(bytes))
  }
  const verified = await db.verify()
  assert.deepEqual([verified.missing, verified.corrupt], [[], []])
}

describe('writers and readers agree on every limit', () => {
  it('a write accepts exactly what every reader accepts; a refused write changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(txArb, { minLength: 1, maxLength: 4 }), async (txs) => {
        const storage = memoryStorage()
        for (const { cid, bytes } of LINKED) await storage.blockstore.put(cid, bytes)
        const db = await openStore({ storage })
        const expected = new Map<string, Tx['writes'][number]>()
        for (const tx of txs) {
          const refused = refusedMeta(tx.meta) || tx.writes.some((w) => refusedKey(w.key) || refusedValue(w.value))
          const head = db.head
          const blocks = await blockCount(storage)
          const result = await db
            .transact(
              async (t) => {
                for (const w of tx.writes) await t.assoc(w.key, w.value)
              },
              tx.meta === undefined ? {} : { meta: tx.meta as Record<string, unknown> },
            )
            .then(
              () => undefined,
              (err: Error) => err,
            )
          if (refused) {
            assert.ok(
              result instanceof InvalidValueError || result instanceof InvalidKeyError,
              `refused with a clear error, not ${result}`,
            )
            assert.equal(db.head, head, 'the head did not move')
            assert.equal(await blockCount(storage), blocks, 'no block was left in storage')
          } else {
            assert.equal(result, undefined, `accepted: ${result?.message}`)
            // The last write to a key wins; a string key and its UTF-8 bytes are one key.
            for (const w of tx.writes) expected.set(Buffer.from(keyBytes(w.key)).toString('hex'), w)
            for (const w of expected.values()) {
              assert.deepStrictEqual(await db.get(w.key), asRead(w.value))
            }
          }
        }
        await readEverything(db, storage)
        await collectGarbage(storage)
        await readEverything(db, storage)
        await db.close()
      }),
      { numRuns: 120 },
    )
  })

  it('refuses commit metadata readers would refuse, and clock times commits cannot hold', async () => {
    const storage = memoryStorage()
    let clock = 1_000.75
    const db = await openStore({ storage, now: () => clock })
    await db.assoc('k', 1)
    assert.equal(db.head?.time, 1_000, 'a fractional clock gives whole milliseconds')
    const blocks = await blockCount(storage)
    const head = db.head
    const bad: [unknown, RegExp][] = [
      [[1], /commit meta must be a plain object/],
      [LINKED[0].cid, /commit meta must be a plain object/],
      [{ who: 'x\ud800' }, /commit\.meta\.who is not well-formed/],
      [{ deep: nestedValue(MAX_VALUE_DEPTH) }, /nests deeper than the limit of 128/],
      [HUGE_META, /the limit is 1048576/],
    ]
    for (const [meta, message] of bad) {
      await assert.rejects(
        db.transact((tx) => tx.assoc('k', 2), { meta: meta as Record<string, unknown> }),
        (err: Error) => err instanceof InvalidValueError && message.test(err.message),
      )
    }
    for (const time of [Number.NaN, -1, 2 ** 60]) {
      clock = time
      await assert.rejects(
        db.assoc('k', 3),
        (err: Error) => err instanceof StoreError && /the clock gave/.test(err.message),
      )
    }
    assert.equal(db.head, head)
    assert.equal(await blockCount(storage), blocks)
    const reopened = await openStore({ storage, verify: 'full' })
    assert.equal(await reopened.get('k'), 1)
  })

  it('a reader refuses a commit over one block or nested past what any write makes', () => {
    const tree = cidOf(dagCbor.encode({}))
    const commit = (meta: unknown) => {
      const bytes = dagCbor.encode({ v: 1, tree, prev: null, seq: 1, time: 0, meta })
      return () => decodeCommit(cidOf(bytes), bytes)
    }
    assert.throws(
      commit(HUGE_META),
      (err: Error) => err instanceof InvalidCommitError && /the limit is/.test(err.message),
    )
    assert.throws(
      commit({ deep: nestedValue(200) }),
      (err: Error) => err instanceof InvalidCommitError && /nested/.test(err.message),
    )
    commit({ deep: nestedValue(MAX_VALUE_DEPTH - 2) })()
  })
})

function nestedValue(depth: number): unknown {
  let value: unknown = 1
  for (let i = 0; i < depth; i++) value = [value]
  return value
}
