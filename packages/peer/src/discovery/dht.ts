// The node's Kademlia DHT (off unless `dht` is given): a private network of dagsync nodes in
// which writers put their stores' announcements (as IPNS records) and provide their heads, so a
// reader that knows only a store id and one peer of the network finds the head and who holds it.
import { type KadDHT, kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { unmarshalIPNSRecord } from 'ipns'
import * as Digest from 'multiformats/hashes/digest'
import { readAnnouncement } from '../announcement.ts'
import { InvalidAnnouncementError } from '../errors.ts'

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

const IPNS_PREFIX = new TextEncoder().encode('/ipns/')

/**
 * The DHT holds only announcements: an `/ipns/` record is stored or taken from a peer only if it
 * passes the same checks as one from gossip (signed by the key its name is, not expired, a
 * commit CID, a sequence in range). A peer's PUT of anything else is refused.
 */
export async function validateDhtRecord(key: Uint8Array, value: Uint8Array): Promise<void> {
  const storeKey = publicKeyOfRoutingKey(key)
  await readAnnouncement(storeKey, value)
}

/** Of several valid records for one name, the one with the highest sequence (the first of equals). */
export function selectDhtRecord(_key: Uint8Array, records: Uint8Array[]): number {
  let best = 0
  let bestSeq = -1n
  records.forEach((bytes, i) => {
    try {
      const seq = unmarshalIPNSRecord(bytes).sequence
      if (seq > bestSeq) {
        best = i
        bestSeq = seq
      }
    } catch {
      // validated before selection; a record that does not parse is never chosen
    }
  })
  return best
}

function publicKeyOfRoutingKey(key: Uint8Array) {
  const prefixed = IPNS_PREFIX.every((byte, i) => key[i] === byte)
  if (!prefixed) throw new InvalidAnnouncementError('DHT record refused: its key is not an /ipns/ name')
  try {
    const peer = peerIdFromMultihash(Digest.decode(key.subarray(IPNS_PREFIX.length)))
    if (peer.type !== 'Ed25519') throw new Error('not an Ed25519 key')
    return peer.publicKey
  } catch (err) {
    throw new InvalidAnnouncementError(`DHT record refused: its name is not a store id (${(err as Error).message})`)
  }
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

/**
 * Puts the DHT's `/ipns/` rules back to ours: creating `ipns(helia)` replaces them, in every
 * kad-dht it finds, with IPNS's own (which accept any signed record, not only announcements).
 */
export function claimIpnsRecords(dht: KadDHT): void {
  dht.validators.ipns = validateDhtRecord
  dht.selectors.ipns = selectDhtRecord
}
