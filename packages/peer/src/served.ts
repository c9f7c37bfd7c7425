// The writer's side of a store: it commits locally, announces each new head (gossip for live
// readers, IPNS for cold ones), re-announces when peers subscribe and periodically, and takes
// remote writes from the peers on its allow-list.
import { CommitNotFoundError, type Store } from '@dagsync/store'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { Logger } from '@libp2p/logger'
import type { CID } from 'multiformats/cid'
import { type Announcement, createAnnouncement, encodeTopicMessage, type Push } from './announcement.ts'
import { AppliedWrites } from './applied-writes.ts'
import { deltaSize } from './delta.ts'
import type { Message } from './rpc.ts'
import { newBlockMessages } from './sync.ts'

/** What a served store needs from its node. */
export interface ServedContext {
  readonly log: Logger
  /** Sends a topic message (an announcement, and maybe its push) on the store's gossip topic. */
  publish(topic: string, bytes: Uint8Array): Promise<void>
  /** Whether any peer is subscribed to the topic (else a push is not worth making). */
  hasReaders(topic: string): boolean
  /** A commit's new blocks ride along with its announcement up to this size (0: never). */
  readonly pushMaxBytes: number
  /** How long an announcement is valid; the head's is renewed when less than half of this is left. */
  readonly announcementLifetimeMs: number
  /** Publishes an announcement as the store's IPNS record (debounced by the node: the newest wins). */
  publishIpns(id: string, announcement: Announcement): void
}

export class ServedStore {
  readonly id: string
  readonly topic: string
  /** The store itself: write to it, and every commit is announced. */
  readonly store: Store
  /** The remote writes applied to it, so that one sent again is not applied twice. */
  readonly applied: AppliedWrites
  readonly #key: PrivateKey
  readonly #ctx: ServedContext
  readonly #writers = new Set<string>()
  readonly #stopHead: () => void
  #latest: Announcement | null = null
  /** The tree of the commit announced last: what a live reader holds, and so what a push is against. */
  #latestTree: CID | null = null
  /** The latest announcement with its push, made once, when first wanted (null before the first). */
  #latestMessage: (() => Promise<LatestMessage>) | null = null
  #announcing: Promise<void> | null = null
  #dirty = false

  constructor(ctx: ServedContext, id: string, topic: string, key: PrivateKey, store: Store) {
    this.#ctx = ctx
    this.id = id
    this.topic = topic
    this.#key = key
    this.store = store
    this.applied = new AppliedWrites(store)
    this.#stopHead = store.onHead(() => {
      this.announce().catch((err) => this.#ctx.log.error('announcing %s failed: %s', this.id, (err as Error).message))
    })
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

  /**
   * Sends the latest announcement again (periodically: gossip keeps no history), renewed first if
   * less than half its lifetime is left, so that the head of a store with no new commits stays
   * valid, on the topic and in IPNS.
   */
  async reannounce(): Promise<void> {
    if (this.#latest === null) return
    if (this.#latest.expires - Date.now() < this.#ctx.announcementLifetimeMs / 2) await this.#renew(this.#latest)
    await this.#ctx.publish(this.topic, encodeTopicMessage(this.#latest.bytes))
  }

  /** Signs `latest`'s commit again, with the same seq and a new validity. */
  async #renew(latest: Announcement): Promise<void> {
    const renewed = await createAnnouncement(this.#key, latest.commit, latest.seq, this.#ctx.announcementLifetimeMs)
    if (this.#latest !== latest) return // a new head was announced meanwhile
    this.#latest = renewed
    const previous = this.#latestMessage
    if (previous !== null) {
      this.#latestMessage = once(async () => ({ announcement: renewed, push: (await previous()).push }))
    }
    this.#ctx.publishIpns(this.id, renewed)
  }

  /**
   * The latest announcement with its push, for a peer that just subscribed: a reader coming back
   * (after its own restart or this node's) that holds the tree before the head then catches up
   * without asking anyone.
   */
  async messageForNewReader(): Promise<Uint8Array | undefined> {
    if (this.#latestMessage === null) return undefined
    const { announcement, push } = await this.#latestMessage()
    return encodeTopicMessage(announcement.bytes, push)
  }

  /** An announcement with the push of its commit against tree `base`, if there is one that fits. */
  async #withPush(announcement: Announcement, base: CID | null): Promise<LatestMessage> {
    if (base === null || this.#ctx.pushMaxBytes <= 0) return { announcement, push: undefined }
    try {
      return { announcement, push: await this.#push(base, announcement.commit) }
    } catch (err) {
      // Readers then ask the fast path, which will likely fail the same way: say why.
      this.#ctx.log.error(
        'the push of %s at %d could not be made: %s',
        this.id,
        announcement.seq,
        (err as Error).message,
      )
      return { announcement, push: undefined }
    }
  }

  stop(): void {
    this.#stopHead()
  }

  /**
   * What `commit` adds to tree `have`, as the fast path would send it, if it fits in
   * pushMaxBytes: readers that hold `have` then sync without asking anyone.
   */
  async #push(have: CID, commit: CID): Promise<Push | undefined> {
    const messages: Message[] = []
    let bytes = 0
    for await (const message of newBlockMessages(this.store, have, commit)) {
      bytes += message.b instanceof Uint8Array ? message.b.length + 8 : deltaSize(message.o as never) + 40
      if (bytes > this.#ctx.pushMaxBytes) return undefined
      messages.push(message)
    }
    return { have, messages, bytes }
  }

  async #announceHead(): Promise<void> {
    const head = this.store.head
    if (head === null || (this.#latest !== null && this.#latest.seq >= head.seq)) return
    const announcement = await createAnnouncement(this.#key, head.cid, head.seq, this.#ctx.announcementLifetimeMs)
    const firstSinceStart = this.#latestTree === null
    // The first push after a start goes against the head's parent: what a reader that saw the
    // last commit before this node stopped holds.
    const base = firstSinceStart ? await this.#parentTree(head.prev) : this.#latestTree
    this.#latest = announcement
    this.#latestTree = head.tree
    const latestMessage = once(() => this.#withPush(announcement, base))
    this.#latestMessage = latestMessage
    this.#ctx.publishIpns(this.id, announcement)
    try {
      const push = this.#ctx.hasReaders(this.topic) ? (await latestMessage()).push : undefined
      await this.#ctx.publish(this.topic, encodeTopicMessage(announcement.bytes, push))
    } catch (err) {
      this.#ctx.log.error('announcing %s at %d failed: %s', this.id, head.seq, (err as Error).message)
    }
    // Ready for the first readers to come back (and the blocks it reads are then cached).
    if (firstSinceStart) void latestMessage()
  }

  async #parentTree(prev: CID | null): Promise<CID | null> {
    if (prev === null) return null
    try {
      return (await this.store.at(prev)).root
    } catch (err) {
      // Not retained: no push until the next commit.
      if (!(err instanceof CommitNotFoundError)) {
        this.#ctx.log.error('the parent of the head of %s could not be read: %s', this.id, (err as Error).message)
      }
      return null
    }
  }
}

interface LatestMessage {
  readonly announcement: Announcement
  readonly push: Push | undefined
}

/** A function that calls `make` the first time and returns that result ever after. */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined
  return () => (made ??= { value: make() }).value
}
