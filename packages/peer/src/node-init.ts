// A node's options, with their defaults, and the counters it keeps for status and metrics.
import type { Storage } from '@dagsync/store'
import type { ConnectionGater, PrivateKey } from '@libp2p/interface'
import type { Logger } from '@libp2p/logger'
import type { ConnectionLimits } from './connection-limits.ts'
import type { DhtInit } from './discovery/dht.ts'

export interface DagsyncNodeInit {
  /** Where stores, blocks and the node's own identity are kept (LevelDB on disk, IndexedDB, memory). */
  storage: Storage
  /**
   * Addresses to listen on for peers.
   * @default ['/ip4/127.0.0.1/tcp/0/ws'] (an ephemeral port on loopback only)
   */
  listen?: string[]
  /** Peers to stay connected to (multiaddrs ending in /p2p/<peer id>), redialled with backoff when they drop. */
  peers?: string[]
  /** The node's identity. @default created once and kept in the storage's datastore */
  privateKey?: PrivateKey
  /**
   * Addresses to announce besides those listened on, e.g. the `wss://` address of a reverse proxy
   * that forwards to a plain `/ws` listener. @default []
   */
  announce?: string[]
  /**
   * The PEM certificate (chain) and key for secure WebSocket listen addresses (`/tls/ws`,
   * `/wss`). @default none: a node listens on plain `/ws` only
   */
  tls?: { cert: string; key: string }
  /** @default [webSockets()], with `tls` for secure listen addresses */
  transports?: ((components: never) => unknown)[]
  /** For browsers, whose default gater refuses ws:// and private addresses. */
  connectionGater?: ConnectionGater
  /**
   * How many connections libp2p takes, and how fast (connection-limits.ts). A node that many
   * peers dial, such as a daemon, needs more than libp2p's defaults: they refuse a sixth
   * connection from one host within a second. @default libp2p's (see ConnectionLimits)
   */
  connectionLimits?: ConnectionLimits
  /**
   * libp2p services besides dagsync's own (identify, ping, fetch, pubsub), by name: e.g. a
   * daemon's `circuitRelayServer()`. @default {}
   */
  services?: Record<string, (components: never) => unknown>
  /**
   * The page exchange (page-exchange.ts), through which pages that share a relay find each
   * other's WebRTC addresses. `'forward'`: subscribe to its topic only, so that pages' messages
   * pass through this node (a relaying daemon). `'join'`: also say this node's WebRTC addresses
   * there and dial the pages heard of (a page with WebRTC). @default none: not on the topic
   */
  pageExchange?: 'forward' | 'join'
  /** With `pageExchange: 'join'`, dial at most this many pages heard of. @default 8 */
  maxPagePeers?: number
  /** Served stores re-announce their head this often (gossipsub keeps no history). @default 30_000 */
  announceIntervalMs?: number
  /**
   * How long a served store's announcements (and IPNS records) are valid. The head's is signed
   * again, same seq, at the first re-announcement after half of this. @default 172_800_000 (48 h)
   */
  announcementLifetimeMs?: number
  /** The newest head is published to IPNS at most this often. @default 2_000 */
  ipnsDebounceMs?: number
  /** A fast-path reply may go this long without sending anything; a remote write may take this long. @default 10_000 */
  syncTimeoutMs?: number
  /** One block fetched over bitswap may take this long. @default 10_000 */
  fetchTimeoutMs?: number
  /** A sparse read waits this long for a block before "not available offline". @default 3_000 */
  sparseTimeoutMs?: number
  /**
   * Where the node logs what it refuses (plain) and what fails (`.error`).
   * @default @libp2p/logger's `dagsync:peer` (printed with DEBUG=dagsync:*)
   */
  log?: Logger
  /**
   * Join a Kademlia DHT of dagsync nodes (see docs/discovery.md): served stores' heads are put
   * and provided there, and followed stores are looked up there, so a reader needs only a store
   * id and one peer of the network. @default undefined: no DHT
   */
  dht?: DhtInit
  /**
   * Delegated routing servers (Delegated Routing V1 HTTP API base URLs, e.g. a daemon's
   * `http://127.0.0.1:5011`) to find stores' records and providers through, for nodes that run
   * no DHT, such as browsers. Followed stores are looked up through them as through the DHT.
   * @default []
   */
  delegatedRouters?: string[]
  /** Follow again, on start, the stores this node followed before. @default true */
  resume?: boolean
  /**
   * Answer other peers' fast-path sync requests. Without it they fetch from this node over
   * bitswap only (slower, but the same blocks). @default true
   */
  serveSync?: boolean
  /**
   * A served store's announcement carries the commit's new blocks (as fast-path deltas against
   * the version announced before) when they fit in this many bytes, so live readers sync with no
   * request at all. 0 turns it off. @default 131072
   */
  pushMaxBytes?: number
  /**
   * One sync of a followed store keeps at most this many bytes of blocks from a push and
   * fast-path replies; a reply past it is cut, and what it sent is used as far as it verifies,
   * the rest fetched over bitswap. @default 67108864 (64 MiB)
   */
  syncMaxBytes?: number
  /** As `syncMaxBytes`, in messages (blocks and deltas). @default 131072 */
  syncMaxBlocks?: number
  /**
   * Trustless gateway base URLs (`https://gw.example.com`, a daemon's `gateway`): while a
   * followed store has no libp2p peer to sync from, its head comes from their IPNS records and
   * its blocks from them, each verified. @default [] (none: libp2p only)
   */
  gateways?: readonly string[]
  /** How often a store on the HTTP path fetches its record from the gateways. @default 5_000 */
  gatewayPollMs?: number
}

/** Counters of what the node refused and did, for status and metrics. */
export interface NodeStats {
  announcementsAccepted: number
  announcementsRejected: number
  announcementsStale: number
  /** Heads of followed stores that IPNS resolution found (cold starts). */
  headsFromIpns: number
  /** Heads of followed stores found in the DHT (with a provider to sync from, when one answered). */
  headsFromDht: number
  /** Syncs completed by followed stores, and what they received: on the fast path (wire bytes) and over bitswap. */
  syncs: number
  syncWireBytes: number
  blocksFetched: number
  bytesFetched: number
  /** Fast-path requests this node answered, and the messages and bytes it sent. */
  syncRequestsServed: number
  syncMessagesServed: number
  syncBytesServed: number
  /** Pushes (blocks sent with an announcement) that did not check out and were dropped. */
  pushesRefused: number
}
