// Hyperbee (an append-only B-tree on a Hypercore log, from Holepunch) as a benchmark subject.
//
// Hypercore 11 dropped random-access-storage (its README: "random-access-storage is no longer supported"),
// so there is no in-memory storage any more: each store is a Hypercore in its own directory on tmpfs
// (/dev/shm where there is one), which Hypercore 11 keeps in RocksDB. The directories are removed when
// the process exits. Keys are 'utf-8', values 'json'. Load is one `batch()` of puts, as its README advises
// for many inserts. Blocks are Hypercore blocks (`length`) and bytes its `byteLength`: the log's data,
// not counting its Merkle tree nodes or RocksDB's own files. Diff is `createDiffStream(previousVersion)`.
// Hyperbee has no levels to report (depth is null) and is history dependent: its root is the log's tree
// hash, which depends on the order of the writes. Its diff compares entries by seq, so rewriting a key
// with the same value also counts as a change.

import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Hyperbee from 'hyperbee'
import Hypercore from 'hypercore'
import type { Entry, LoadStats, Subject, Value, WriteStats } from '../subject.ts'

type Bee = Hyperbee<string, Value>

const dirs = new Set<string>()
process.once('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

interface Store {
  db: Bee
  dir: string
}

async function open(): Promise<Store> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir()
  const dir = mkdtempSync(join(base, 'dagsync-bench-hyperbee-'))
  dirs.add(dir)
  const db: Bee = new Hyperbee(new Hypercore(dir), { keyEncoding: 'utf-8', valueEncoding: 'json' })
  await db.ready()
  return { db, dir }
}

async function close({ db, dir }: Store): Promise<void> {
  await db.close()
  rmSync(dir, { recursive: true, force: true })
  dirs.delete(dir)
}

async function batch(db: Bee, entries: Entry[]): Promise<WriteStats> {
  const { length, byteLength } = db.core
  const b = db.batch()
  for (const { key, value } of entries) await b.put(key, value)
  await b.flush()
  return { blocks: db.core.length - length, bytes: db.core.byteLength - byteLength }
}

export function createSubject(): Subject {
  let bee: Bee | null = null
  let before = 0
  const db = async () => (bee ??= (await open()).db)

  return {
    name: 'hyperbee',

    async load(entries) {
      await batch(await db(), entries)
    },

    async stats(): Promise<LoadStats> {
      const { core } = await db()
      return { blocks: core.length, bytes: core.byteLength, depth: null }
    },

    async get(key) {
      return (await bee!.get(key))?.value
    },

    async batch(entries) {
      const d = await db()
      before = d.version
      return batch(d, entries)
    },

    async diffLastBatch() {
      if (bee === null || before === 0) throw new Error('no batch yet')
      let changed = 0
      for await (const _ of bee.createDiffStream(before)) changed++
      return changed
    },

    async put({ key, value }) {
      await (await db()).put(key, value)
    },

    async sameRootForOrders(sorted, shuffled) {
      const hashes: string[] = []
      for (const order of [sorted, shuffled]) {
        const fresh = await open()
        for (const { key, value } of order) await fresh.db.put(key, value)
        hashes.push(Buffer.from(await fresh.db.core.treeHash()).toString('hex'))
        await close(fresh)
      }
      return hashes[0] === hashes[1]
    },
  }
}
