// A store as one tab sees it: reads come from this tab's own read-only view of the replica in
// IndexedDB (so they need no other tab, and go on while the node moves between tabs), which
// reloads each time the node's tab says the replica moved; writes go through the node's tab.
import { type FollowerStatus, preconditionToWire, type RemoteTransactOptions, type SyncReport } from '@dagsync/peer'
import {
  type CheckedOps,
  type Commit,
  checkOps,
  headAtLeast,
  type Precondition,
  ReplicaApi,
  type Store,
  type TxResult,
  type WriteOp,
} from '@dagsync/store'
import * as dagCbor from '@ipld/dag-cbor'
import type { PendingWrite, WriteOutcome } from './outbox.ts'

/** What a tab's follower needs from its tab. */
export interface TabLink {
  /** The status the node's tab last sent for this store, if it is recent. */
  status(store: string): FollowerStatus | undefined
  /** How the node's tab started this store over HTTP before its node ran, if it did. */
  started(store: string): SyncReport | undefined
  /** Hands a write to the node's tab; resolves with the commit's seq (0: nothing changed). */
  write(store: string, request: Uint8Array): Promise<number>
  /** Has the node's tab fetch older commits (Follower.fetchOlder); resolves with how many it added. */
  older(store: string, count: number): Promise<number>
  /** Puts a write in the outbox. */
  queue(store: string, ops: readonly WriteOp[], ifMatch: Precondition | undefined): Promise<PendingWrite>
  /** The writes of a store in the outbox, oldest first. */
  pending(store: string): Promise<PendingWrite[]>
}

export class TabFollower extends ReplicaApi {
  readonly id: string
  readonly #link: TabLink
  readonly #settledListeners = new Set<(outcome: WriteOutcome) => void>()
  #reloading: Promise<unknown> = Promise.resolve()

  constructor(id: string, store: Store, link: TabLink) {
    super(store)
    this.id = id
    this.#link = link
  }

  /** Moves this tab's view to the replica's head in IndexedDB; reloads run one after another. */
  reload(): Promise<unknown> {
    this.#reloading = this.#reloading.then(
      () => this.store.reload(),
      () => this.store.reload(),
    )
    return this.#reloading
  }

  /**
   * The node's status for this store, with `synced` and `lag` as this tab sees them. With no
   * recent word from a node's tab (none yet, or it just closed), no peers and nothing syncing;
   * the last sync is then the start over HTTP, if the store had one (and its path 'http').
   */
  status(): FollowerStatus {
    const head = this.store.head
    const synced = head === null ? null : { seq: head.seq, cid: head.cid }
    const node = this.#link.status(this.id)
    const newest = node?.newest != null && node.newest.seq > (synced?.seq ?? 0) ? node.newest : synced
    const started = this.#link.started(this.id)
    const lastSync = node?.lastSync ?? started
    return {
      ...(node ?? {
        store: this.id,
        sparse: false,
        peers: 0,
        path: started === undefined ? 'libp2p' : 'http',
        syncing: false,
      }),
      ...(lastSync === undefined ? {} : { lastSync }),
      synced,
      newest,
      lag: (newest?.seq ?? 0) - (synced?.seq ?? 0),
    }
  }

  /** Resolves once this tab's view holds a commit with at least `seq`. */
  async synced(seq: number, signal?: AbortSignal): Promise<Commit | null> {
    return headAtLeast(this.store, seq, signal)
  }

  /**
   * Sends a list of ops to the store's writer through the node's tab, as `Follower.transact`
   * does, and resolves once this tab's view holds the commit. A write that failed because the
   * node's tab closed may be sent again with the same `writeId`: it is applied once.
   */
  async transact(
    ops: readonly WriteOp[] | CheckedOps,
    options: RemoteTransactOptions = {},
  ): Promise<TxResult<undefined>> {
    const request = dagCbor.encode({
      ops: checkOps(ops).ops,
      ...(options.writeId === undefined ? {} : { w: options.writeId }),
      ...(options.meta === undefined ? {} : { m: options.meta }),
      ...(options.ifMatch === undefined ? {} : { p: preconditionToWire(options.ifMatch) }),
    })
    const seq = await this.#link.write(this.id, request)
    if (seq === 0) return { value: undefined, commit: null }
    return { value: undefined, commit: await this.synced(seq) }
  }

  /**
   * Has the node's tab fetch up to `count` (default 20) commits older than this replica's log
   * reaches, as `Follower.fetchOlder` does; this tab's log and key histories then reach them.
   */
  fetchOlder(count = 20): Promise<number> {
    return this.#link.older(this.id, count)
  }

  // --- the outbox: writes that wait for the writer -----------------------------------------------

  /**
   * Puts a list of ops in the outbox (IndexedDB) and returns at once: the node's tab sends it
   * when the writer is reachable, after the writes made before it. It ends accepted (with its
   * commit) or rejected (with the reason: not allowed, a stale `ifMatch`, an op the writer
   * refuses); `onSettled` tells which, and `pending()` lists what still waits.
   */
  async queue(ops: readonly WriteOp[], options: { ifMatch?: Precondition } = {}): Promise<PendingWrite> {
    return await this.#link.queue(this.id, checkOps(ops).ops, options.ifMatch)
  }

  /** This store's writes in the outbox, oldest first: they survive a reload. */
  pending(): Promise<PendingWrite[]> {
    return this.#link.pending(this.id)
  }

  /** Calls `listener` with how each write from the outbox ended; returns a function that stops it. */
  onSettled(listener: (outcome: WriteOutcome) => void): () => void {
    this.#settledListeners.add(listener)
    return () => this.#settledListeners.delete(listener)
  }

  /** Resolves with how the outbox write `id` ended (while this tab is open to hear it). */
  settled(id: string): Promise<WriteOutcome> {
    return new Promise((resolve) => {
      const off = this.onSettled((outcome) => {
        if (outcome.id !== id) return
        off()
        resolve(outcome)
      })
    })
  }

  /** For the tab: the node's tab says how an outbox write ended. */
  settle(outcome: WriteOutcome): void {
    for (const listener of this.#settledListeners) listener(outcome)
  }
}
