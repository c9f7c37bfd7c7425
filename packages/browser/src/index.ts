/**
 * @packageDocumentation
 *
 * A dagsync peer inside a web page. It keeps its replicas, its identity and everything else in
 * IndexedDB, dials one or more daemons over WebSockets (and redials them with backoff when they
 * restart), and follows stores with the same read API as on Node: reads, `watch` for changes,
 * `status()`, and remote writes when the store's writer allows this browser's peer id.
 *
 * `startTabPeer` is for a page that may be open in several tabs: the tabs share one node (one
 * tab runs it, the next takes over when it closes) and each reads the replica itself. With
 * `gateways` and `loadNode: 'when-asked'`, a first visit shows a store fetched over HTTP before
 * libp2p loads, and the page calls `startNode()` once it has shown a key.
 * `startBrowserPeer` starts a node of its own, for a page that runs in one tab or a worker.
 *
 * After a reload, the stores it followed open from IndexedDB at once, with or without a network,
 * and only blocks that are new are fetched once a daemon is reachable again.
 *
 * @example
 * ```js
 * import { startTabPeer } from '@dagsync/browser'
 *
 * const peer = await startTabPeer({ peers: ['/ip4/127.0.0.1/tcp/4011/ws/p2p/12D3KooW...'] })
 * const notes = await peer.follow('k51qzi5uqu5d...')
 * console.log(await notes.get('todo/1'))
 * for await (const { commit, changes } of notes.watch()) console.log(commit.seq, changes.length)
 * ```
 */
import type { DagsyncNode } from '@dagsync/peer'
import { openBrowserStorage } from '@dagsync/store/browser'
import { holdNodeLock } from './node-lock.ts'
import type { BrowserPeerInit } from './page-node.ts'

export type { DagsyncNode, Follower, FollowerStatus } from '@dagsync/peer'
export {
  NotAvailableOfflineError,
  PeerError,
  RemoteWriteError,
  SyncFailedError,
  UnauthorizedError,
} from '@dagsync/peer'
// Bulk writes (`follower.transact(ops)`): the op type, its limits and its errors.
export {
  BulkTooLargeError,
  InvalidOpError,
  MAX_BULK_BYTES,
  MAX_BULK_OPS,
  type Precondition,
  PreconditionFailedError,
  WatchFailedError,
  WatchInterruptedError,
  WatchOverflowError,
  WatchTooLargeError,
  type WriteOp,
} from '@dagsync/store'
export { NodeHeldElsewhereError } from './node-lock.ts'
export type { PendingWrite, WriteOutcome } from './outbox.ts'
export type { BrowserPeerInit } from './page-node.ts'
export type { ConnectedPeer } from './peer-list.ts'
export { TabFollower } from './tab-follower.ts'
export { startTabPeer, TabPeer, type TabPeerInit } from './tab-peer.ts'

/**
 * Starts a peer for this page, on IndexedDB, dialling `peers`: one node, for a page that only
 * ever runs in one tab (or a worker). Fails with NodeHeldElsewhereError while another tab of this
 * origin runs a node on the same database: two nodes with one identity would take each other's
 * connection, and one of them would stop receiving anything. Pages that open in several tabs use
 * `startTabPeer`.
 */
export async function startBrowserPeer(init: BrowserPeerInit): Promise<DagsyncNode> {
  const database = init.database ?? 'dagsync'
  return await holdNodeLock(database, async () => {
    const storage = await openBrowserStorage(database, { durability: init.durability ?? 'relaxed' })
    try {
      // libp2p loads here, not with the page (docs/bundle.md).
      const { startNodeOn } = await import('./page-node.ts')
      return await startNodeOn(storage, init)
    } catch (err) {
      await storage.close()
      throw err
    }
  })
}
