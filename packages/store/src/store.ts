import {
  type Block,
  BlockNotFoundError,
  collectCids,
  InvalidValueError,
  type KeyInput,
  MerkleSearchTree,
  type Meta,
  type TreeInit,
} from '@dagsync/tree'
import { BaseBlockstore } from 'blockstore-core'
import type { Blockstore } from 'interface-blockstore'
import { CID } from 'multiformats/cid'
import { type Commit, DEFAULT_BITS, decodeCommit, encodeCommit } from './commit.ts'
import { checkDag, type DagCheck, readBlock } from './dag.ts'
import {
  CommitNotFoundError,
  InvalidStoreNameError,
  MissingBlocksError,
  ReadOnlyStoreError,
  StoreClosedError,
  StoreError,
} from './errors.ts'
import { collectGarbage, type GcOptions, type GcResult } from './gc.ts'
import { applyOps, checkOps, type WriteOp } from './ops.ts'
import type { Segment } from './path.ts'
import { checkPrecondition, type Precondition } from './precondition.ts'
import { blockKey, type Storage } from './storage.ts'
import { heldLinks, Transaction, type WriteApi } from './transaction.ts'
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
import { type Watch, Watcher, type WatchOptions } from './watch.ts'

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
  /** Decoded tree nodes kept in memory. @default 10_000 */
  cacheSize?: number
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

export interface TxResult<T> {
  /** What the transaction's function returned. */
  readonly value: T
  /** The commit it made, or null if it changed nothing. */
  readonly commit: Commit | null
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/

/** A group of transactions run in memory, waiting to be made durable together. */
interface Group {
  readonly tip: Commit | null
  readonly commits: readonly Commit[]
  /** Blocks its values and metadata link to, held when they were written. */
  readonly links: readonly CID[]
  readonly results: readonly { request: Request; value: unknown; commit: Commit | null }[]
  readonly blocks: readonly Block[]
}

interface Request {
  readonly run: (tx: Transaction) => unknown
  readonly meta?: Meta
  readonly resolve: (result: TxResult<unknown>) => void
  readonly reject: (err: unknown) => void
}

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
  readonly #now: () => number
  readonly #queue: Request[] = []
  readonly #watchers = new Set<Watcher>()
  readonly #headListeners = new Set<(head: Commit) => void>()
  #head: Commit | null
  #view: StoreView
  #writing: Promise<void> | null = null
  #flushFailed = false
  #notified: Promise<void> = Promise.resolve()
  #closed = false

  constructor(init: StoreInit & { name: string }, head: Commit | null, bits: number) {
    this.name = init.name
    this.readOnly = init.readOnly === true
    this.#storage = init.storage
    this.#overlay = new PendingBlocks(init.storage.blockstore)
    this.#bits = bits
    this.#tree = new MerkleSearchTree(this.#overlay, treeInit(bits, init.cacheSize))
    this.#now = init.now ?? Date.now
    this.#head = head
    this.#view = new StoreView(this.#tree, head)
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

  /** Commits from the head back, newest first, as far as history is retained. */
  async *log(options: { limit?: number } = {}): AsyncGenerator<Commit> {
    let remaining = options.limit ?? Number.POSITIVE_INFINITY
    let commit = this.#head
    while (commit !== null && remaining-- > 0) {
      yield commit
      if (commit.prev === null) return
      const prev = await this.#loadCommit(commit.prev, false)
      if (prev === undefined) return // older history was collected
      commit = prev
    }
  }

  /** A past version, by sequence number or commit CID. */
  async at(version: number | CID): Promise<StoreView> {
    this.#checkOpen()
    const cid = CID.asCID(version)
    if (cid !== null) {
      const commit = await this.#loadCommit(cid, false)
      if (commit === undefined) throw new CommitNotFoundError(`commit ${cid} is not in this store's storage`)
      return new StoreView(this.#tree, commit)
    }
    if (version === 0) return new StoreView(this.#tree, null)
    for await (const commit of this.log()) {
      if (commit.seq === version) return new StoreView(this.#tree, commit)
      if (commit.seq < (version as number)) break
    }
    throw new CommitNotFoundError(`no retained commit has seq ${String(version)} (the head is ${this.#head?.seq ?? 0})`)
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
    const watcher = new Watcher(options.prefix, this.#head, options, () => this.#watchers.delete(watcher))
    this.#watchers.add(watcher)
    options.signal?.addEventListener('abort', () => watcher.close(), { once: true })
    return watcher
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
  transact(ops: readonly WriteOp[], options?: TransactOptions): Promise<TxResult<undefined>>
  transact<T>(fn: (tx: Transaction) => T | Promise<T>, options?: TransactOptions): Promise<TxResult<T>>
  transact<T>(
    fn: ((tx: Transaction) => T | Promise<T>) | readonly WriteOp[],
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
        body = (tx) => applyOps(tx, ops)
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
      this.#queue.push({ run, meta: options.meta, resolve: resolve as Request['resolve'], reject })
      void this.#drain()
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

  #drain(): Promise<void> {
    this.#writing ??= this.#write().catch((err) => {
      this.#writing = null
      throw err
    })
    return this.#writing
  }

  async #write(): Promise<void> {
    // Group N+1 runs its transactions while group N is being synced; syncs stay in order.
    let flushed: Promise<boolean> = Promise.resolve(true)
    let tip = this.#head
    for (;;) {
      while (this.#queue.length > 0) {
        if (this.#flushFailed) {
          // Groups built on a failed one failed with it: start again from the durable head.
          await flushed
          this.#flushFailed = false
          tip = this.#head
        }
        const group = await this.#runGroup(this.#queue.splice(0), tip)
        tip = group.tip
        flushed = this.#flush(group, flushed)
      }
      await flushed
      // Checked and cleared in one step, so a transaction queued from here on starts a new run.
      if (this.#queue.length === 0) {
        this.#writing = null
        return
      }
    }
  }

  /** Runs a group of transactions on top of each other, in memory; each that writes makes a commit. */
  async #runGroup(requests: Request[], start: Commit | null): Promise<Group> {
    let tip = start
    const commits: Commit[] = []
    const links: CID[] = []
    const results: { request: Request; value: unknown; commit: Commit | null }[] = []
    for (const request of requests) {
      const mark = this.#overlay.mark()
      const tx = new Transaction(new StoreView(this.#tree, tip), this.#tree, this.#overlay)
      try {
        const value = await request.run(tx)
        tx.close()
        let commit: Commit | null = null
        if (tx.size > 0) {
          const time = commitTime(this.#now(), tip?.time ?? 0)
          const base = tip?.tree ?? this.#tree.emptyRoot
          const root = await this.#tree.batch(base, tx.ops(time))
          if (!root.equals(base)) {
            const made = encodeCommit({
              tree: root,
              prev: tip?.cid ?? null,
              seq: (tip?.seq ?? 0) + 1,
              time,
              ...(request.meta === undefined ? {} : { meta: request.meta }),
              bits: this.#bits,
            })
            // Checked once the encoding has checked the metadata's shape.
            const metaLinks =
              request.meta === undefined
                ? []
                : await heldLinks(collectCids(request.meta), this.#overlay, "the commit's metadata")
            this.#overlay.add(made.block)
            commit = made.commit
            commits.push(commit)
            links.push(...tx.links, ...metaLinks)
            tip = commit
          }
        }
        results.push({ request, value, commit })
      } catch (err) {
        tx.close()
        this.#overlay.rollback(mark)
        request.reject(err)
      }
    }
    return { tip, commits, links, results, blocks: this.#overlay.seal() }
  }

  /**
   * Makes a group durable after the one before it, then moves the head and answers its
   * transactions. Resolves false if the group (or one it was built on) could not be written:
   * then none of its transactions is acknowledged.
   */
  async #flush(group: Group, before: Promise<boolean>): Promise<boolean> {
    const { tip, commits, links, results, blocks } = group
    let failure: unknown
    if (!(await before)) {
      failure = new StoreError('an earlier group of commits, which this one builds on, could not be made durable')
    } else if (commits.length > 0 && tip !== null) {
      try {
        // The linked blocks were held when written; a gc since may have taken them (nothing
        // kept them then). Checked again where no gc can sweep until the commit is written.
        await this.#storage.gcLock.shared(async () => {
          for (const link of links) {
            if (!(await this.#storage.blockstore.has(link)))
              throw new InvalidValueError(
                `${link}, which a value links to, was collected by gc before it was committed`,
              )
          }
          await this.#storage.commit(blocks, new Map([[this.name, tip.cid]]))
        })
        this.#setHead(tip, commits)
      } catch (err) {
        failure = new StoreError(`could not make commit ${tip.seq} durable: ${(err as Error).message}`, { cause: err })
      }
    }
    this.#overlay.release(blocks)
    if (failure !== undefined) this.#flushFailed = true
    for (const { request, value, commit } of results) {
      if (failure === undefined) request.resolve({ value, commit })
      else request.reject(failure)
    }
    return failure === undefined
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
   * Moves a read-only store to the head its storage holds now, for a store whose storage another
   * holder moves (a browser tab reading the replica another tab's node syncs). Watchers get the
   * changes as from `adopt`. It never moves back: a head no newer than this store's is ignored.
   */
  async reload(): Promise<Commit | null> {
    this.#checkOpen()
    if (!this.readOnly) throw new StoreError('reload is for read-only stores; a writer holds its own head')
    const cid = await this.#storage.head(this.name)
    if (cid === undefined || (this.#head !== null && cid.equals(this.#head.cid))) return this.#head
    const commit = await this.#loadCommit(cid, true)
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
    if (this.#watchers.size > 0) {
      this.#notified = this.#notified.then(() => this.#notify(previous, commits))
    }
  }

  /**
   * Tells watchers, in commit order, which keys each commit changed. If that cannot be worked
   * out, each watcher ends with the error: one that skipped a commit would mislead its consumer.
   */
  async #notify(previous: Commit | null, commits: readonly Commit[]): Promise<void> {
    let from = previous?.tree ?? this.#tree.emptyRoot
    try {
      for (const commit of commits) {
        const changes: KeyChange[] = []
        for await (const change of diffRoots(this.#tree, from, commit.tree)) changes.push(change)
        from = commit.tree
        for (const watcher of this.#watchers) watcher.deliver(commit, changes)
      }
    } catch (err) {
      for (const watcher of this.#watchers) watcher.fail(err)
    }
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
    while (this.#writing !== null) await this.#writing
    await this.#notified
    for (const watcher of this.#watchers) watcher.close()
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreClosedError(`store ${this.name} is closed`)
  }

  async #loadCommit(cid: CID, verify: boolean): Promise<Commit | undefined> {
    const bytes = await readBlock(this.#overlay, cid)
    return bytes === undefined ? undefined : decodeCommit(cid, bytes, verify)
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

/** A commit's time: the clock's, in whole ms as commits hold it, never before the previous commit's. */
function commitTime(now: number, previous: number): number {
  const time = Math.floor(now)
  if (!Number.isSafeInteger(time) || time < 0) {
    throw new StoreError(`the clock gave ${now}; commit times are milliseconds since 1970, from 0 to 2^53 - 1`)
  }
  return Math.max(time, previous)
}

function treeInit(bits: number, cacheSize: number | undefined): TreeInit {
  return cacheSize === undefined ? { bitsPerLevel: bits } : { bitsPerLevel: bits, cacheSize }
}

/**
 * The blocks of commits not yet durable, in front of storage: the tree writes here, and reads
 * see pending blocks first. `seal` closes the current group's blocks for one storage commit;
 * they stay readable until `release`, once that commit is done.
 */
class PendingBlocks extends BaseBlockstore {
  readonly #base: Blockstore
  readonly #pending = new Map<string, Block>()
  #order: string[] = []

  constructor(base: Blockstore) {
    super()
    this.#base = base
  }

  override put(cid: CID, bytes: Uint8Array): CID {
    this.add({ cid, bytes })
    return cid
  }

  add(block: Block): void {
    const key = blockKey(block.cid)
    if (!this.#pending.has(key)) {
      this.#pending.set(key, block)
      this.#order.push(key)
    }
  }

  override async *get(cid: CID): AsyncGenerator<Uint8Array> {
    const block = this.#pending.get(blockKey(cid))
    if (block !== undefined) yield block.bytes
    else yield* this.#base.get(cid)
  }

  override async has(cid: CID): Promise<boolean> {
    return this.#pending.has(blockKey(cid)) || (await this.#base.has(cid))
  }

  mark(): number {
    return this.#order.length
  }

  /** Drops the blocks put since `mark` (a failed transaction's). */
  rollback(mark: number): void {
    for (const key of this.#order.splice(mark)) this.#pending.delete(key)
  }

  /** The current group's blocks, in the order they were put; later puts start a new group. */
  seal(): Block[] {
    const blocks = this.#order.map((key) => this.#pending.get(key) as Block)
    this.#order = []
    return blocks
  }

  /** Forgets blocks that storage now holds (or that will never be written). */
  release(blocks: readonly Block[]): void {
    for (const block of blocks) this.#pending.delete(blockKey(block.cid))
  }
}
