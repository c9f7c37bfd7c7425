// A follower's sync engine: it takes verified announcements, and moves the replica to each newer
// head once it holds every block of it (a push, the fast path, then bitswap), retrying with
// backoff when a sync fails. A sparse replica only takes the commit.
import { type Commit, decodeCommit, headAtLeast, type Store } from '@dagsync/store'
import { type Block, cidKey } from '@dagsync/tree'
import type { PeerId, PublicKey } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { Announcement, Push } from './announcement.ts'
import { readAnnouncement } from './announcement.ts'
import { ReceiveLimitError, SyncFailedError } from './errors.ts'
import type { FollowerContext, FollowerStatus, SyncReport } from './follower-context.ts'
import { receiveMessages } from './receive.ts'
import { ReceivedBlocks } from './received.ts'
import { settleSubtrees } from './rounds.ts'
import { fetchNewBlocks, type SyncRequest } from './sync.ts'

const RETRY_MS = [250, 500, 1000, 2000, 5000, 10_000]

/** The replica a sync engine moves: its store and how it is followed. */
export interface Replica {
  readonly id: string
  readonly topic: string
  readonly sparse: boolean
  readonly store: Store
}

export class ReplicaSync {
  readonly id: string
  readonly topic: string
  readonly sparse: boolean
  readonly store: Store
  readonly #ctx: FollowerContext
  readonly #key: PublicKey
  #newest: Announcement | null = null
  /** The blocks that came with the newest announcement, if any. */
  #push: Push | undefined
  #from: PeerId[] = []
  #syncing: Promise<void> | null = null
  #retry: ReturnType<typeof setTimeout> | undefined
  #failures = 0
  #lastSync: SyncReport | undefined
  #lastError: string | undefined
  #stopped = false
  #progress: (() => { blocks: number; bytes: number }) | undefined

  constructor(ctx: FollowerContext, replica: Replica, key: PublicKey) {
    this.#ctx = ctx
    this.id = replica.id
    this.topic = replica.topic
    this.sparse = replica.sparse
    this.store = replica.store
    this.#key = key
  }

  /** The peers that announced the newest head, most likely to hold it. */
  get from(): readonly PeerId[] {
    return this.#from
  }

  status(): FollowerStatus {
    const synced = this.store.head === null ? null : { seq: this.store.head.seq, cid: this.store.head.cid }
    const newest = this.#newest === null ? synced : { seq: this.#newest.seq, cid: this.#newest.commit }
    return {
      store: this.id,
      sparse: this.sparse,
      synced,
      newest,
      lag: Math.max(0, (newest?.seq ?? 0) - (synced?.seq ?? 0)),
      peers: this.#subscribers(),
      path: this.#ctx.pathFor?.(this.topic) ?? 'libp2p',
      syncing: this.#syncing !== null,
      ...(this.#progress === undefined ? {} : { progress: this.#progress() }),
      ...(this.#lastSync === undefined ? {} : { lastSync: this.#lastSync }),
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    }
  }

  /** The latest valid announcement this replica knows, to relay to peers that subscribe. */
  get announcement(): Announcement | null {
    return this.#newest === null || this.#newest.bytes.length === 0 ? null : this.#newest
  }

  /**
   * Resolves once this replica holds a commit with at least `seq` (default: the newest known),
   * or rejects when `signal` aborts.
   */
  async synced(seq = this.#newest?.seq ?? 0, signal?: AbortSignal): Promise<Commit | null> {
    return headAtLeast(this.store, seq, signal)
  }

  /** The highest sequence this replica has seen validly announced or holds. */
  get knownSeq(): number {
    return Math.max(this.#newest?.seq ?? 0, this.store.head?.seq ?? 0)
  }

  /**
   * Takes a commit the store's key vouches for (a checked announcement, or a name IPNS
   * resolved); if its seq is unknown, reads it from the commit. Syncs if it is newer.
   */
  async offerCommit(commit: CID, from?: PeerId): Promise<void> {
    const bytes = await this.#ctx.fetch(commit, this.#ctx.fetchTimeoutMs)
    const { seq } = decodeCommit(commit, bytes, true)
    this.offer({ commit, seq, expires: Number.POSITIVE_INFINITY, bytes: new Uint8Array(0) }, from)
  }

  /**
   * Takes a verified announcement (from gossip, or a remote write's answer); syncs if it is
   * newer, using the blocks pushed with it if they apply to what this replica holds.
   */
  offer(announcement: Announcement, from?: PeerId, push?: Push): void {
    if (this.#stopped) return
    if (announcement.seq <= this.knownSeq) {
      if (from !== undefined && announcement.seq === this.#newest?.seq) this.#from.push(from)
      return
    }
    this.#newest = announcement
    this.#push = push
    this.#from = from === undefined ? [] : [from]
    this.#kick()
  }

  /** Checks announcement bytes against the store's key, then offers them. */
  async offerBytes(bytes: Uint8Array, from?: PeerId): Promise<Announcement> {
    const announcement = await readAnnouncement(this.#key, bytes)
    this.offer(announcement, from)
    return announcement
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#retry)
  }

  #kick(): void {
    if (this.#syncing !== null || this.#stopped) return
    clearTimeout(this.#retry)
    this.#syncing = this.#syncLoop().finally(() => {
      this.#syncing = null
      this.#progress = undefined
    })
  }

  async #syncLoop(): Promise<void> {
    while (!this.#stopped && this.#newest !== null && this.#newest.seq > (this.store.head?.seq ?? 0)) {
      const target = this.#newest
      try {
        // A sync skips what storage holds and adopts a head over it: gc must not sweep between.
        await (this.sparse ? this.#adoptSparse(target) : this.store.storage.gcLock.shared(() => this.#syncTo(target)))
        this.#failures = 0
        this.#lastError = undefined
      } catch (err) {
        this.#lastError = `${(err as Error).name}: ${(err as Error).message}`
        this.#ctx.log('sync of %s to %d failed: %s', this.id, target.seq, this.#lastError)
        // Try again later (an announcement of something newer tries at once).
        const delay = RETRY_MS[Math.min(this.#failures++, RETRY_MS.length - 1)]
        this.#retry = setTimeout(() => this.#kick(), delay)
        return
      }
    }
  }

  /**
   * Fetches what `target` adds to the replica: first by the fast path from the peers most
   * likely to hold it, then whatever is still missing by bitswap, level by level; verifies
   * every block and every node; then moves the head and writes the blocks in one durable step.
   */
  async #syncTo(target: Announcement): Promise<void> {
    const started = performance.now()
    const have = this.store.head
    const got = new ReceivedBlocks(this.#ctx.receiveLimits)
    let fetched = 0
    let fetchedBytes = 0
    this.#progress = () => ({ blocks: got.messages + fetched, bytes: got.wireBytes + fetchedBytes })
    let settledBlocks = 0
    let roundTrips = 0
    const pushed = target === this.#newest ? this.#push : undefined
    if (pushed !== undefined && have !== null && pushed.have.equals(have.tree)) {
      await this.#takePush(pushed, target, got)
    }
    // Blocks of this sync already written to storage, by an earlier round.
    const settled = new Set<string>()
    const storage = this.store.storage.blockstore
    // Links that deltas' bases hold are held; a block just received is new (the sender walked
    // the diff), so storage is asked only about the rest. A replica that holds nothing of the
    // store yet need not ask storage at all, but for what this sync wrote.
    const held = (cid: CID): boolean | Promise<boolean> => {
      const key = cidKey(cid)
      if (got.present.has(key) || settled.has(key)) return true
      if (have === null || got.blocks.has(key)) return false
      return storage.has(cid)
    }
    const fastPeers = got.blocks.has(cidKey(target.commit)) ? [] : this.#ctx.peersFor(this.topic, this.#from)
    let request: SyncRequest = { store: this.id, have: have?.tree ?? null, want: target.commit }
    for (const peer of fastPeers) {
      try {
        for (;;) {
          roundTrips++
          got.nextReply()
          let cut = false
          try {
            cut = await fetchNewBlocks(this.#ctx.libp2p, peer, request, this.store, got, this.#ctx.syncTimeoutMs)
          } catch (err) {
            if (!(err instanceof ReceiveLimitError)) throw err
            cut = true
          }
          // A whole diff came in one reply: done. A reply that stopped at this sync's limits (or
          // was cut there), or a later round's (which asks for at most MAX_FRONTIER subtrees), goes
          // on with the next round while each frees some memory.
          if (!cut && request.frontier === undefined) break
          this.#checkSeq(target, got)
          const { written, frontier } = await settleSubtrees(this.store, got, target.commit, held, settled)
          settledBlocks += written
          if (frontier.length === 0) break
          if (cut && written === 0) throw new ReceiveLimitError('a round freed no memory for the next')
          request = { ...request, frontier }
        }
        break
      } catch (err) {
        if (err instanceof ReceiveLimitError) {
          // Honest or not, this sync has taken all it may: what verifies is used, the rest comes
          // over bitswap.
          this.#ctx.log('fast path from %p for %s cut: %s', peer, this.id, err.message)
          break
        }
        // A lying, failing or stalled peer: keep what verified, try the next one.
        this.#ctx.log('fast path from %p for %s failed: %s', peer, this.id, (err as Error).message)
      }
    }
    const received = performance.now()
    const commitBytes =
      got.blocks.get(cidKey(target.commit))?.bytes ?? (await this.#ctx.fetch(target.commit, this.#ctx.fetchTimeoutMs))
    const commit = decodeCommit(target.commit, commitBytes, true)
    if (commit.seq !== target.seq) {
      throw new SyncFailedError(`commit ${commit.cid} has seq ${commit.seq}, but was announced as ${target.seq}`)
    }
    if (commit.seq <= (this.store.head?.seq ?? 0)) return

    // Everything the new tree reaches that storage lacks: what the fast path sent, else bitswap.
    const blocks: Block[] = [{ cid: commit.cid, bytes: commitBytes }]
    let used = 0
    try {
      for await (const block of this.store.tree.walk(commit.tree, {
        has: held,
        // Fast-path blocks were verified as they arrived, bitswap verifies its own: no second hash.
        getBlock: async (cid) => {
          const sent = got.blocks.get(cidKey(cid))
          if (sent !== undefined) {
            used++
            return sent.bytes
          }
          fetched++
          const bytes = await this.#ctx.fetch(cid, this.#ctx.fetchTimeoutMs)
          fetchedBytes += bytes.length
          return bytes
        },
        checked: (cid) => got.checked.get(cidKey(cid)),
        onWave: (wave) => {
          if (wave.some((cid) => !got.blocks.has(cidKey(cid)))) roundTrips++
        },
        concurrency: 64,
      })) {
        blocks.push(block)
      }
    } catch (err) {
      throw new SyncFailedError(`could not get every block of commit ${commit.seq}: ${(err as Error).message}`, {
        cause: err,
      })
    }
    const checked = performance.now()
    await this.store.adopt(commit, blocks)
    this.#ctx.staging.forget(blocks.map((b) => b.cid))
    this.#lastSync = {
      seq: commit.seq,
      ms: performance.now() - started,
      phases: {
        receive: received - started,
        check: checked - received,
        write: performance.now() - checked,
      },
      path:
        fetched > 0
          ? this.#ctx.pathFor?.(this.topic) === 'http'
            ? 'http'
            : used + settledBlocks === 0
              ? 'bitswap'
              : 'mixed'
          : roundTrips === 0
            ? 'push'
            : 'fast',
      wireBytes: got.wireBytes,
      messages: got.messages,
      blocks: blocks.length + settledBlocks,
      fetched,
      fetchedBytes,
      roundTrips,
    }
    this.#ctx.log('synced %s to %d: %o', this.id, commit.seq, this.#lastSync)
    this.#ctx.onSync?.(this.#lastSync)
  }

  /** Before anything of it is written: the commit received must be the one announced. */
  #checkSeq(target: Announcement, got: ReceivedBlocks): void {
    const bytes = got.blocks.get(cidKey(target.commit))?.bytes
    const seq = bytes === undefined ? undefined : decodeCommit(target.commit, bytes, true).seq
    if (seq !== target.seq) {
      throw new SyncFailedError(`commit ${target.commit} has seq ${seq}, but was announced as ${target.seq}`)
    }
  }

  /** Takes the blocks pushed with an announcement; a push that does not check out is dropped whole. */
  async #takePush(push: Push, target: Announcement, into: ReceivedBlocks): Promise<void> {
    try {
      // The announced commit comes first.
      await receiveMessages(push.messages, this.store, into, target.commit)
      into.addWireBytes(push.bytes)
    } catch (err) {
      this.#ctx.log('push for %s at %d refused: %s', this.id, target.seq, (err as Error).message)
      this.#ctx.onPushRefused?.()
      into.clear()
    }
  }

  /** A sparse replica only takes the commit; reads fetch the nodes they touch. */
  async #adoptSparse(target: Announcement): Promise<void> {
    const bytes = await this.#ctx.fetch(target.commit, this.#ctx.fetchTimeoutMs)
    const commit = decodeCommit(target.commit, bytes, true)
    if (commit.seq !== target.seq) {
      throw new SyncFailedError(`commit ${commit.cid} has seq ${commit.seq}, but was announced as ${target.seq}`)
    }
    await this.store.adopt(commit, [{ cid: commit.cid, bytes }])
  }

  #subscribers(): number {
    const pubsub = (this.#ctx.libp2p.services as { pubsub?: { getSubscribers(topic: string): PeerId[] } }).pubsub
    return pubsub?.getSubscribers(this.topic).length ?? 0
  }
}
