// The writer's side of a store: it commits locally, announces each new head (gossip for live
// readers, IPNS for cold ones), re-announces when peers subscribe and periodically, and takes
// remote writes from the peers on its allow-list.
import type { Store } from '@dagsync/store'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { Logger } from '@libp2p/logger'
import { type Announcement, createAnnouncement } from './announcement.ts'

/** What a served store needs from its node. */
export interface ServedContext {
  readonly log: Logger
  /** Sends an announcement on the store's gossip topic. */
  publish(topic: string, bytes: Uint8Array): Promise<void>
  /** Publishes the head through IPNS (debounced by the node: the latest head wins). */
  publishIpns(id: string, commit: Announcement['commit']): void
}

export class ServedStore {
  readonly id: string
  readonly topic: string
  /** The store itself: write to it, and every commit is announced. */
  readonly store: Store
  readonly #key: PrivateKey
  readonly #ctx: ServedContext
  readonly #writers = new Set<string>()
  readonly #stopHead: () => void
  #latest: Announcement | null = null
  #announcing: Promise<void> | null = null
  #dirty = false

  constructor(ctx: ServedContext, id: string, topic: string, key: PrivateKey, store: Store) {
    this.#ctx = ctx
    this.id = id
    this.topic = topic
    this.#key = key
    this.store = store
    this.#stopHead = store.onHead(() => void this.announce())
  }

  /** Sets the peers (besides this node) that may write this store through the remote write protocol. */
  allowWriters(peers: Iterable<PeerId | string>): void {
    this.#writers.clear()
    for (const peer of peers) this.#writers.add(peer.toString())
  }

  get writers(): string[] {
    return [...this.#writers]
  }

  mayWrite(peer: PeerId): boolean {
    return this.#writers.has(peer.toString())
  }

  /** The latest announcement (of the head, once it is made). */
  get announcement(): Announcement | null {
    return this.#latest
  }

  /**
   * Announces the current head (making its record first if it is new). Heads that come while a
   * record is being signed are coalesced: the next round announces the newest.
   */
  announce(): Promise<void> {
    if (this.#announcing !== null) {
      this.#dirty = true
      return this.#announcing
    }
    this.#announcing = (async () => {
      try {
        do {
          this.#dirty = false
          await this.#announceHead()
        } while (this.#dirty)
      } finally {
        this.#announcing = null
      }
    })()
    return this.#announcing
  }

  /** Waits for the announcement of the current head, making it if needed. */
  async announcementOfHead(): Promise<Announcement | null> {
    const head = this.store.head
    if (head === null) return null
    while ((this.#latest?.seq ?? 0) < head.seq) await this.announce()
    return this.#latest
  }

  /** Sends the latest announcement again (to peers that just subscribed, and periodically). */
  async reannounce(): Promise<void> {
    if (this.#latest !== null) await this.#ctx.publish(this.topic, this.#latest.bytes)
  }

  stop(): void {
    this.#stopHead()
  }

  async #announceHead(): Promise<void> {
    const head = this.store.head
    if (head === null || (this.#latest !== null && this.#latest.seq >= head.seq)) return
    const announcement = await createAnnouncement(this.#key, head.cid, head.seq)
    this.#latest = announcement
    this.#ctx.publishIpns(this.id, head.cid)
    try {
      await this.#ctx.publish(this.topic, announcement.bytes)
    } catch (err) {
      this.#ctx.log('announcing %s at %d failed: %s', this.id, head.seq, (err as Error).message)
    }
  }
}
