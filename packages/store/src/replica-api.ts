// A replica's public face, shared by a follower on Node (@dagsync/peer) and a page's tab
// (@dagsync/browser): reads are served by the local read-only store the replica syncs into;
// single-key writes are one-op lists given to `transact`, which the subclass sends to the writer.
import type { KeyInput } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import type { Commit } from './commit.ts'
import type { CheckedOps, WriteOp } from './ops.ts'
import type { Segment } from './path.ts'
import type { Store, TxResult } from './store.ts'
import type { BinaryValue, KeyChange, KeyEntry, KeyInfo, KeyRange, ReadApi, StoreView } from './view.ts'
import type { Watch, WatchOptions } from './watch.ts'

export abstract class ReplicaApi implements ReadApi {
  /** The local replica, as a read-only store. */
  readonly store: Store

  constructor(store: Store) {
    this.store = store
  }

  /** Sends a list of ops to the store's writer, as one commit; resolves once the replica holds it. */
  abstract transact(ops: readonly WriteOp[] | CheckedOps): Promise<TxResult<undefined>>

  // --- reads: the replica ----------------------------------------------------------------------

  get head(): Commit | null {
    return this.store.head
  }

  get(key: KeyInput): Promise<unknown> {
    return this.store.get(key)
  }

  getIn(path: readonly [KeyInput, ...Segment[]]): Promise<unknown> {
    return this.store.getIn(path)
  }

  exists(key: KeyInput): Promise<boolean> {
    return this.store.exists(key)
  }

  getMeta(key: KeyInput): Promise<KeyInfo | undefined> {
    return this.store.getMeta(key)
  }

  bget(key: KeyInput): Promise<BinaryValue | undefined> {
    return this.store.bget(key)
  }

  keys(range?: KeyRange): AsyncGenerator<KeyInfo> {
    return this.store.keys(range)
  }

  entries(range?: KeyRange): AsyncGenerator<KeyEntry> {
    return this.store.entries(range)
  }

  snapshot(): StoreView {
    return this.store.snapshot()
  }

  watch(options?: WatchOptions): Watch {
    return this.store.watch(options)
  }

  diff(from: StoreView | number | CID, to?: StoreView | number | CID): AsyncGenerator<KeyChange> {
    return this.store.diff(from, to)
  }

  // --- single-key writes, through the writer --------------------------------------------------

  async assoc(key: KeyInput, value: unknown): Promise<Commit | null> {
    return (await this.transact([{ op: 'put', key, value }])).commit
  }

  async assocIn(path: readonly [KeyInput, ...Segment[]], value: unknown): Promise<Commit | null> {
    const [key, ...rest] = path
    return (await this.transact([{ op: 'put-in', key, path: rest, value }])).commit
  }

  async dissoc(key: KeyInput): Promise<Commit | null> {
    return (await this.transact([{ op: 'delete', key }])).commit
  }

  async bassoc(key: KeyInput, bytes: Uint8Array): Promise<Commit | null> {
    return (await this.transact([{ op: 'put-bytes', key, bytes }])).commit
  }
}
