// Property test: random transactions against a Map model, with snapshots and history.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { memoryStorage, openStore, type StoreView } from '../src/index.ts'

type Model = Map<string, unknown>

type Op =
  | { type: 'assoc'; key: string; value: unknown }
  | { type: 'dissoc'; key: string }
  | { type: 'assocIn'; key: string; field: string; value: unknown }
  | { type: 'inc'; key: string }

const keyArb = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'user/1', 'user/2', 'user/10', 'z')
const valueArb = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.string({ maxLength: 4 }),
  fc.record({ x: fc.nat(9) }).map((r) => ({ ...r })),
)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ type: fc.constant('assoc' as const), key: keyArb, value: valueArb }),
  fc.record({ type: fc.constant('dissoc' as const), key: keyArb }),
  fc.record({ type: fc.constant('assocIn' as const), key: keyArb, field: fc.constantFrom('f', 'g'), value: valueArb }),
  fc.record({ type: fc.constant('inc' as const), key: keyArb }),
)
const txArb = fc.record({
  ops: fc.array(opArb, { minLength: 1, maxLength: 6 }),
  fail: fc.boolean(),
  snapshot: fc.boolean(),
})

/** The model's own reading of each op; throws where the store must refuse (so the transaction fails). */
function applyOp(model: Model, op: Op): void {
  switch (op.type) {
    case 'assoc':
      model.set(op.key, op.value)
      return
    case 'dissoc':
      model.delete(op.key)
      return
    case 'assocIn': {
      const current = model.get(op.key)
      if (current !== undefined && (typeof current !== 'object' || current === null || Array.isArray(current))) {
        throw new Error('not a map')
      }
      model.set(op.key, { ...(current as object | undefined), [op.field]: op.value })
      return
    }
    case 'inc': {
      const current = model.get(op.key)
      model.set(op.key, (typeof current === 'number' ? current : 0) + 1)
    }
  }
}

async function contents(view: StoreView): Promise<[string, unknown][]> {
  const out: [string, unknown][] = []
  for await (const entry of view.entries()) out.push([entry.key as string, entry.value])
  return out
}

const sorted = (model: Model): [string, unknown][] =>
  [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

describe('store against a Map model', () => {
  it('commits, refuses, snapshots and remembers history as the model does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 4),
        fc.array(txArb, { maxLength: 25 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 }),
        async (bits, txs, diffPairs) => {
          const db = await openStore({ storage: memoryStorage(), bitsPerLevel: bits })
          const model: Model = new Map()
          const history: Model[] = [new Map()] // by seq
          const snapshots: { view: StoreView; model: Model }[] = []
          for (const { ops, fail, snapshot } of txs) {
            const next = new Map(model)
            let refused = fail
            try {
              for (const op of ops) applyOp(next, op)
            } catch {
              refused = true
            }
            const attempt = db.transact(async (tx) => {
              for (const op of ops) {
                if (op.type === 'assoc') await tx.assoc(op.key, op.value)
                else if (op.type === 'dissoc') await tx.dissoc(op.key)
                else if (op.type === 'assocIn') await tx.assocIn([op.key, op.field], op.value)
                else await tx.updateIn([op.key], (n) => (typeof n === 'number' ? n : 0) + 1)
              }
              if (fail) throw new Error('abort')
            })
            if (refused) {
              await assert.rejects(attempt)
            } else {
              const { commit } = await attempt
              model.clear()
              for (const [k, v] of next) model.set(k, v)
              if (commit !== null) history[commit.seq] = new Map(model)
            }
            assert.equal(db.head?.seq ?? 0, history.length - 1, 'one commit per transaction that changed something')
            assert.deepEqual(await contents(db.snapshot()), sorted(model))
            if (snapshot) snapshots.push({ view: db.snapshot(), model: new Map(model) })
          }
          for (const { view, model: then } of snapshots) assert.deepEqual(await contents(view), sorted(then))
          for (let seq = 0; seq < history.length; seq++) {
            assert.deepEqual(await contents(await db.at(seq)), sorted(history[seq]), `version ${seq}`)
          }
          for (const [x, y] of diffPairs) {
            const a = x % history.length
            const b = y % history.length
            const changes = []
            for await (const change of db.diff(a, b)) changes.push([change.key, change.before, change.after])
            const keys = [...new Set([...history[a].keys(), ...history[b].keys()])].sort()
            const expected = keys
              .filter(
                (k) =>
                  !isDeepStrictEqual(history[a].get(k), history[b].get(k)) || history[a].has(k) !== history[b].has(k),
              )
              .map((k) => [k, history[a].get(k), history[b].get(k)])
            // Rewriting a key with an equal value still changes its lastWrite: the diff reports it.
            const reported = new Set(changes.map((c) => c[0]))
            for (const e of expected) assert.ok(reported.has(e[0] as string), `diff ${a}->${b} reports ${e[0]}`)
            for (const c of changes) {
              assert.deepEqual([c[1], c[2]], [history[a].get(c[0] as string), history[b].get(c[0] as string)])
            }
          }
        },
      ),
      { numRuns: 60 },
    )
  })
})
