// A node for a page: the browser's WebSocket transport, and a connection gater that lets it dial
// the configured daemons (on loopback or private addresses, which the browser build refuses).
import { createDagsyncNode, type DagsyncNode } from '@dagsync/peer'
import type { LevelStorage } from '@dagsync/store/browser'
import type { ConnectionGater } from '@libp2p/interface'
import { webSockets } from '@libp2p/websockets'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'

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
  /**
   * Trustless gateway URLs (a daemon's `gateway`) to sync through while no daemon can be dialled
   * (see @dagsync/peer's `gateways`). @default []
   */
  gateways?: readonly string[]
  /** How often a store on the HTTP path fetches its record. @default 5_000 */
  gatewayPollMs?: number
  /**
   * Delegated routing URLs (a daemon's API address, e.g. `http://127.0.0.1:5011`) to find
   * followed stores' records and providers through; the page may dial peers on the routers' hosts.
   * A page runs no DHT. @default [] (no delegated routing)
   */
  delegatedRouters?: string[]
}

/** The host part of a multiaddr (ip4, ip6 or dns name). */
function hostOf(address: Multiaddr): string | undefined {
  return address.getComponents().find((c) => ['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(c.name))?.value
}

/**
 * The browser build of libp2p refuses plain ws:// and private addresses (127.0.0.1 included),
 * which is exactly how a page reaches a local daemon. This gater allows dials to the hosts of the
 * configured peers and delegated routers, and nothing else.
 */
function gaterFor(peers: readonly string[], routers: readonly string[]): ConnectionGater {
  const hosts = new Set(peers.map((p) => hostOf(multiaddr(p))).filter((h) => h !== undefined))
  for (const url of routers) hosts.add(new URL(url).hostname.replace(/^\[|\]$/g, ''))
  return {
    denyDialMultiaddr: (address: Multiaddr) => !hosts.has(hostOf(address) ?? ''),
  }
}

/** A node on `storage` with the page's transports, dialling `init.peers`. */
export async function startNodeOn(storage: LevelStorage, init: BrowserPeerInit): Promise<DagsyncNode> {
  return await createDagsyncNode({
    storage,
    listen: [],
    peers: init.peers,
    transports: [webSockets()],
    connectionGater: gaterFor(init.peers, init.delegatedRouters ?? []),
    ...(init.delegatedRouters === undefined ? {} : { delegatedRouters: init.delegatedRouters }),
    ...(init.announceIntervalMs === undefined ? {} : { announceIntervalMs: init.announceIntervalMs }),
    ...(init.gateways === undefined ? {} : { gateways: init.gateways }),
    ...(init.gatewayPollMs === undefined ? {} : { gatewayPollMs: init.gatewayPollMs }),
  })
}
