// The node's Kademlia DHT (off unless `dht` is given): a private network of dagsync nodes in
// which writers put their stores' announcements (as IPNS records) and provide their heads, so a
// reader that knows only a store id and one peer of the network finds the head and who holds it.
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { selectDhtRecord, validateDhtRecord } from './dht-records.ts'

/** The DHT's protocol: not the public IPFS DHT's, so dagsync nodes never mix with it. */
export const DHT_PROTOCOL = '/dagsync/kad/1.0.0'

export interface DhtInit {
  /**
   * Peers of the DHT to join through (multiaddrs ending in /p2p/<peer id>), kept connected and
   * redialled with backoff. There is no default list: a node joins no network it was not told of.
   * @default []
   */
  bootstrap?: string[]
}

/** The kad-dht service: a server from the start (peers are told it answers), on the private protocol. */
export function dhtService() {
  return kadDHT({
    protocol: DHT_PROTOCOL,
    // Be a server at once: the automatic choice waits for a public address, which a node on a
    // LAN or loopback never has.
    clientMode: false,
    // kad-dht drops private addresses (127.0.0.1, 10/8, ...) from what it stores and tells by
    // default; dagsync networks are often private.
    peerInfoMapper: passthroughMapper,
    validators: { ipns: validateDhtRecord },
    selectors: { ipns: selectDhtRecord },
  })
}
