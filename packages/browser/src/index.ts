/**
 * @packageDocumentation
 *
 * A dagsync peer inside a web page. It keeps its replicas, its identity and everything else in
 * IndexedDB, dials one or more daemons over WebSockets (and redials them with backoff when they
 * restart), and follows stores with the same API as on Node: reads, `watch` for changes,
 * `status()`, and remote writes when the store's writer allows this page's peer id.
 *
 * After a reload, the stores it followed open from IndexedDB at once, with or without a network,
 * and only blocks that are new are fetched once a daemon is reachable again.
 *
 * @example
 * ```js
 * import { startBrowserPeer } from '@dagsync/browser'
 *
 * const peer = await startBrowserPeer({ peers: ['/ip4/127.0.0.1/tcp/4011/ws/p2p/12D3KooW...'] })
 * const notes = await peer.follow('k51qzi5uqu5d...')
 * console.log(await notes.get('todo/1'))
 * for await (const { commit, changes } of notes.watch()) console.log(commit.seq, changes.length)
 * ```
 */
import { createDagsyncNode, type DagsyncNode } from '@dagsync/peer'
import { openBrowserStorage } from '@dagsync/store/browser'
import type { ConnectionGater } from '@libp2p/interface'
import { webSockets } from '@libp2p/websockets'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'

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
  WatchFailedError,
  WatchInterruptedError,
  WatchOverflowError,
  type WriteOp,
} from '@dagsync/store'

export interface BrowserPeerInit {
  /** Daemons to dial and stay connected to: WebSocket multiaddrs ending in /p2p/<peer id>. */
  peers: string[]
  /** The IndexedDB database holding this page's data. @default 'dagsync' */
  database?: string
  /**
   * IndexedDB durability (see `openBrowserStorage`). A page's replicas can fetch again what a
   * power loss takes, so writes complete once the browser holds them. Use `'strict'` if the
   * page writes a store of its own. @default 'relaxed'
   */
  durability?: 'strict' | 'relaxed'
  /** Served stores re-announce this often; a page rarely serves. @default 30_000 */
  announceIntervalMs?: number
}

/** The host part of a multiaddr (ip4, ip6 or dns name). */
function hostOf(address: Multiaddr): string | undefined {
  return address.getComponents().find((c) => ['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(c.name))?.value
}

/**
 * The browser build of libp2p refuses plain ws:// and private addresses (127.0.0.1 included),
 * which is exactly how a page reaches a local daemon. This gater allows dials to the hosts of the
 * configured peers, and nothing else.
 */
function gaterFor(peers: readonly string[]): ConnectionGater {
  const hosts = new Set(peers.map((p) => hostOf(multiaddr(p))).filter((h) => h !== undefined))
  return {
    denyDialMultiaddr: (address: Multiaddr) => !hosts.has(hostOf(address) ?? ''),
  }
}

/** Starts a peer for this page, on IndexedDB, dialling `peers`. */
export async function startBrowserPeer(init: BrowserPeerInit): Promise<DagsyncNode> {
  const storage = await openBrowserStorage(init.database ?? 'dagsync', { durability: init.durability ?? 'relaxed' })
  try {
    return await createDagsyncNode({
      storage,
      listen: [],
      peers: init.peers,
      transports: [webSockets()],
      connectionGater: gaterFor(init.peers),
      ...(init.announceIntervalMs === undefined ? {} : { announceIntervalMs: init.announceIntervalMs }),
    })
  } catch (err) {
    await storage.close()
    throw err
  }
}
