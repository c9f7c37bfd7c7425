// What a follower needs from its node, and what it reports: its status and each sync's report.
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Logger } from '@libp2p/logger'
import type { CID } from 'multiformats/cid'
import type { ReceiveLimits } from './received.ts'
import type { StagingBlockstore } from './staging.ts'

/** What a follower needs from its node. */
export interface FollowerContext {
  readonly libp2p: Libp2p
  readonly staging: StagingBlockstore
  readonly log: Logger
  /** Fetches one block from the network (bitswap), verified; fails after `timeoutMs`. */
  fetch(cid: CID, timeoutMs: number): Promise<Uint8Array>
  /** Peers likely to hold the store: subscribers of its topic, then other connected peers. */
  peersFor(topic: string, preferred: readonly PeerId[]): PeerId[]
  /** How the store syncs now: 'http' when the node has gateways and no libp2p peer for it. @default 'libp2p' */
  pathFor?(topic: string): 'libp2p' | 'http'
  readonly syncTimeoutMs: number
  readonly fetchTimeoutMs: number
  /** How much one sync takes from a push and fast-path replies. */
  readonly receiveLimits: ReceiveLimits
  /** Told of every completed sync. */
  onSync?(report: SyncReport): void
  /** Told of every push that did not check out. */
  onPushRefused?(): void
}

export interface FollowerStatus {
  readonly store: string
  readonly sparse: boolean
  /** The commit this replica holds and serves reads from. */
  readonly synced: { readonly seq: number; readonly cid: CID } | null
  /** The newest commit a valid announcement named (it may not be synced yet). */
  readonly newest: { readonly seq: number; readonly cid: CID } | null
  /** Commits between synced and newest. */
  readonly lag: number
  /** Connected peers subscribed to the store's topic. */
  readonly peers: number
  /** 'http' while the store syncs through trustless gateways (no libp2p peer to ask), else 'libp2p'. */
  readonly path: 'libp2p' | 'http'
  readonly syncing: boolean
  /** While syncing: what has arrived so far (blocks and bytes, fast path and bitswap together). */
  readonly progress?: { readonly blocks: number; readonly bytes: number }
  /** How the last sync went: its path, time, wire bytes and blocks written. */
  readonly lastSync?: SyncReport
  readonly lastError?: string
}

export interface SyncReport {
  readonly seq: number
  readonly ms: number
  /**
   * Where the time went: receiving the push or fast-path reply, then checking every new block
   * (and fetching over bitswap what was still missing), then writing to storage.
   */
  readonly phases: { readonly receive: number; readonly check: number; readonly write: number }
  /**
   * 'push' when the announcement carried everything, 'fast' when a fast-path request did,
   * 'bitswap' when neither sent anything used, 'mixed' between; 'http' when the blocks came from
   * trustless gateways (the store had no libp2p peer).
   */
  readonly path: 'push' | 'fast' | 'bitswap' | 'mixed' | 'http'
  readonly wireBytes: number
  /** Messages (blocks and deltas) taken from the push and fast-path replies, used or not. */
  readonly messages: number
  readonly blocks: number
  /** Blocks that had to come over bitswap, and their bytes (payload, without bitswap's framing). */
  readonly fetched: number
  readonly fetchedBytes: number
  /** Request-reply rounds: one per fast-path request, one per tree level fetched over bitswap (0 for a push). */
  readonly roundTrips: number
}
