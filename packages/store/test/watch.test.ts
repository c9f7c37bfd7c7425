// Watches never miss a commit silently: a consumer that falls too far behind, or a commit whose
// changes cannot be read, ends the watch with an error naming the last commit delivered, from
// which store.diff gives everything since.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { collectBytes } from '@dagsync/tree'
import { MemoryDatastore } from 'datastore-core'
import type { CID } from 'multiformats/cid'
import {
  BlockstoreStorage,
  type CommitEvent,
  DEFAULT_WATCH_CHANGES,
  DEFAULT_WATCH_QUEUE,
  MemoryBlockstore,
  memoryStorage,
  openStore,
  type Store,
  WatchFailedError,
  WatchInterruptedError,
  WatchOverflowError,
  WatchTooLargeError,
} from '../src/index.ts'

/** A blockstore whose reads of chosen blocks fail, as a damaged disk's would; it counts reads. */
class FailingBlockstore extends MemoryBlockstore {
  readonly failing = new Set<string>()
  reads = 0

  override get(cid: CID): ReturnType<MemoryBlockstore['get']> {
    this.reads++
    if (this.failing.has(cid.toString())) throw new Error(`cannot read block ${cid}: I/O error`)
    return super.get(cid)
  }
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

/** The CID of the block a key's out-of-line value lives in. */
async function valueBlock(db: Store, key: string): Promise<CID> {
  const entry = await db.tree.getEntry(db.head!.tree, key)
  return (entry!.stored as { cid: CID }).cid
}

describe('watch', () => {
  it('ends with WatchOverflowError once its consumer falls more than maxQueue events behind', async () => {
    const db = await openStore({ storage: memoryStorage() })
    await db.assoc('before', 0)
    const slow = db.watch({ maxQueue: 2 })[Symbol.asyncIterator]()
    // Watchers are told in turn about each commit: once this one has seen commit 5, so has `slow`.
    const pace = db.watch()[Symbol.asyncIterator]()
    for (let i = 1; i <= 4; i++) await db.assoc(`k${i}`, i)
    for (let seq = 2; seq <= 5; seq++) assert.equal((await pace.next()).value?.commit.seq, seq)
    const seen: number[] = []
    for (let i = 0; i < 2; i++) seen.push(((await slow.next()).value as CommitEvent).commit.seq)
    assert.deepEqual(seen, [2, 3], 'the events it held are delivered first')
    const err = await slow.next().then(
      (r) => r,
      (e: unknown) => e,
    )
    assert.ok(err instanceof WatchOverflowError && err instanceof WatchInterruptedError, `got ${String(err)}`)
    assert.match(err.message, /more than 2 events behind/)
    assert.equal(err.lastCommit?.seq, 3)
    // What it missed, read again from the last commit it delivered.
    const missed = await collect(db.diff(err.lastCommit!.cid))
    assert.deepEqual(
      missed.map((c) => [c.key, c.after]),
      [
        ['k3', 3],
        ['k4', 4],
      ],
    )
    await db.close()
  })

  it('bounds the queue by default, and refuses a maxQueue that is not a positive integer', async () => {
    assert.equal(DEFAULT_WATCH_QUEUE, 1024)
    const db = await openStore({ storage: memoryStorage() })
    const idle = db.watch()[Symbol.asyncIterator]()
    const pace = db.watch({ maxQueue: 2000 })[Symbol.asyncIterator]()
    await db.transact(async (tx) => {
      for (let i = 0; i < 10; i++) await tx.assoc(`k${i}`, i)
    })
    // Group commits: many transactions, each its own commit, made durable together.
    await Promise.all(Array.from({ length: DEFAULT_WATCH_QUEUE + 1 }, (_, i) => db.assoc('n', i)))
    const commits = DEFAULT_WATCH_QUEUE + 2
    for (let i = 0; i < commits; i++) await pace.next()
    // At most one pull per commit made, so a watch that never ends cannot hang the test.
    let delivered = 0
    const err = await (async () => {
      for (let i = 0; i < commits; i++) {
        try {
          if ((await idle.next()).done) return undefined
          delivered++
        } catch (e) {
          return e
        }
      }
      return undefined
    })()
    assert.ok(err instanceof WatchOverflowError)
    assert.equal(delivered, DEFAULT_WATCH_QUEUE)
    for (const maxQueue of [0, -1, 1.5, Number.NaN]) assert.throws(() => db.watch({ maxQueue }), RangeError)
    await db.close()
  })

  it('lists a commit of up to maxChanges keys, and ends with WatchTooLargeError after the events before a larger one', async () => {
    const db = await openStore({ storage: memoryStorage() })
    const watch = db.watch({ maxChanges: 3 })[Symbol.asyncIterator]()
    // A watch with a larger limit makes the store list more: this one still stops at its own.
    const wide = db.watch({ maxChanges: 100, prefix: 'big/' })[Symbol.asyncIterator]()
    const write = (prefix: string, n: number) =>
      db.transact(async (tx) => {
        for (let i = 0; i < n; i++) await tx.assoc(`${prefix}${i}`, i)
      })
    await write('a', 3) // exactly the limit: listed
    await write('big/', 4) // one more
    await write('c', 1)
    assert.deepEqual(
      ((await watch.next()).value as CommitEvent).changes.map((c) => c.key),
      ['a0', 'a1', 'a2'],
    )
    const err = await watch.next().then(
      (r) => r,
      (e: unknown) => e,
    )
    assert.ok(err instanceof WatchTooLargeError && err instanceof WatchInterruptedError, `got ${String(err)}`)
    assert.equal(err.lastCommit?.seq, 1)
    assert.equal(err.commit.seq, 2)
    assert.match(err.message, /commit 2 changed more than 3 keys/)
    assert.equal(((await wide.next()).value as CommitEvent).changes.length, 4)
    for (const maxChanges of [0, -1, 1.5]) assert.throws(() => db.watch({ maxChanges }), RangeError)
    await db.close()
  })

  it('reads no more of a huge commit than the largest limit needs', async () => {
    assert.equal(DEFAULT_WATCH_CHANGES, 10_000)
    // A writer's 3,000-key commit, adopted by a replica whose cache is cold, as a first sync is.
    const source = new MemoryBlockstore()
    const writer = await openStore({ storage: new BlockstoreStorage(source, new MemoryDatastore()) })
    await writer.transact(async (tx) => {
      for (let i = 0; i < 3000; i++) await tx.assoc(`k${String(i).padStart(4, '0')}`, { i })
    })
    const blocks = []
    for await (const { cid, bytes } of source.getAll()) blocks.push({ cid, bytes: await collectBytes(bytes) })
    const counted = new FailingBlockstore()
    const replica = await openStore({
      storage: new BlockstoreStorage(counted, new MemoryDatastore()),
      readOnly: true,
    })
    const watch = replica.watch({ maxChanges: 5 })[Symbol.asyncIterator]()
    await replica.adopt(writer.head!, blocks)
    const err = await watch.next().then(
      (r) => r,
      (e: unknown) => e,
    )
    assert.ok(err instanceof WatchTooLargeError, `got ${String(err)}`)
    // The diff reads a node's children ahead, so a few dozen nodes, not the tree's ~200.
    assert.ok(counted.reads < 60, `read ${counted.reads} blocks of ${blocks.length}`)
    await writer.close()
    await replica.close()
  })

  it('ends with WatchFailedError when a commit’s changes cannot be read, and later watches still work', async () => {
    const blockstore = new FailingBlockstore()
    const db = await openStore({ storage: new BlockstoreStorage(blockstore, new MemoryDatastore()) })
    const watch = db.watch()[Symbol.asyncIterator]()
    await db.assoc('doc', { body: 'a'.repeat(400) }) // out of line: a block the diff must read
    assert.equal((await watch.next()).value?.commit.seq, 1)
    const before = await valueBlock(db, 'doc')
    blockstore.failing.add(before.toString())
    // The write itself succeeds; working out what it changed needs the old value, which fails.
    await db.assoc('doc', { body: 'b'.repeat(400) })
    await db.assoc('other', 1) // a later commit the watch must not deliver as if nothing were missed
    const err = await watch.next().then(
      (r) => r,
      (e: unknown) => e,
    )
    assert.ok(err instanceof WatchFailedError, `got ${JSON.stringify(err)}`)
    assert.match(err.message, /could not read the changes after commit 1 .*I\/O error/)
    assert.equal(err.lastCommit?.seq, 1)
    assert.match(String((err.cause as Error).message), /I\/O error/)
    assert.equal(db.head?.seq, 3)
    // Once the block reads again, the consumer catches up from the last commit it saw.
    blockstore.failing.clear()
    const missed = await collect(db.diff(err.lastCommit!.cid))
    assert.deepEqual(
      missed.map((c) => c.key),
      ['doc', 'other'],
    )
    const later = db.watch()[Symbol.asyncIterator]()
    await db.assoc('last', 1)
    assert.equal((await later.next()).value?.commit.seq, 4)
    await db.close()
  })

  it('names the head it started at when it fails before delivering anything', async () => {
    const blockstore = new FailingBlockstore()
    const db = await openStore({ storage: new BlockstoreStorage(blockstore, new MemoryDatastore()) })
    await db.assoc('doc', 'x'.repeat(400))
    const watch = db.watch({ prefix: 'doc' })[Symbol.asyncIterator]()
    blockstore.failing.add((await valueBlock(db, 'doc')).toString())
    await db.assoc('doc', 'y'.repeat(400))
    await db.assoc('doc/2', 1) // would be delivered if the failure were skipped
    const err = await watch.next().then(
      (r) => r,
      (e: unknown) => e,
    )
    assert.ok(err instanceof WatchFailedError)
    assert.equal(err.lastCommit?.seq, 1)
    await db.close()
  })
})
