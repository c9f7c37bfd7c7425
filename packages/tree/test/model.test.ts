// Property tests: random operation sequences against a Map model.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import type { CID } from 'multiformats/cid'
import { type Range, toKey } from '../src/index.ts'
import { collect, hexKey, keyArb, newTree, sortedEntries, valueArb } from './helpers.ts'

type Model = Map<string, { key: Uint8Array; value: unknown }>

type Op = { type: 'put'; key: Uint8Array; value: unknown } | { type: 'delete'; key: Uint8Array }
/** `pick` deletes an existing key (the pick-th in order), so deletes that merge subtrees are common. */
type GenOp = Op | { type: 'pick'; pick: number }

const opArb: fc.Arbitrary<GenOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('put' as const), key: keyArb, value: valueArb }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('delete' as const), key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('pick' as const), pick: fc.nat() }) },
)
/** A step is one op or a batch of several, applied as one new root. */
const stepArb = fc.oneof(
  { weight: 3, arbitrary: opArb.map((op) => [op]) },
  { weight: 1, arbitrary: fc.array(opArb, { minLength: 1, maxLength: 12 }) },
)
const bitsArb = fc.constantFrom(1, 2, 4)

function resolvePicks(model: Model, ops: GenOp[]): Op[] {
  const keys = sortedEntries(model).map((e) => e.key)
  return ops.map((op) =>
    op.type !== 'pick'
      ? op
      : { type: 'delete', key: keys.length === 0 ? new Uint8Array() : keys[op.pick % keys.length] },
  )
}

function applyToModel(model: Model, ops: Op[]): void {
  for (const op of ops) {
    if (op.type === 'put') model.set(hexKey(op.key), { key: op.key, value: op.value })
    else model.delete(hexKey(op.key))
  }
}

function modelRange(model: Model, range: Range): { key: Uint8Array; value: unknown }[] {
  const inRange = sortedEntries(model).filter(({ key }) => {
    const k = hexKey(key)
    if (range.gt !== undefined && !(k > hexKey(toKey(range.gt)))) return false
    if (range.gte !== undefined && !(k >= hexKey(toKey(range.gte)))) return false
    if (range.lt !== undefined && !(k < hexKey(toKey(range.lt)))) return false
    if (range.lte !== undefined && !(k <= hexKey(toKey(range.lte)))) return false
    if (range.prefix !== undefined && !k.startsWith(hexKey(toKey(range.prefix)))) return false
    return true
  })
  if (range.reverse === true) inRange.reverse()
  return range.limit === undefined ? inRange : inRange.slice(0, range.limit)
}

const rangeArb: fc.Arbitrary<Range> = fc.record(
  {
    gt: keyArb,
    gte: keyArb,
    lt: keyArb,
    lte: keyArb,
    prefix: fc.uint8Array({ maxLength: 2, min: 0x61, max: 0x64 }),
    reverse: fc.boolean(),
    limit: fc.nat({ max: 20 }),
  },
  { requiredKeys: [] },
)

describe('tree against a Map model', () => {
  it('holds the same entries, ranges and diffs as the model after every step', async () => {
    await fc.assert(
      fc.asyncProperty(
        bitsArb,
        fc.array(stepArb, { maxLength: 60 }),
        fc.array(rangeArb, { maxLength: 6 }),
        async (bitsPerLevel, steps, ranges) => {
          const { tree } = newTree({ bitsPerLevel })
          const model: Model = new Map()
          const roots: { root: CID; snapshot: Model }[] = [{ root: tree.emptyRoot, snapshot: new Map() }]
          let root = tree.emptyRoot
          for (const genOps of steps) {
            const ops = resolvePicks(model, genOps)
            root = ops.length === 1 ? await applySingle(tree, root, ops[0]) : await tree.batch(root, ops)
            applyToModel(model, ops)
            roots.push({ root, snapshot: new Map(model) })
            // Counted after every step: each count reuses the subtree counts of the versions before.
            assert.equal(await tree.count(root), model.size)
            const got = await collect(tree.entries(root))
            assert.deepEqual(
              got.map((e) => ({ key: e.key, value: e.value })),
              sortedEntries(model),
            )
          }
          assert.equal(await tree.count(root), model.size)
          for (const { key, value } of model.values()) assert.deepEqual(await tree.get(root, key), value)

          for (const range of ranges) {
            const got = await collect(tree.entries(root, range))
            assert.deepEqual(
              got.map((e) => ({ key: e.key, value: e.value })),
              modelRange(model, range),
              `range ${JSON.stringify(range)}`,
            )
            const { reverse: _reverse, limit: _limit, ...bounds } = range
            assert.equal(
              await tree.count(root, bounds),
              modelRange(model, bounds).length,
              `count ${JSON.stringify(range)}`,
            )
          }

          // Every old root is still readable and diffs against the newest as the models do.
          for (const old of roots) {
            assert.deepEqual(
              (await collect(tree.entries(old.root))).map((e) => e.value),
              sortedEntries(old.snapshot).map((e) => e.value),
            )
            const changes = await collect(tree.diff(old.root, root))
            assert.deepEqual(
              changes.map((c) => ({ key: hexKey(c.key), before: c.before?.value, after: c.after?.value })),
              modelDiff(old.snapshot, model),
            )
          }

          // History independence: bulk build and another write order give the same root.
          const sorted = sortedEntries(model)
          assert.ok((await tree.build(sorted)).equals(root), 'build gives the same root')
          let reversed = tree.emptyRoot
          for (const { key, value } of [...sorted].reverse()) reversed = await tree.put(reversed, key, value)
          assert.ok(reversed.equals(root), 'reverse-order puts give the same root')
        },
      ),
      { numRuns: 150 },
    )
  })

  it('gives the same root for any insertion order and batch split', async () => {
    const entryArb = fc.uniqueArray(
      fc.record({ key: fc.uint8Array({ minLength: 1, maxLength: 4 }), value: fc.integer() }),
      {
        selector: (e) => hexKey(e.key),
        maxLength: 200,
      },
    )
    await fc.assert(
      fc.asyncProperty(bitsArb, entryArb, fc.nat(), async (bitsPerLevel, entries, seed) => {
        const { tree } = newTree({ bitsPerLevel })
        const shuffled = shuffle(entries, seed)
        const half = Math.floor(shuffled.length / 2)
        let a = tree.emptyRoot
        for (const e of shuffled) a = await tree.put(a, e.key, e.value)
        let b = await tree.batch(
          tree.emptyRoot,
          shuffled.slice(0, half).map((e) => ({ type: 'put' as const, ...e })),
        )
        b = await tree.batch(
          b,
          shuffled.slice(half).map((e) => ({ type: 'put' as const, ...e })),
        )
        assert.ok(a.equals(b))
        // Deleting everything returns to the empty root.
        const cleared = await tree.batch(
          a,
          entries.map((e) => ({ type: 'delete' as const, key: e.key })),
        )
        assert.ok(cleared.equals(tree.emptyRoot))
      }),
      { numRuns: 100 },
    )
  })
})

async function applySingle(tree: ReturnType<typeof newTree>['tree'], root: CID, op: Op): Promise<CID> {
  return op.type === 'put' ? tree.put(root, op.key, op.value) : tree.delete(root, op.key)
}

function modelDiff(before: Model, after: Model): { key: string; before: unknown; after: unknown }[] {
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort()
  const out: { key: string; before: unknown; after: unknown }[] = []
  for (const key of keys) {
    const a = before.get(key)?.value
    const b = after.get(key)?.value
    if (before.has(key) && after.has(key) && isDeepStrictEqual(a, b)) continue
    out.push({ key, before: a, after: b })
  }
  return out
}

function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items]
  let s = seed || 1
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0
    const j = s % (i + 1)
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}
