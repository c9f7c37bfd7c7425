// A node for a page: the browser's WebSocket transport, and a connection gater that lets it dial
// the configured daemons (on loopback or private addresses, which the browser build refuses).
// With WebRTC on, it also listens through the daemons that relay (`/p2p-circuit`) and connects
// directly to other pages it hears of on the page exchange (docs/browser.md).
import { createDagsyncNode, type DagsyncNode } from '@dagsync/peer'
import type { Storage } from '@dagsync/store'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import type { ConnectionGater } from '@libp2p/interface'
import { webRTC } from '@libp2p/webrtc'
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
  /**
   * Served stores re-announce this often, and a page with WebRTC says its addresses to other
   * pages this often; a page rarely serves. @default 30_000
   */
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
  /**
   * Connections to other pages over WebRTC, signalled through the daemons that relay.
   * `false` turns them off. @default { iceServers: [], maxPages: 8 }
   */
  webrtc?: false | WebRtcInit
}

export interface WebRtcInit {
  /**
   * STUN/TURN servers for pages on different networks. The default asks none: pages reach each
   * other on host addresses only (one machine or one LAN), and nothing is contacted unasked.
   * @default []
   */
  iceServers?: RTCIceServer[]
  /** Connect to at most this many other pages. @default 8 */
  maxPages?: number
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
export async function startNodeOn(storage: Storage, init: BrowserPeerInit): Promise<DagsyncNode> {
  const rtc = init.webrtc === false ? undefined : (init.webrtc ?? {})
  return await createDagsyncNode({
    storage,
    peers: init.peers,
    connectionGater: gaterFor(init.peers, init.delegatedRouters ?? []),
    ...(init.delegatedRouters === undefined ? {} : { delegatedRouters: init.delegatedRouters }),
    ...(init.announceIntervalMs === undefined ? {} : { announceIntervalMs: init.announceIntervalMs }),
    ...(init.gateways === undefined ? {} : { gateways: init.gateways }),
    ...(init.gatewayPollMs === undefined ? {} : { gatewayPollMs: init.gatewayPollMs }),
    ...(rtc === undefined
      ? { listen: [], transports: [webSockets()] }
      : {
          // A reservation on each relaying daemon (/p2p-circuit), and WebRTC through it (/webrtc).
          listen: ['/p2p-circuit', '/webrtc'],
          transports: [
            webSockets(),
            webRTC({ rtcConfiguration: { iceServers: rtc.iceServers ?? [] } }),
            circuitRelayTransport(),
          ],
          pageExchange: 'join',
          maxPagePeers: rtc.maxPages ?? 8,
        }),
  })
}
