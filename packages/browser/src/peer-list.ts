// The peers the node is connected to, as the node's tab tells the other tabs: each peer's id and
// the address of its connection (plain strings, to cross the BroadcastChannel).
import type { Libp2p } from '@libp2p/interface'

export interface ConnectedPeer {
  /** The peer's id (12D3KooW...). */
  readonly peer: string
  /** The address of this node's connection to it. */
  readonly address: string
}

/** The node's open connections, one per peer, ordered by peer id. */
export function connectedPeers(libp2p: Libp2p): ConnectedPeer[] {
  const byPeer = new Map<string, ConnectedPeer>()
  for (const connection of libp2p.getConnections()) {
    if (connection.status !== 'open') continue
    const peer = connection.remotePeer.toString()
    if (!byPeer.has(peer)) byPeer.set(peer, { peer, address: connection.remoteAddr.toString() })
  }
  return [...byPeer.values()].sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0))
}
