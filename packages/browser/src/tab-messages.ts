// What the tabs of one origin say to each other over their BroadcastChannel: the tab holding the
// node tells every tab its heads and status, and takes the other tabs' writes to the writer.
// Messages are structured-cloned, so CIDs travel as strings and ops as DAG-CBOR bytes.
import { type FollowerStatus, RemoteWriteError, type SyncReport, UnauthorizedError } from '@dagsync/peer'
import { InvalidOpError, PreconditionFailedError } from '@dagsync/store'
import { CID } from 'multiformats/cid'
import type { WriteOutcome } from './outbox.ts'
import type { ConnectedPeer } from './peer-list.ts'

/** A follower's status as it crosses the channel (CIDs as strings). */
export type WireStatus = Omit<FollowerStatus, 'synced' | 'newest'> & {
  readonly synced: { readonly seq: number; readonly cid: string } | null
  readonly newest: { readonly seq: number; readonly cid: string } | null
}

/**
 * An error a write failed with in the node's tab. By a code, not the class's name: a bundler
 * renames classes.
 */
export interface WireError {
  readonly code: 'unauthorized' | 'precondition-failed' | 'invalid-op' | 'failed'
  readonly message: string
  /** For 'invalid-op': the op's index. */
  readonly index?: number
}

export type TabMessage =
  /** The node's tab: it holds the node now (sent on taking it, and to answer `who`). */
  | { readonly t: 'leader'; readonly tab: string; readonly peerId: string }
  /** A tab that just started asks which tab holds the node. */
  | { readonly t: 'who' }
  /** A tab asks every tab to load the node's code, and the node's tab to start the node. */
  | { readonly t: 'start-node' }
  /** A tab asks the node's tab to follow a store. */
  | { readonly t: 'follow'; readonly store: string }
  /**
   * The node's tab: a store's replica in IndexedDB moved to this commit; `started` when the tab
   * started it over HTTP before its node (cold-starts.ts).
   */
  | { readonly t: 'head'; readonly store: string; readonly seq: number; readonly started?: SyncReport }
  /** The node's tab, a few times a second: connected peers and each followed store's status. */
  | {
      readonly t: 'status'
      readonly tab: string
      readonly peers: number
      /** Each connected peer and the address it was reached at. */
      readonly connections: readonly ConnectedPeer[]
      readonly stores: Readonly<Record<string, WireStatus>>
    }
  /** A tab asks the node's tab to send a write (DAG-CBOR `{ops, m?}`) to the store's writer. */
  | {
      readonly t: 'write'
      readonly id: string
      readonly to: string
      readonly store: string
      readonly request: Uint8Array
    }
  /** The node's tab: the writer took write `id` (commit `seq`, or nothing changed: seq 0). */
  | { readonly t: 'written'; readonly id: string; readonly seq: number }
  /** The node's tab: write (or history fetch) `id` failed. */
  | { readonly t: 'failed'; readonly id: string; readonly error: WireError }
  /** A tab asks the node's tab to fetch up to `count` older commits of a store (Follower.fetchOlder). */
  | { readonly t: 'older'; readonly id: string; readonly to: string; readonly store: string; readonly count: number }
  /** The node's tab: history fetch `id` added this many commits. */
  | { readonly t: 'fetched'; readonly id: string; readonly added: number }
  /** A tab put a write in the outbox (the node's tab sends it; tabs show it as pending). */
  | { readonly t: 'outbox'; readonly store: string }
  /** The node's tab: the writer answered a write from the outbox. */
  | { readonly t: 'settled'; readonly outcome: WriteOutcome }

export function statusToWire(status: FollowerStatus): WireStatus {
  const plain = (c: { seq: number; cid: CID } | null) => (c === null ? null : { seq: c.seq, cid: c.cid.toString() })
  return { ...status, synced: plain(status.synced), newest: plain(status.newest) }
}

export function statusFromWire(status: WireStatus): FollowerStatus {
  const cid = (c: { seq: number; cid: string } | null) => (c === null ? null : { seq: c.seq, cid: CID.parse(c.cid) })
  return { ...status, synced: cid(status.synced), newest: cid(status.newest) }
}

export function errorToWire(err: unknown): WireError {
  const { message } = err instanceof Error ? err : new Error(String(err))
  if (err instanceof UnauthorizedError) return { code: 'unauthorized', message }
  if (err instanceof PreconditionFailedError) return { code: 'precondition-failed', message }
  if (err instanceof InvalidOpError) return { code: 'invalid-op', message, index: err.index }
  return { code: 'failed', message }
}

/** The error a write failed with in the node's tab, as this tab's own class. */
export function errorFromWire(error: WireError): Error {
  switch (error.code) {
    case 'unauthorized':
      return new UnauthorizedError(error.message)
    case 'precondition-failed':
      return new PreconditionFailedError(error.message)
    case 'invalid-op':
      return new InvalidOpError(error.index ?? 0, error.message)
    case 'failed':
      return new RemoteWriteError(error.message)
  }
}
