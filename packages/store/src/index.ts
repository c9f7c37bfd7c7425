/**
 * @packageDocumentation
 *
 * `@dagsync/store` is the key-value API applications program against, modelled on konserve
 * (the storage layer under Datahike): get / getIn / assoc / assocIn / updateIn / dissoc /
 * exists, keys with per-key metadata, binary values of any size, atomic transactions, and
 * history. Every version of a store is one immutable commit over a Merkle Search Tree
 * (`@dagsync/tree`), so snapshots are free, past versions stay readable, and two versions
 * diff by skipping what they share.
 *
 * Stores live in a `Storage`: `memoryStorage()`, `new BlockstoreStorage(blockstore, datastore)`
 * for any blockstore (IndexedDB, files), or, in Node, `openLevelStorage(path)` from
 * `@dagsync/store/level`, which makes each group of commits durable in one synced write.
 *
 * @example
 * ```ts
 * import { memoryStorage, openStore } from '@dagsync/store'
 *
 * const db = await openStore({ storage: memoryStorage() })
 * await db.assoc('user/1', { name: 'Ada', langs: ['en'] })
 * await db.assocIn(['user/1', 'langs', 1], 'fr')
 * await db.updateIn(['visits'], (n) => ((n as number | undefined) ?? 0) + 1)
 * const before = db.snapshot()
 * await db.transact(async (tx) => {
 *   await tx.dissoc('user/1')
 *   await tx.assoc('user/2', { name: 'Bo' })
 * })
 * await before.get('user/1') // still { name: 'Ada', langs: ['en', 'fr'] }
 * for await (const change of db.diff(before)) console.log(change.key, change.before, change.after)
 * ```
 */

export { asCommit, type Commit, commitRoots, decodeCommit, encodeCommit } from './commit.ts'
export { checkDag, type DagCheck, dagLinks, readBlock, walkDag } from './dag.ts'
export * from './errors.ts'
export { collectGarbage, type GcOptions, type GcPhase, type GcResult } from './gc.ts'
export { GcLock } from './gc-lock.ts'
export { headAtLeast } from './head-wait.ts'
export { type KeyChangeKind, type KeyHistoryEnd, type KeyHistoryEntry, keyHistory } from './key-history.ts'
export { MemoryBlockstore } from './memory-blockstore.ts'
export {
  BulkBudget,
  BulkTooLargeError,
  CheckedOps,
  checkOps,
  describeOp,
  InvalidOpError,
  MAX_BULK_BYTES,
  MAX_BULK_OPS,
  opBytes,
  opError,
  parseOp,
  type WriteOp,
} from './ops.ts'
export type { Segment } from './path.ts'
export { checkPrecondition, type Precondition, PreconditionFailedError } from './precondition.ts'
export { ReplicaApi } from './replica-api.ts'
export { type StagedBytes, stageBytes } from './stage.ts'
export {
  BaseStorage,
  BlockstoreStorage,
  blockKey,
  memoryStorage,
  type Pin,
  type Storage,
} from './storage.ts'
export { openStore, Store, type StoreInit, type TransactOptions, type TxResult } from './store.ts'
export { Transaction, type WriteApi } from './transaction.ts'
export {
  type BinaryValue,
  type KeyChange,
  type KeyEntry,
  type KeyInfo,
  type KeyRange,
  type ReadApi,
  type StoreKey,
  StoreView,
} from './view.ts'
export { type CommitEvent, DEFAULT_WATCH_CHANGES, DEFAULT_WATCH_QUEUE, type Watch, type WatchOptions } from './watch.ts'
export { WholeDagWriter, type WholeDagWriterOptions } from './whole-dag-writer.ts'
