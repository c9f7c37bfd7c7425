// Bulk writes: `transact(ops)` against a Map model, its limits, its atomicity, and binary values
// placed by reference.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cidOf, DAG_CBOR, RAW } from '@dagsync/tree'
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import type { CID } from 'multiformats/cid'
import {
  BulkTooLargeError,
  checkOps,
  InvalidOpError,
  MAX_BULK_BYTES,
  MAX_BULK_OPS,
  type MemoryBlockstore,
  memoryStorage,
  opBytes,
  openStore,
  type Store,
  stageBytes,
  type WriteOp,
} from '../src/index.ts'

/** A key's state in the model: a value, or the bytes of a binary value. */
type Held =
  | { readonly type: 'value'; readonly value: unknown }
  | { readonly type: 'binary'; readonly bytes: Uint8Array }
type Model = Map<string, Held>

const bytesOf = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251)

/** Byte strings staged once for the property (inline, one block, chunked), with their refs. */
const STAGED_SIZES = [12, 700, 1_200_000]

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array)
}

/** The model's reading of an op; throws where the store must refuse it (and with it the whole list). */
function applyToModel(model: Model, op: WriteOp, staged: Map<string, Uint8Array>): void {
  const key = op.key as string
  if (op.op === 'put') model.set(key, { type: 'value', value: op.value })
  else if (op.op === 'delete') model.delete(key)
  else if (op.op === 'put-bytes') model.set(key, { type: 'binary', bytes: op.bytes })
  else if (op.op === 'put-ref') model.set(key, { type: 'binary', bytes: staged.get(op.ref.toString()) as Uint8Array })
  else {
    const held = model.get(key)
    const current = held === undefined ? undefined : held.type === 'value' ? held.value : held.bytes
    if (current !== undefined && !isMap(current)) throw new Error('not a map')
    const field = op.path[0] as string
    model.set(key, { type: 'value', value: { ...(current as object | undefined), [field]: op.value } })
  }
}

async function contents(db: Store): Promise<[string, Held][]> {
  const out: [string, Held][] = []
  for await (const info of db.keys()) {
    const key = info.key as string
    if (info.type === 'binary') out.push([key, { type: 'binary', bytes: await (await db.bget(key))!.bytes() }])
    else out.push([key, { type: 'value', value: await db.get(key) }])
  }
  return out
}

const sorted = (model: Model): [string, Held][] => [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

const blockCount = (db: Store): number => (db.storage.blockstore as MemoryBlockstore).size

describe('transact(ops) against a Map model', () => {
  it('applies each list as one commit, in order, or refuses it whole', async () => {
    const storage = memoryStorage()
    const staged = new Map<string, Uint8Array>()
    const refs: CID[] = []
    for (const [i, size] of STAGED_SIZES.entries()) {
      const bytes = bytesOf(size, i)
      const { ref } = await stageBytes(storage, bytes)
      staged.set(ref.toString(), bytes)
      refs.push(ref)
    }
    const keyArb = fc.constantFrom('a', 'b', 'c', 'user/1', 'user/2', 'z')
    const valueArb = fc.oneof(
      fc.integer({ min: -5, max: 5 }),
      fc.string({ maxLength: 4 }),
      fc.record({ x: fc.nat(9) }).map((r) => ({ ...r })),
    )
    const opArb: fc.Arbitrary<WriteOp | { bad: true; op: unknown }> = fc.oneof(
      fc.record({ op: fc.constant('put' as const), key: keyArb, value: valueArb }),
      fc.record({
        op: fc.constant('put-in' as const),
        key: keyArb,
        path: fc.constantFrom(['f'], ['g']),
        value: valueArb,
      }),
      fc.record({ op: fc.constant('delete' as const), key: keyArb }),
      fc.record({
        op: fc.constant('put-bytes' as const),
        key: keyArb,
        bytes: fc.uint8Array({ maxLength: 6 }),
      }),
      fc.record({ op: fc.constant('put-ref' as const), key: keyArb, ref: fc.constantFrom(...refs) }),
      // Malformed ops, and a value outside the data model: the list is refused.
      fc.constantFrom(
        { bad: true as const, op: { op: 'put', key: 'a' } },
        { bad: true as const, op: { op: 'put', key: 'a', value: Number.NaN } },
        { bad: true as const, op: { op: 'rename', key: 'a' } },
        { bad: true as const, op: { op: 'put', key: 'a', value: 1, extra: true } },
      ),
    )
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(opArb, { maxLength: 8 }), { maxLength: 12 }), async (lists) => {
        const db = await openStore({ storage, name: `run-${run++}` })
        const model: Model = new Map()
        let seq = 0
        for (const list of lists) {
          const ops = list.map((o) => ('bad' in o ? o.op : o)) as WriteOp[]
          const next = new Map(model)
          let refused = list.some((o) => 'bad' in o)
          if (!refused) {
            try {
              for (const op of ops) applyToModel(next, op, staged)
            } catch {
              refused = true
            }
          }
          const before = db.head
          if (refused) {
            await assert.rejects(db.transact(ops), InvalidOpError)
            assert.equal(db.head, before, 'a refused list makes no commit')
          } else {
            const { commit } = await db.transact(ops)
            model.clear()
            for (const [k, v] of next) model.set(k, v)
            if (commit !== null) seq++
          }
          assert.equal(db.head?.seq ?? 0, seq, 'one commit per list that changed something')
          assert.deepEqual(await contents(db), sorted(model))
        }
      }),
      { numRuns: 60 },
    )
  })
})

describe('transact(ops) limits', () => {
  it('takes 10,000 ops in one commit and refuses 10,001, committing nothing', async () => {
    const db = await openStore({ storage: memoryStorage() })
    const ops = (n: number): WriteOp[] => Array.from({ length: n }, (_, i) => ({ op: 'put', key: `k${i}`, value: i }))
    const { commit } = await db.transact(ops(MAX_BULK_OPS))
    assert.equal(commit?.seq, 1)
    assert.equal(await db.count(), MAX_BULK_OPS)
    const blocks = blockCount(db)
    await assert.rejects(db.transact(ops(MAX_BULK_OPS + 1)), (err: Error) => {
      assert.ok(err instanceof BulkTooLargeError)
      assert.equal(err.index, MAX_BULK_OPS)
      assert.equal(err.limit, 'ops')
      assert.match(err.message, /limit of one bulk call \(10000 ops\)/)
      return true
    })
    assert.equal(db.head?.seq, 1)
    assert.equal(blockCount(db), blocks, 'no block was written')
  })

  it('takes ops of exactly 1 MiB of keys and values, and refuses one byte more, naming the first op past it', async () => {
    const db = await openStore({ storage: memoryStorage() })
    // 16 binary values whose keys and bytes come to exactly MAX_BULK_BYTES.
    const each = MAX_BULK_BYTES / 16
    const ops: WriteOp[] = Array.from({ length: 16 }, (_, i) => ({
      op: 'put-bytes',
      key: `b${String(i).padStart(2, '0')}`,
      bytes: bytesOf(each - 3, i),
    }))
    assert.equal(
      ops.reduce((sum, op, i) => sum + opBytes(op, i), 0),
      MAX_BULK_BYTES,
    )
    assert.equal((await db.transact(ops)).commit?.seq, 1)
    const over = [...ops.slice(0, 15), { op: 'put-bytes' as const, key: 'b15', bytes: bytesOf(each - 2, 99) }]
    await assert.rejects(db.transact(over), (err: Error) => {
      assert.ok(err instanceof BulkTooLargeError)
      assert.deepEqual([err.index, err.limit], [15, 'bytes'])
      assert.match(err.message, /ops\[15\] is past the limit of one bulk call \(1 MiB of keys, paths and values\)/)
      return true
    })
    assert.equal(db.head?.seq, 1, 'nothing of the refused list was committed')
  })

  it('refuses a list whose last op fails, leaving no key, no commit and no block', async () => {
    const db = await openStore({ storage: memoryStorage() })
    await db.assoc('title', 'a string')
    const head = db.head
    const blocks = blockCount(db)
    const ops: WriteOp[] = [
      ...Array.from({ length: 500 }, (_, i): WriteOp => ({ op: 'put', key: `k${i}`, value: 'x'.repeat(300) })),
      { op: 'put-bytes', key: 'big', bytes: bytesOf(800_000, 1) },
      { op: 'put-in', key: 'title', path: ['sub'], value: 1 },
    ]
    await assert.rejects(db.transact(ops), (err: Error) => {
      assert.ok(err instanceof InvalidOpError)
      assert.equal(err.index, 501)
      assert.match(err.message, /^ops\[501\] \(put-in "title"\): path segment 1 \("sub"\) indexes a map/)
      return true
    })
    assert.equal(db.head, head)
    assert.equal(await db.exists('k0'), false)
    assert.equal(blockCount(db), blocks, 'the refused list left no block in storage')
  })

  it('names malformed ops by their place in the list, before anything is applied', async () => {
    const db = await openStore({ storage: memoryStorage() })
    const cases: [unknown, RegExp][] = [
      [42, /^ops\[1\] is not a map/],
      [
        { op: 'rename', key: 'a' },
        /^ops\[1\] \(rename "a"\): "op" must be one of put, put-in, delete, put-bytes, put-ref/,
      ],
      [{ op: 'put', key: 'a' }, /a put op needs "value"/],
      [{ op: 'put', key: 'a', value: 1, vaule: 2 }, /a put op has no field "vaule"/],
      [{ op: 'delete', key: 7 }, /"key" must be a string or bytes/],
      [{ op: 'put-in', key: 'a', path: [-1], value: 1 }, /"path" must be a list of map keys/],
      [{ op: 'put-bytes', key: 'a', bytes: 'text' }, /"bytes" must be bytes/],
      [{ op: 'put-ref', key: 'a', ref: 'bafy' }, /"ref" must be a CID/],
      [{ op: 'put', key: 'a', value: new Date(0) }, /^ops\[1\] \(put "a"\): value is a Date/],
      [{ op: 'put', key: 'a\ud800', value: 1 }, /not well-formed Unicode/],
      [{ op: 'delete', key: 'k'.repeat(1025) }, /key is 1025 bytes/],
    ]
    for (const [bad, message] of cases) {
      await assert.rejects(db.transact([{ op: 'put', key: 'ok', value: 1 }, bad as WriteOp]), (err: Error) => {
        assert.ok(err instanceof InvalidOpError, `${err.name}: ${err.message}`)
        assert.equal(err.index, 1)
        assert.match(err.message, message)
        return true
      })
    }
    assert.equal(db.head, null, 'nothing was committed')
    await assert.rejects(db.transact('put a 1' as never), /a bulk write takes a list of ops/)
  })

  it('lets other work run while it applies a long list', async () => {
    const db = await openStore({ storage: memoryStorage() })
    let seqWhenTimerRan: number | undefined
    setTimeout(() => {
      seqWhenTimerRan = db.head?.seq ?? 0
    }, 0)
    const ops = Array.from({ length: MAX_BULK_OPS }, (_, i): WriteOp => ({ op: 'put', key: `k${i}`, value: { i } }))
    await db.transact(ops)
    assert.equal(seqWhenTimerRan, 0, 'a timer ran before the list was committed')
  })
})

describe('a checked list (CheckedOps)', () => {
  it('writes each put value as its check encoded it, whatever happens to the value while the list waits its turn', async () => {
    const db = await openStore({ storage: memoryStorage() })
    // A transaction ahead of the list holds the queue until released: the list is checked on
    // the call, and applied only after.
    let release = () => {}
    const ahead = db.transact(async (tx) => {
      await new Promise<void>((resolve) => {
        release = resolve
      })
      await tx.assoc('ahead', 1)
    })
    const value: { n: number; later?: () => void } = { n: 1 }
    const waiting = db.transact([{ op: 'put', key: 'k', value }])
    value.n = 2
    value.later = () => {} // not in the data model: writing it would fail the list
    release()
    await ahead
    await waiting
    assert.deepEqual(await db.get('k'), { n: 1 })
  })

  it('is checked once: checkOps returns a checked list as it is, and a transact through it applies it', async () => {
    const db = await openStore({ storage: memoryStorage() })
    const checked = checkOps([
      { op: 'put', key: 'a', value: { x: 1 } },
      { op: 'put', key: 'b', value: new Uint8Array(300_000) },
    ])
    assert.equal(checkOps(checked), checked)
    assert.equal(checked.length, 2)
    await db.transact(checked)
    assert.deepEqual(await db.get('a'), { x: 1 })
    assert.equal(((await db.get('b')) as Uint8Array).length, 300_000)
  })
})

describe('binary values by reference', () => {
  it('places staged bytes of any size as bassoc would, linking large ones rather than copying them', async () => {
    const storage = memoryStorage()
    const now = () => 1_700_000_000_000
    const byRef = await openStore({ storage, name: 'by-ref', now })
    const byBytes = await openStore({ storage: memoryStorage(), name: 'by-bytes', now })
    const sizes = [0, 200, 300, 900_000, 3_000_000]
    const ops: WriteOp[] = []
    for (const [i, size] of sizes.entries()) {
      const bytes = bytesOf(size, i)
      const staged = await stageBytes(storage, bytes)
      assert.equal(staged.size, size)
      ops.push({ op: 'put-ref', key: `f${i}`, ref: staged.ref })
      await byBytes.bassoc(`f${i}`, bytes)
    }
    const blocks = blockCount(byRef)
    await byRef.transact(ops)
    for (const [i, size] of sizes.entries()) {
      assert.deepEqual(await (await byRef.bget(`f${i}`))!.bytes(), bytesOf(size, i))
      assert.deepEqual(await byRef.getMeta(`f${i}`).then((m) => [m?.type, m?.size]), ['binary', size])
    }
    // The same entries bassoc writes: the trees are equal, whatever was staged.
    assert.equal(byRef.head?.tree.toString(), byBytes.head?.tree.toString())
    // The staged chunks were linked, not written again: the commit added its nodes and the commit block.
    assert.ok(blockCount(byRef) - blocks <= 4, `${blockCount(byRef) - blocks} new blocks`)
    const check = await byRef.verify()
    assert.deepEqual([check.missing, check.corrupt], [[], []])
  })

  it('places a raw block by its CID, and refuses a ref storage lacks or that names no bytes', async () => {
    const storage = memoryStorage()
    const db = await openStore({ storage })
    const raw = bytesOf(5000, 3)
    const rawCid = cidOf(raw, RAW)
    await storage.commit([{ cid: rawCid, bytes: raw }], new Map())
    await db.transact([{ op: 'put-ref', key: 'raw', ref: rawCid }])
    assert.deepEqual(await (await db.bget('raw'))!.bytes(), raw)

    const map = dagCbor.encode({ not: 'bytes' })
    const mapCid = cidOf(map, DAG_CBOR)
    await storage.commit([{ cid: mapCid, bytes: map }], new Map())
    // A structured value over 1 MiB is chunked too: its index names a value, not bytes.
    await db.assoc('large', { text: 'x'.repeat(1_200_000) })
    const largeEntry = await db.tree.getEntry(db.head!.tree, 'large')
    assert.equal(largeEntry?.stored.kind, 'chunked')
    const head = db.head
    const refused: [CID, RegExp][] = [
      [cidOf(bytesOf(10, 9), RAW), /names a block this storage does not hold: stage the bytes first/],
      [mapCid, /does not name bytes: it is neither a byte string nor a chunk index/],
      [(largeEntry!.stored as { cid: CID }).cid, /does not name bytes: it is the chunk index of a structured value/],
    ]
    for (const [ref, message] of refused) {
      await assert.rejects(db.transact([{ op: 'put-ref', key: 'x', ref }]), (err: Error) => {
        assert.ok(err instanceof InvalidOpError)
        assert.match(err.message, message)
        return true
      })
    }
    assert.equal(db.head, head)
  })

  it('fails the commit, changing nothing, when gc collects staged bytes before it', async () => {
    const storage = memoryStorage()
    const db = await openStore({ storage })
    await db.assoc('kept', 1)
    const { ref } = await stageBytes(storage, bytesOf(3_000_000, 5))
    await db.gc()
    assert.equal(await storage.blockstore.has(ref), false, 'gc took the unreferenced staged bytes')
    await assert.rejects(db.transact([{ op: 'put-ref', key: 'file', ref }]), /does not hold: stage the bytes first/)
    assert.equal(db.head?.seq, 1)
  })

  it('fails the commit when gc collects linked staged bytes between the write and its commit', async () => {
    const storage = memoryStorage()
    const db = await openStore({ storage })
    await db.assoc('kept', 1)
    const { ref } = await stageBytes(storage, bytesOf(3_000_000, 6))
    const write = db.transact(async (tx) => {
      await tx.bassocRef('file', ref)
      // The ref was resolved; nothing keeps its blocks, and gc runs before the commit is written.
      assert.ok((await db.gc()).deletedBlocks > 0)
    })
    await assert.rejects(write, /was collected by gc before it was committed/)
    assert.equal(await db.exists('file'), false)
    assert.deepEqual((await db.verify()).missing, [], 'the head never links to a missing block')
  })
})
