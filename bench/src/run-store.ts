// Runs the store workload (issue 3) on one subject, on disk, and prints one JSON line.
//   node bench/src/run-store.ts <dagsync|level|hyperbee>        commits and reads
//   node bench/src/run-store.ts build-1m <dir>                  writes a 1,000,000-key dagsync store
//   node bench/src/run-store.ts use-1m <dir>                    opens it, reads and writes, reports RSS
//   node bench/src/run-store.ts commit-bytes                    bytes W3's 100-key commits add to LevelDB
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore, type Store } from '@dagsync/store'
import { LevelStorage, openLevelStorage } from '@dagsync/store/level'
import type { Block } from '@dagsync/tree'
import { ClassicLevel } from 'classic-level'
import Hyperbee from 'hyperbee'
import Hypercore from 'hypercore'
import type { CID } from 'multiformats/cid'
import { median, w3Batch } from './run-subject.ts'
import { type Entry, key, type Value, value } from './subject.ts'

/** A durable key-value store: every put and putMany is on disk when it resolves. */
interface StoreSubject {
  readonly name: string
  put(key: string, value: Value): Promise<void>
  /** Many keys as one atomic, durable write (one commit). */
  putMany(entries: Entry[]): Promise<void>
  /** A read by the library's fastest read path: synchronous where it has one. */
  get(key: string): unknown
  /** The async read, where the fastest path is another (reported beside it). */
  getAsync?(key: string): Promise<unknown>
  close(): Promise<void>
}

export interface StoreResult {
  subject: string
  singleCommitsPerSec: number
  concurrentCommitsPerSec: number
  batchCommitsPerSec: number
  batchKeysPerSec: number
  readsPerSec: number
  /** classic-level only: the same reads through its async `get`. */
  asyncReadsPerSec: number
  /** dagsync only: the tree's own reads on the same root, for the overhead of the store's API. */
  treeReadsPerSec: number
  peakRssMb: number
}

async function dagsync(dir: string): Promise<StoreSubject & { store: Store }> {
  const storage = await openLevelStorage(dir)
  const store = await openStore({ storage })
  return {
    name: 'dagsync (LevelDB)',
    store,
    put: (k, v) => store.assoc(k, v),
    putMany: async (entries) => {
      await store.transact(async (tx) => {
        for (const e of entries) await tx.assoc(e.key, e.value)
      })
    },
    get: (k) => store.get(k),
    close: async () => {
      await store.close()
      await storage.close()
    },
  }
}

/**
 * Plain LevelDB with `sync: true`: durable puts without history, snapshots or CIDs. Reads use
 * `getSync`, its fastest path: the async `get` sends every read through libuv's thread pool and
 * back, which cost it an order of magnitude here (see docs/bench.md).
 */
async function level(dir: string): Promise<StoreSubject> {
  const db = new ClassicLevel<string, Value>(dir, { valueEncoding: 'json' })
  await db.open()
  return {
    name: 'classic-level (sync)',
    put: (k, v) => db.put(k, v, { sync: true }),
    putMany: (entries) =>
      db.batch(
        entries.map((e) => ({ type: 'put' as const, key: e.key, value: e.value })),
        { sync: true },
      ),
    get: (k) => db.getSync(k),
    getAsync: (k) => db.get(k),
    close: () => db.close(),
  }
}

/**
 * Hyperbee on Hypercore 11 (RocksDB), as its README writes: a put, or a batch flushed once. Its
 * commits are not fsynced (under strace, 200 puts made no fsync or fdatasync call, where
 * classic-level's 200 synced puts made 200 fdatasync): rocksdb-native 3.18 writes with RocksDB's
 * default options and neither Hyperbee nor Hypercore offers a sync, so it is labelled: a power loss
 * can take commits it acknowledged, which the other two subjects never do.
 */
async function hyperbee(dir: string): Promise<StoreSubject> {
  const db = new Hyperbee<string, Value>(new Hypercore(dir), { keyEncoding: 'utf-8', valueEncoding: 'json' })
  await db.ready()
  return {
    name: 'hyperbee (no fsync)',
    put: async (k, v) => {
      await db.put(k, v)
    },
    putMany: async (entries) => {
      const b = db.batch()
      for (const e of entries) await b.put(e.key, e.value)
      await b.flush()
    },
    get: async (k) => (await db.get(k))?.value,
    close: () => db.close(),
  }
}

const SUBJECTS: Record<string, (dir: string) => Promise<StoreSubject>> = { dagsync, level, hyperbee }
export const STORE_SUBJECTS = Object.keys(SUBJECTS)

const perSec = (n: number, start: number): number => n / ((performance.now() - start) / 1000)
const random = (() => {
  let seed = 7
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x80000000
  }
})()
const randomKey = (n: number): string => key(Math.floor(random() * n))

async function run(name: string): Promise<StoreResult> {
  const dir = mkdtempSync(join(tmpdir(), `dagsync-bench-${name}-`))
  try {
    const subject = await SUBJECTS[name](dir)
    // A store of 10,000 keys to start from.
    const base = 10_000
    for (let b = 0; b < base; b += 1000) {
      await subject.putMany(Array.from({ length: 1000 }, (_, i) => ({ key: key(b + i), value: value(b + i) })))
    }
    for (let i = 0; i < 200; i++) await subject.put(randomKey(base), value(i)) // warm-up

    let start = performance.now()
    for (let i = 0; i < 2000; i++) await subject.put(randomKey(base * 2), value(i))
    const singleCommitsPerSec = perSec(2000, start)

    start = performance.now()
    let issued = 0
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (issued < 10_000) {
          issued++
          await subject.put(randomKey(base * 2), value(issued))
        }
      }),
    )
    const concurrentCommitsPerSec = perSec(10_000, start)

    start = performance.now()
    for (let t = 0; t < 100; t++) {
      await subject.putMany(
        Array.from({ length: 100 }, (_, i) => ({ key: randomKey(base * 2), value: value(t * 100 + i) })),
      )
    }
    const batchCommitsPerSec = perSec(100, start)

    for (let i = 0; i < 5000; i++) await subject.get(randomKey(base)) // warm-up
    const reads = Array.from({ length: 10_000 }, () => randomKey(base))
    start = performance.now()
    for (const k of reads) {
      const got = subject.get(k)
      // A synchronous read is not awaited: awaiting costs a turn of the microtask queue.
      if ((got instanceof Promise ? await got : got) === undefined) throw new Error(`${k} missing`)
    }
    const readsPerSec = perSec(reads.length, start)

    let asyncReadsPerSec = Number.NaN
    if (subject.getAsync !== undefined) {
      start = performance.now()
      for (const k of reads) if ((await subject.getAsync(k)) === undefined) throw new Error(`${k} missing`)
      asyncReadsPerSec = perSec(reads.length, start)
    }

    let treeReadsPerSec = Number.NaN
    if ('store' in subject) {
      const { store } = subject as StoreSubject & { store: Store }
      const root = store.head!.tree
      start = performance.now()
      for (const k of reads) await store.tree.get(root, k)
      treeReadsPerSec = perSec(reads.length, start)
    }
    await subject.close()
    return {
      subject: subject.name,
      singleCommitsPerSec,
      concurrentCommitsPerSec,
      batchCommitsPerSec,
      batchKeysPerSec: batchCommitsPerSec * 100,
      readsPerSec,
      asyncReadsPerSec,
      treeReadsPerSec,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Writes 1,000,000 keys into a dagsync store at `dir`, 10,000 per transaction. */
async function buildMillion(dir: string): Promise<void> {
  const subject = await dagsync(dir)
  for (let b = 0; b < 1_000_000; b += 10_000) {
    await subject.putMany(Array.from({ length: 10_000 }, (_, i) => ({ key: key(b + i), value: value(b + i) })))
  }
  await subject.close()
}

/** Opens the 1,000,000-key store, reads 10,000 random keys and writes 1,000; returns peak RSS. */
async function useMillion(dir: string): Promise<{ peakRssMb: number; keys: number }> {
  const subject = await dagsync(dir)
  for (let i = 0; i < 10_000; i++)
    if ((await subject.get(randomKey(1_000_000))) === undefined) throw new Error('missing key')
  for (let i = 0; i < 1000; i++) await subject.put(randomKey(1_000_000), value(i))
  const keys = await subject.store.count({ prefix: 'k0099' })
  await subject.close()
  return { peakRssMb: process.resourceUsage().maxRSS / 1024, keys }
}

export interface CommitBytesResult {
  /** Bytes on disk that W3's own batch added, after a full compaction. */
  w3DiskBytes: number
  /** The median over W3's batch and four more random 100-key batches. */
  medianDiskBytes: number
  /** The commits' new blocks, before LevelDB compresses them (the median commit's). */
  medianBlockBytes: number
}

/** Bytes of the files in `dir` (a LevelDB directory has no subdirectories). */
function diskBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, file) => sum + statSync(join(dir, file)).size, 0)
}

/** LevelStorage counting the bytes of the blocks each commit writes. */
class CountingStorage extends LevelStorage {
  written = 0

  protected override async writeCommit(blocks: readonly Block[], heads: ReadonlyMap<string, CID>): Promise<void> {
    for (const block of blocks) this.written += block.bytes.length
    await super.writeCommit(blocks, heads)
  }
}

/**
 * What a 100-key commit costs on disk: a 100,000-key store on LevelDB (the tree workload's keys,
 * in transactions of 10,000), then W3's batch and four more random ones, one commit each, with a
 * full compaction before and after each so that only what the commit left remains counted.
 */
async function commitBytes(): Promise<CommitBytesResult> {
  const n = 100_000
  const dir = mkdtempSync(join(tmpdir(), 'dagsync-bench-commit-bytes-'))
  try {
    // As openLevelStorage opens it, with the database at hand for compactRange.
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      writeBufferSize: 16 * 1024 * 1024,
    })
    await db.open()
    const storage = new CountingStorage(db)
    await storage.datastore.open()
    const store = await openStore({ storage })
    for (let b = 0; b < n; b += 10_000) {
      await store.transact(async (tx) => {
        for (let i = b; i < b + 10_000; i++) await tx.assoc(key(i), value(i))
      })
    }
    const compact = () => db.compactRange(new Uint8Array([0]), new Uint8Array([0xff]))
    const other = (t: number) =>
      Array.from({ length: 100 }, (_, i) => ({ key: randomKey(n), value: { ...value(i), name: `other${t}-${i}` } }))
    const batches = [w3Batch(n), ...[1, 2, 3, 4].map(other)]
    const disk: number[] = []
    const blocks: number[] = []
    await compact()
    let before = diskBytes(dir)
    for (const batch of batches) {
      const written = storage.written
      await store.transact(async (tx) => {
        for (const e of batch) await tx.assoc(e.key, e.value)
      })
      blocks.push(storage.written - written)
      await compact()
      const after = diskBytes(dir)
      disk.push(after - before)
      before = after
    }
    await store.close()
    await storage.close()
    return { w3DiskBytes: disk[0], medianDiskBytes: median(disk), medianBlockBytes: median(blocks) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const [mode, dir] = process.argv.slice(2)
  let result: unknown
  if (mode === 'build-1m') result = await buildMillion(dir).then(() => ({ built: dir }))
  else if (mode === 'use-1m') result = await useMillion(dir)
  else if (mode === 'commit-bytes') result = await commitBytes()
  else result = await run(mode)
  process.stdout.write(`${JSON.stringify(result)}\n`)
}
