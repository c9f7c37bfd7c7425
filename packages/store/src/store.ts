// A store: the public class that reads the last durable commit, hands transactions to the
// write path (group-commit.ts), reads history (history.ts), feeds watches (watch-hub.ts), and
// openStore, which opens one from storage.
import {
  type Block,
  BlockNotFoundError,
  type KeyInput,
  MerkleSearchTree,
  type Meta,
  type TreeInit,
} from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import { type Commit, DEFAULT_BITS, decodeCommit } from './commit.ts'
import { checkDag, type DagCheck, readBlock } from './dag.ts'
import {
  InvalidStoreNameError,
  MissingBlocksError,
  ReadOnlyStoreError,
  StoreClosedError,
  StoreError,
} from './errors.ts'
import { collectGarbage, type GcOptions, type GcResult } from './gc.ts'
import { GroupCommit, type TxRequest, type TxResult } from './group-commit.ts'
import { commitLog, type LoadCommit, versionAt } from './history.ts'
import { type CheckedOps, checkOps, type WriteOp } from './ops.ts'
import type { Segment } from './path.ts'
import { PendingBlocks } from './pending-blocks.ts'
import { checkPrecondition, type Precondition } from './precondition.ts'
import type { Storage } from './storage.ts'
import type { Transaction, WriteApi } from './transaction.ts'
import {
  type BinaryValue,
  diffRoots,
  type KeyChange,
  type KeyEntry,
  type KeyInfo,
  type KeyRange,
  type ReadApi,
  StoreView,
} from './view.ts'
import type { Watch, WatchOptions } from './watch.ts'
import { WatchHub } from './watch-hub.ts'

export interface StoreInit {
  storage: Storage
  /**
   * The store's name within its storage; stores in one storage share blocks.
   * 1-64 of letters, digits, `.`, `_` and `-`.
   * @default 'default'
   */
  name?: string
  /**
   * The tree's bits per level (fanout 2 ** bits). Fixed by the first commit: a store that has
   * commits uses the value they record, and refuses a different one.
   * @default 4
   */
  bitsPerLevel?: number
  /** Decoded tree nodes kept in memory, as their blocks' bytes (see the tree's `cacheBytes`). @default 64 MiB */
  cacheBytes?: number
  /**
   * How much to check when opening: 'head' reads the head commit and its tree's root; 'full'
   * also walks every block the head reaches and reports any that is missing.
   * @default 'head'
   */
  verify?: 'head' | 'full'
  /** For a store that follows another writer: writes fail, the sync layer moves the head with `adopt`. */
  readOnly?: boolean
  /** The clock for commit times, in ms since the epoch. @default Date.now */
  now?: () => number
}

export interface TransactOptions {
  /** Stored in the commit (author, message...): a small map. */
  meta?: Meta
  /**
   * What the write was based on (a key's value, or the head commit), checked in the write's
   * own transaction: if it no longer holds, the write fails with PreconditionFailedError and
   * changes nothing. @default none: the write applies to whatever the store holds then
   */
  ifMatch?: Precondition
}

export type { TxResult } from './group-commit.ts'

const NAME = /^[A-Za-z0-9._-]{1,64}$/

/**
 * A konserve-style key-value store whose every version is an immutable, content-addressed
 * commit. Writes are transactions, applied one at a time; transactions that arrive together
 * are committed in one durable write (group commit), each still its own commit. Reads see the
 * last durable commit.
 */
export class Store implements ReadApi, WriteApi {
  readonly name: string
  readonly readOnly: boolean
  readonly #storage: Storage
  readonly #overlay: PendingBlocks
  readonly #tree: MerkleSearchTree
  readonly #bits: number
  readonly #commits: GroupCommit
  readonly #watches: WatchHub
  readonly #headListeners = new Set<(head: Commit) => void>()
  #head: Commit | null
  #view: StoreView
  #closed = false

  constructor(init: StoreInit & { name: string }, head: Commit | null, bits: number) {
    this.name = init.name
    this.readOnly = init.readOnly === true
    this.#storage = init.storage
    this.#overlay = new PendingBlocks(init.storage.blockstore)
    this.#bits = bits
    this.#tree = new MerkleSearchTree(this.#overlay, treeInit(bits, init.cacheBytes))
    this.#head = head
    this.#view = new StoreView(this.#tree, head)
    this.#watches = new WatchHub(this.#tree)
    this.#commits = new GroupCommit({
      name: this.name,
      storage: init.storage,
      overlay: this.#overlay,
      tree: this.#tree,
      bits,
      now: init.now ?? Date.now,
      head: () => this.#head,
      setHead: (tip, commits) => this.#setHead(tip, commits),
    })
  }

  /** The last durable commit, or null before the first. */
  get head(): Commit | null {
    return this.#head
  }

  /** The storage this store keeps its blocks and head in. */
  get storage(): Storage {
    return this.#storage
  }

  /** The tree the store's versions are held in (for sync and export). */
  get tree(): MerkleSearchTree {
    return this.#tree
  }

  // --- reads: the last durable commit -----------------------------------------------------

  /** An immutable view of the current version; later writes never show in it. */
  snapshot(): StoreView {
    this.#checkOpen()
    return this.#view
  }

  get(key: KeyInput): Promise<unknown> {
    return this.snapshot().get(key)
  }

  getIn(path: readonly [KeyInput, ...Segment[]]): Promise<unknown> {
    return this.snapshot().getIn(path)
  }

  exists(key: KeyInput): Promise<boolean> {
    return this.snapshot().exists(key)
  }

  getMeta(key: KeyInput): Promise<KeyInfo | undefined> {
    return this.snapshot().getMeta(key)
  }

  bget(key: KeyInput): Promise<BinaryValue | undefined> {
    return this.snapshot().bget(key)
  }

  keys(range?: KeyRange): AsyncGenerator<KeyInfo> {
    return this.snapshot().keys(range)
  }

  entries(range?: KeyRange): AsyncGenerator<KeyEntry> {
    return this.snapshot().entries(range)
  }

  count(range?: Omit<KeyRange, 'reverse' | 'limit'>): Promise<number> {
    return this.snapshot().count(range)
  }

  // --- history ------------------------------------------------------------------------------

  /** Commits from the head (or `from`) back, newest first, as far as history is retained. */
  async *log(options: { limit?: number; from?: Commit } = {}): AsyncGenerator<Commit> {
    yield* commitLog(options.from ?? this.#head, this.#load, options.limit)
  }

  /** A past version, by sequence number or commit CID. */
  async at(version: number | CID): Promise<StoreView> {
    this.#checkOpen()
    return versionAt(this.#tree, this.#head, this.#load, version)
  }

  /** The keys that changed between two versions (views, sequence numbers or commit CIDs), in key order. */
  async *diff(
    from: StoreView | number | CID,
    to: StoreView | number | CID = this.snapshot(),
  ): AsyncGenerator<KeyChange> {
    const a = from instanceof StoreView ? from : await this.at(from)
    const b = to instanceof StoreView ? to : await this.at(to)
    yield* diffRoots(this.#tree, a.root, b.root)
  }

  /**
   * Emits, after each commit, the keys it changed (those under `prefix`, if given). A watch
   * that cannot deliver every commit ends with a WatchInterruptedError (see watch.ts).
   */
  watch(options: WatchOptions = {}): Watch {
    this.#checkOpen()
    return this.#watches.watch(this.#head, options)
  }

  // --- writes -------------------------------------------------------------------------------

  /**
   * Runs `fn` as one transaction: its reads see the store as of its start plus its own
   * writes, and its writes become one commit, or none if it throws. Transactions run one at
   * a time, in arrival order; those that arrive together are made durable together.
   *
   * Given a list of ops instead (a bulk write, see ops.ts), applies them in order as one
   * transaction: the list is checked whole (shapes, values, MAX_BULK_OPS and MAX_BULK_BYTES)
   * before it waits for its turn, and any op the store refuses fails all of them.
   */
  transact(ops: readonly WriteOp[] | CheckedOps, options?: TransactOptions): Promise<TxResult<undefined>>
  transact<T>(fn: (tx: Transaction) => T | Promise<T>, options?: TransactOptions): Promise<TxResult<T>>
  transact<T>(
    fn: ((tx: Transaction) => T | Promise<T>) | readonly WriteOp[] | CheckedOps,
    options: TransactOptions = {},
  ): Promise<TxResult<T>> {
    let run: (tx: Transaction) => unknown
    try {
      this.#checkOpen()
      if (this.readOnly)
        throw new ReadOnlyStoreError(`store ${this.name} follows another writer and cannot be written here`)
      let body: (tx: Transaction) => unknown
      if (typeof fn === 'function') {
        body = fn
      } else {
        const ops = checkOps(fn)
        body = (tx) => ops.applyTo(tx)
      }
      const { ifMatch } = options
      run =
        ifMatch === undefined
          ? body
          : async (tx) => {
              await checkPrecondition(tx, ifMatch)
              return await body(tx)
            }
    } catch (err) {
      return Promise.reject(err)
    }
    return new Promise((resolve, reject) => {
      this.#commits.enqueue({ run, meta: options.meta, resolve: resolve as TxRequest['resolve'], reject })
    })
  }

  async assoc(key: KeyInput, value: unknown): Promise<void> {
    await this.transact((tx) => tx.assoc(key, value))
  }

  async assocIn(path: readonly [KeyInput, ...Segment[]], value: unknown): Promise<void> {
    await this.transact((tx) => tx.assocIn(path, value))
  }

  async updateIn(path: readonly [KeyInput, ...Segment[]], update: (current: unknown) => unknown): Promise<void> {
    await this.transact((tx) => tx.updateIn(path, update))
  }

  async dissoc(key: KeyInput): Promise<void> {
    await this.transact((tx) => tx.dissoc(key))
  }

  async bassoc(key: KeyInput, bytes: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    await this.transact((tx) => tx.bassoc(key, bytes))
  }

  // --- followers ----------------------------------------------------------------------------

  /**
   * Moves a read-only store to `commit`, writing `blocks` (which must hold everything the
   * commit reaches that storage lacks) and the new head durably first. For the sync layer.
   */
  async adopt(commit: Commit, blocks: readonly Block[]): Promise<void> {
    this.#checkOpen()
    if (!this.readOnly) throw new StoreError('adopt is for read-only stores; a writer moves its head by committing')
    if ((commit.bits ?? DEFAULT_BITS) !== this.#bits) {
      throw new StoreError(
        `commit ${commit.cid} uses bitsPerLevel ${commit.bits ?? DEFAULT_BITS}, this store ${this.#bits}`,
      )
    }
    await this.#storage.commit(blocks, new Map([[this.name, commit.cid]]))
    this.#setHead(commit, [commit])
  }

  /**
   * Adds to a read-only store the commit before the oldest it holds (a replica syncs only its
   * head's tree; its history comes later, on demand): `commit` must be `child.prev`, `child` a
   * commit this store holds, and `blocks` everything `commit` reaches that storage lacks. The
   * head does not move; the log reaches one commit further.
   */
  async addHistory(child: Commit, commit: Commit, blocks: readonly Block[]): Promise<void> {
    this.#checkOpen()
    if (!this.readOnly) throw new StoreError('addHistory is for read-only stores; a writer holds its whole history')
    if (child.prev === null || !child.prev.equals(commit.cid) || commit.seq !== child.seq - 1) {
      throw new StoreError(`commit ${commit.cid} (seq ${commit.seq}) is not the one before commit ${child.seq}`)
    }
    if ((await this.#load(child.cid)) === undefined) throw new StoreError(`commit ${child.seq} is not held`)
    if ((commit.bits ?? DEFAULT_BITS) !== this.#bits) {
      throw new StoreError(
        `commit ${commit.cid} uses bitsPerLevel ${commit.bits ?? DEFAULT_BITS}, this store ${this.#bits}`,
      )
    }
    if (!blocks.some((block) => block.cid.equals(commit.cid))) throw new StoreError('the commit block is not given')
    await this.#storage.commit(blocks, new Map())
  }

  /**
   * Moves a read-only store to the head its storage holds now, for a store whose storage another
   * holder moves (a browser tab reading the replica another tab's node syncs). Watchers get the
   * changes as from `adopt`. It never moves back: a head no newer than this store's is ignored.
   */
  async reload(): Promise<Commit | null> {
    this.#checkOpen()
    if (!this.readOnly) throw new StoreError('reload is for read-only stores; a writer holds its own head')
    const cid = await this.#storage.head(this.name)
    if (cid === undefined || (this.#head !== null && cid.equals(this.#head.cid))) return this.#head
    // Verified: the head comes from storage another holder writes, not from this store's own writes.
    const bytes = await readBlock(this.#overlay, cid)
    const commit = bytes === undefined ? undefined : decodeCommit(cid, bytes, true)
    if (commit === undefined)
      throw new MissingBlocksError(`store ${this.name}: its head commit ${cid} is missing from storage`, [cid])
    // Two reloads can overlap: the later head wins whichever finishes first.
    if (commit.seq <= (this.#head?.seq ?? 0)) return this.#head
    this.#setHead(commit, [commit])
    return commit
  }

  /**
   * Calls `listener` with each new durable head, as soon as it is durable (before watchers get
   * the changed keys). Returns a function that removes the listener.
   */
  onHead(listener: (head: Commit) => void): () => void {
    this.#headListeners.add(listener)
    return () => this.#headListeners.delete(listener)
  }

  #setHead(head: Commit, commits: readonly Commit[]): void {
    const previous = this.#head
    this.#head = head
    this.#view = new StoreView(this.#tree, head)
    for (const listener of this.#headListeners) {
      try {
        listener(head)
      } catch {
        // A listener's failure is its own; the commit is durable regardless.
      }
    }
    this.#watches.moved(previous, commits)
  }

  // --- maintenance --------------------------------------------------------------------------

  /**
   * Deletes the blocks of every store in this storage that no retained commit and no pin
   * reaches. Reads of retained versions stay correct while it runs, and commits made during
   * it are kept. A block it must keep that cannot be read stops it before anything is deleted
   * (GcAbortedError).
   */
  gc(options: GcOptions = {}): Promise<GcResult> {
    this.#checkOpen()
    return collectGarbage(this.#storage, options)
  }

  /**
   * Checks that every block the head reaches is present and hashes to its CID, and reports
   * what is missing or corrupt. Reads everything: for after a crash or a disk problem.
   */
  async verify(): Promise<DagCheck> {
    this.#checkOpen()
    if (this.#head === null) return { blocks: 0, bytes: 0, missing: [], corrupt: [] }
    return checkDag(this.#storage.blockstore, [this.#head.cid])
  }

  /** Waits for queued transactions, then closes the store (not its storage). */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    // Transactions already queued still commit; new ones are refused from here on.
    await this.#commits.idle()
    await this.#watches.close()
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreClosedError(`store ${this.name} is closed`)
  }

  /** A commit of this store's history, pending or durable, or undefined if it was collected. */
  readonly #load: LoadCommit = async (cid) => {
    const bytes = await readBlock(this.#overlay, cid)
    return bytes === undefined ? undefined : decodeCommit(cid, bytes, false)
  }
}

/** Opens a store, checking that its head and the head's tree are in storage. */
export async function openStore(init: StoreInit): Promise<Store> {
  const name = init.name ?? 'default'
  if (!NAME.test(name))
    throw new InvalidStoreNameError(`store name "${name}": use 1-64 of letters, digits, ".", "_" and "-"`)
  const headCid = await init.storage.head(name)
  let head: Commit | null = null
  let bits = init.bitsPerLevel ?? DEFAULT_BITS
  if (headCid !== undefined) {
    const bytes = await readBlock(init.storage.blockstore, headCid)
    if (bytes === undefined) {
      throw new MissingBlocksError(`store ${name}: its head commit ${headCid} is missing from storage`, [headCid])
    }
    head = decodeCommit(headCid, bytes, true)
    bits = head.bits ?? DEFAULT_BITS
    if (init.bitsPerLevel !== undefined && init.bitsPerLevel !== bits) {
      throw new StoreError(`store ${name} was written with bitsPerLevel ${bits}, not ${init.bitsPerLevel}`)
    }
  }
  const store = new Store({ ...init, name }, head, bits)
  if (head !== null) {
    if (init.verify === 'full') {
      const { missing } = await store.verify()
      if (missing.length > 0) {
        throw new MissingBlocksError(
          `store ${name}: ${missing.length} ${missing.length === 1 ? 'block its head reaches is' : 'blocks its head reaches are'} missing (first: ${missing[0]})`,
          missing,
        )
      }
    } else {
      try {
        await store.tree.has(head.tree, '') // reads the root node (and the path to the least key)
      } catch (err) {
        if (err instanceof BlockNotFoundError) {
          throw new MissingBlocksError(`store ${name}: the root of its head's tree, ${err.cid}, is missing`, [err.cid])
        }
        throw err
      }
    }
  }
  return store
}

function treeInit(bits: number, cacheBytes: number | undefined): TreeInit {
  return cacheBytes === undefined ? { bitsPerLevel: bits } : { bitsPerLevel: bits, cacheBytes }
}
