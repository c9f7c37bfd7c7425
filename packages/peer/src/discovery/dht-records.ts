// The rules of the DHT's `/ipns/` records (dht.ts): a record is stored or taken only if it is a
// valid announcement, and of several the newest wins. Apart from kad-dht itself, so that a node
// (and a browser bundle, which has no DHT) can put them back without loading it.
import type { KadDHT } from '@libp2p/kad-dht'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { unmarshalIPNSRecord } from 'ipns'
import * as Digest from 'multiformats/hashes/digest'
import { readAnnouncement } from '../announcement.ts'
import { InvalidAnnouncementError } from '../errors.ts'

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

/**
 * Puts the DHT's `/ipns/` rules back to ours: creating `ipns(helia)` replaces them, in every
 * kad-dht it finds, with IPNS's own (which accept any signed record, not only announcements).
 */
export function claimIpnsRecords(dht: KadDHT): void {
  dht.validators.ipns = validateDhtRecord
  dht.selectors.ipns = selectDhtRecord
}
