// A reader's side of the DHT: from a store id alone, the latest announcement the DHT holds (checked
// against the store's key as gossip is) and a peer that provides its commit, dialled so the sync
// can ask it. A reader needs only one peer of the network to start from, not the writer.
import type { Libp2p, PeerId } from '@libp2p/interface'
import { multihashToIPNSRoutingKey } from 'ipns'
import { type Announcement, readAnnouncement } from '../announcement.ts'
import { storePublicKey } from '../identity.ts'

export interface FoundHead {
  announcement: Announcement
  /** A provider of the commit this node is now connected to, if any answered the dial. */
  provider: PeerId | undefined
}

/**
 * The newest announcement of store `id` in the DHT, and a connected provider of its commit.
 * Throws if the DHT has no record of the store, or if the record is not a valid announcement
 * (InvalidAnnouncementError).
 */
export async function findHead(libp2p: Libp2p, id: string, signal: AbortSignal): Promise<FoundHead> {
  const key = storePublicKey(id)
  const bytes = await libp2p.contentRouting.get(multihashToIPNSRoutingKey(key.toMultihash()), { signal })
  const announcement = await readAnnouncement(key, bytes)
  for await (const peer of libp2p.contentRouting.findProviders(announcement.commit, { signal })) {
    if (peer.id.equals(libp2p.peerId)) continue
    try {
      await libp2p.dial(peer.id, { signal })
      return { announcement, provider: peer.id }
    } catch {
      // an unreachable provider: try the next one
    }
  }
  return { announcement, provider: undefined }
}
