// A reader's replica of a store: it moves to each newer verified head, and never exposes a head
// whose blocks it does not hold. The class is the public face: reads go to the replica's store,
// announcements to its sync engine (replica-sync.ts), writes to its writer (write-client.ts),
// older history to history-fetch.ts.
import { type CheckedOps, type Commit, ReplicaApi, type Store, type TxResult, type WriteOp } from '@dagsync/store'
import type { PeerId, PublicKey } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { Announcement, Push } from './announcement.ts'
import type { FollowerContext, FollowerStatus } from './follower-context.ts'
import { fetchOlderCommits } from './history-fetch.ts'
import { ReplicaSync } from './replica-sync.ts'
import { type RemoteTransactOptions, WriteClient } from './write-client.ts'

export type { FollowerContext, FollowerStatus, SyncReport } from './follower-context.ts'

/**
 * A replica of someone else's store, read-only here. Reads see the last commit this replica
 * holds in full (or, sparse, fetch what they touch). Writes go to the store's writer, if this
 * peer is on its allow-list, and resolve once this replica holds the commit they made.
 */
export class Follower extends ReplicaApi {
  readonly id: string
  readonly topic: string
  readonly sparse: boolean
  readonly #sync: ReplicaSync
  readonly #writes: WriteClient
  readonly #ctx: FollowerContext

  constructor(ctx: FollowerContext, id: string, key: PublicKey, topic: string, store: Store, sparse: boolean) {
    super(store)
    this.id = id
    this.topic = topic
    this.sparse = sparse
    this.#ctx = ctx
    this.#sync = new ReplicaSync(ctx, { id, topic, store, sparse }, key)
    this.#writes = new WriteClient(ctx, this.#sync)
  }

  status(): FollowerStatus {
    return this.#sync.status()
  }

  // --- announcements and sync: see replica-sync.ts ---------------------------------------------

  /** The latest valid announcement this replica knows, to relay to peers that subscribe. */
  get announcement(): Announcement | null {
    return this.#sync.announcement
  }

  /**
   * Resolves once this replica holds a commit with at least `seq` (default: the newest known),
   * or rejects when `signal` aborts.
   */
  synced(seq?: number, signal?: AbortSignal): Promise<Commit | null> {
    return this.#sync.synced(seq, signal)
  }

  /** The highest sequence this replica has seen validly announced or holds. */
  get knownSeq(): number {
    return this.#sync.knownSeq
  }

  /**
   * Takes a commit the store's key vouches for (a checked announcement, or a name IPNS
   * resolved); if its seq is unknown, reads it from the commit. Syncs if it is newer.
   */
  offerCommit(commit: CID, from?: PeerId): Promise<void> {
    return this.#sync.offerCommit(commit, from)
  }

  /**
   * Takes a verified announcement (from gossip, or a remote write's answer); syncs if it is
   * newer, using the blocks pushed with it if they apply to what this replica holds.
   */
  offer(announcement: Announcement, from?: PeerId, push?: Push): void {
    this.#sync.offer(announcement, from, push)
  }

  /** Checks announcement bytes against the store's key, then offers them. */
  offerBytes(bytes: Uint8Array, from?: PeerId): Promise<Announcement> {
    return this.#sync.offerBytes(bytes, from)
  }

  stop(): void {
    this.#sync.stop()
  }

  // --- older history: see history-fetch.ts ---------------------------------------------------

  /**
   * Fetches up to `count` (default 20) commits older than this replica's log reaches, with what
   * their trees need, so `log()`, `at()` and a key's history reach further back; the head does
   * not move. Resolves with how many were added (fewer once the store's first commit is held).
   */
  fetchOlder(count = 20, signal?: AbortSignal): Promise<number> {
    return fetchOlderCommits(this.#ctx, this.store, count, signal)
  }

  // --- remote writes: see write-client.ts -----------------------------------------------------

  /**
   * Sends a list of ops (a bulk write: see @dagsync/store's WriteOp) to the store's writer, which
   * applies them as one transaction, one commit, if this peer is on its allow-list. The list is
   * checked here first, with the checks and limits the writer holds it to (MAX_BULK_OPS,
   * MAX_BULK_BYTES), so a bad list fails before it is sent. Resolves with the commit once this
   * replica holds it (`commit: null` if the writes changed nothing). A write sent again with the
   * same `writeId` is applied once.
   */
  transact(ops: readonly WriteOp[] | CheckedOps, options: RemoteTransactOptions = {}): Promise<TxResult<undefined>> {
    return this.#writes.transact(ops, options)
  }
}
