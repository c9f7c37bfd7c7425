// Runs the tree workload on one library in this process and prints one JSON line of results.
// The harness (index.ts) starts a fresh process per library and run, so memory and JIT state
// never carry over from one library to the next.
//   node bench/src/run-subject.ts <subject> <keys>
import { measureFloor } from './floor.ts'
import { type Entry, key, type Subject, value } from './subject.ts'

export interface TreeResult {
  subject: string
  keys: number
  w1KeysPerSec: number
  blocks: number
  bytes: number
  depth: number | null
  w2GetsPerSec: number
  w3Ms: number
  w3Blocks: number
  w3Bytes: number
  w4RootsPerSec: number
  w5Ms: number
  w6SameRoot: boolean | null
  peakRssMb: number
  /** The floor only: the encoder and hasher it was built from (the fastest of each here). */
  floorParts: string | null
  /** The floor only: each candidate encoder's and hasher's rate, values per second. */
  floorRates: Record<string, number> | null
}

const SUBJECTS: Record<string, () => Promise<Subject>> = {
  dagsync: async () => (await import('./subjects/dagsync.ts')).createSubject(4),
  'dagsync-fanout4': async () => (await import('./subjects/dagsync.ts')).createSubject(2),
  'prolly-trees': async () => (await import('./subjects/prolly-trees.ts')).createSubject(),
  pail: async () => (await import('./subjects/pail.ts')).createSubject(),
  atproto: async () => (await import('./subjects/atproto.ts')).createSubject(),
  hyperbee: async () => (await import('./subjects/hyperbee.ts')).createSubject(),
}
export const SUBJECT_NAMES = [...Object.keys(SUBJECTS), 'floor']

/** A seeded PRNG (mulberry32), so every library gets the same random keys. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const seconds = (start: number): number => (performance.now() - start) / 1000

/**
 * A full collection, at the start of a long phase and before its warm-up (the bench runs
 * subjects with --expose-gc), so it does not pay for the garbage of the phases before it: W4's
 * 2,000 puts take a fifth of a second, and a major collection of the heap W1-W3 left moved its
 * rate by up to half. Not right before a clock, nor before the few-millisecond W3 and W5: what
 * follows a forced collection runs slower for a while (for every library), which the warm-ups
 * of W2 and W4 absorb.
 */
function collect(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

function distinct(n: number, max: number, next: () => number): number[] {
  const picked = new Set<number>()
  while (picked.size < n) picked.add(Math.floor(next() * max))
  return [...picked]
}

function check(got: unknown, i: number): void {
  if ((got as { n?: unknown } | undefined)?.n !== i)
    throw new Error(`read of ${key(i)} returned ${JSON.stringify(got)}`)
}

/** The floor (see floor.ts): encode and hash every value once, with the fastest parts available. */
async function floor(n: number): Promise<TreeResult> {
  const values = Array.from({ length: n }, (_, i) => value(i))
  collect()
  const measured = await measureFloor(values)
  return {
    subject: 'floor',
    keys: n,
    w1KeysPerSec: measured.perSec,
    blocks: Number.NaN,
    bytes: Number.NaN,
    depth: null,
    w2GetsPerSec: Number.NaN,
    w3Ms: Number.NaN,
    w3Blocks: Number.NaN,
    w3Bytes: Number.NaN,
    w4RootsPerSec: Number.NaN,
    w5Ms: Number.NaN,
    w6SameRoot: null,
    // Not comparable: it holds every candidate encoder's output at once.
    peakRssMb: Number.NaN,
    floorParts: `${measured.encoder} + ${measured.hasher}`,
    floorRates: measured.rates,
  }
}

/**
 * The random draws of W2 and W3, made in this order from one seeded generator, which then goes on
 * to W4 and W6: the same for every library, and for the store suite's W3 batch on LevelDB.
 */
function draws(n: number) {
  const next = random(42)
  const warmGets = distinct(5000, n, next)
  const reads = Array.from({ length: 10_000 }, () => Math.floor(next() * n))
  const changed = distinct(100, n, next)
  return { next, warmGets, reads, changed }
}

const changeOf = (i: number): Entry => ({ key: key(i), value: { ...value(i), name: `changed${i}` } })

/** W3's batch on a store of `n` keys: 100 random keys, each with a changed name. */
export function w3Batch(n: number): Entry[] {
  return draws(n).changed.map(changeOf)
}

/** Keys of W1's untimed warm-up load, into a store of the same library that is then dropped. */
export const W1_WARM_UP_KEYS = 20_000

async function run(name: string, n: number): Promise<TreeResult> {
  if (name === 'floor') return floor(n)
  const create = SUBJECTS[name]
  if (create === undefined) throw new Error(`unknown subject ${name}; known: ${SUBJECT_NAMES.join(', ')}`)
  const { next, warmGets, reads, changed: picked } = draws(n)
  const entries: Entry[] = Array.from({ length: n }, (_, i) => ({ key: key(i), value: value(i) }))

  // W1: bulk load of sorted entries, after an untimed load of the first keys into a store that
  // is then dropped, so that W1 too runs in a warm process (as W2 and W4 do after their warm-ups).
  await (await create()).load(entries.slice(0, W1_WARM_UP_KEYS))
  const subject = await create()
  collect()
  let start = performance.now()
  await subject.load(entries)
  const w1KeysPerSec = n / seconds(start)
  const stats = await subject.stats()

  // W2: random gets, after an untimed warm-up of 5,000 of the same kind (a serving process is warm).
  collect()
  for (const i of warmGets) check(await subject.get(key(i)), i)
  start = performance.now()
  for (const i of reads) check(await subject.get(key(i)), i)
  const w2GetsPerSec = reads.length / seconds(start)

  // W3: 100 random keys changed in one batch.
  const changed = picked.map(changeOf)
  start = performance.now()
  const written = await subject.batch(changed)
  const w3Ms = seconds(start) * 1000

  // W5: diff across that batch; the median of 5 runs of the same diff. No collection before it:
  // after a forced one the first diffs of every library ran up to twice as slow.
  const diffs: number[] = []
  for (let r = 0; r < 5; r++) {
    start = performance.now()
    const count = await subject.diffLastBatch()
    diffs.push(seconds(start) * 1000)
    if (count !== changed.length) throw new Error(`diff found ${count} changes, expected ${changed.length}`)
  }

  // W4: single puts, each producing a new root, after an untimed warm-up of 100.
  collect()
  for (const i of distinct(100, n, next)) await subject.put({ key: key(i), value: value(-i) })
  const puts = Array.from({ length: 2000 }, () => Math.floor(next() * n))
  start = performance.now()
  for (const i of puts) await subject.put({ key: key(i), value: value(-i) })
  const w4RootsPerSec = puts.length / seconds(start)

  // W6: the same 10,000 entries inserted one by one in two orders.
  const sample = entries.slice(0, Math.min(n, 10_000))
  const shuffled = [...sample]
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]]
  }
  const w6SameRoot = await subject.sameRootForOrders(sample, shuffled)

  return {
    subject: subject.name,
    keys: n,
    w1KeysPerSec,
    blocks: stats.blocks,
    bytes: stats.bytes,
    depth: stats.depth,
    w2GetsPerSec,
    w3Ms,
    w3Blocks: written.blocks,
    w3Bytes: written.bytes,
    w4RootsPerSec,
    w5Ms: median(diffs),
    w6SameRoot,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    floorParts: null,
    floorRates: null,
  }
}

export function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

if (import.meta.main) {
  const [name, keys = '100000'] = process.argv.slice(2)
  const result = await run(name, Number(keys))
  process.stdout.write(`${JSON.stringify(result)}\n`)
}
