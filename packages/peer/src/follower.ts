// A reader's replica of a store: it moves to each newer verified head, and never exposes a head
// whose blocks it does not hold.

import {
  type BinaryValue,
  type Commit,
  checkOps,
  decodeCommit,
  InvalidOpError,
  type KeyChange,
  type KeyEntry,
  type KeyInfo,
  type KeyRange,
  type ReadApi,
  type Segment,
  type Store,
  type StoreView,
  type TransactOptions,
  type TxResult,
  type Watch,
  type WatchOptions,
  type WriteOp,
} from '@dagsync/store'
import { type Block, BlockNotFoundError, cidKey, type KeyInput } from '@dagsync/tree'
import * as dagCbor from '@ipld/dag-cbor'
import type { Libp2p, PeerId, PublicKey } from '@libp2p/interface'
import type { Logger } from '@libp2p/logger'
import { CID } from 'multiformats/cid'
import type { Announcement, Push } from './announcement.ts'
import { readAnnouncement } from './announcement.ts'
import {
  NotAvailableOfflineError,
  ReceiveLimitError,
  RemoteError,
  RemoteWriteError,
  SyncFailedError,
  UnauthorizedError,
} from './errors.ts'
import { receiveMessages } from './receive.ts'
import { ReceivedBlocks, type ReceiveLimits } from './received.ts'
import { WRITE_PROTOCOL } from './remote-write.ts'
import { call, MAX_FRAME_BYTES } from './rpc.ts'
import type { StagingBlockstore } from './staging.ts'
import { fetchNewBlocks } from './sync.ts'

/** What a follower needs from its node. */
export interface FollowerContext {
  readonly libp2p: Libp2p
  readonly staging: StagingBlockstore
  readonly log: Logger
  /** Fetches one block from the network (bitswap), verified; fails after `timeoutMs`. */
  fetch(cid: CID, timeoutMs: number): Promise<Uint8Array>
  /** Peers likely to hold the store: subscribers of its topic, then other connected peers. */
  peersFor(topic: string, preferred: readonly PeerId[]): PeerId[]
  readonly syncTimeoutMs: number
  readonly fetchTimeoutMs: number
  /** How much one sync takes from a push and fast-path replies. */
  readonly receiveLimits: ReceiveLimits
  /** Told of every completed sync. */
  onSync?(report: SyncReport): void
  /** Told of every push that did not check out. */
  onPushRefused?(): void
}

export interface FollowerStatus {
  readonly store: string
  readonly sparse: boolean
  /** The commit this replica holds and serves reads from. */
  readonly synced: { readonly seq: number; readonly cid: CID } | null
  /** The newest commit a valid announcement named (it may not be synced yet). */
  readonly newest: { readonly seq: number; readonly cid: CID } | null
  /** Commits between synced and newest. */
  readonly lag: number
  /** Connected peers subscribed to the store's topic. */
  readonly peers: number
  readonly syncing: boolean
  /** While syncing: what has arrived so far (blocks and bytes, fast path and bitswap together). */
  readonly progress?: { readonly blocks: number; readonly bytes: number }
  /** How the last sync went: its path, time, wire bytes and blocks written. */
  readonly lastSync?: SyncReport
  readonly lastError?: string
}

export interface SyncReport {
  readonly seq: number
  readonly ms: number
  /**
   * Where the time went: receiving the push or fast-path reply, then checking every new block
   * (and fetching over bitswap what was still missing), then writing to storage.
   */
  readonly phases: { readonly receive: number; readonly check: number; readonly write: number }
  /**
   * 'push' when the announcement carried everything, 'fast' when a fast-path request did,
   * 'bitswap' when neither sent anything used, 'mixed' between.
   */
  readonly path: 'push' | 'fast' | 'bitswap' | 'mixed'
  readonly wireBytes: number
  /** Messages (blocks and deltas) taken from the push and fast-path replies, used or not. */
  readonly messages: number
  readonly blocks: number
  /** Blocks that had to come over bitswap, and their bytes (payload, without bitswap's framing). */
  readonly fetched: number
  readonly fetchedBytes: number
  /** Request-reply rounds: one per fast-path request, one per tree level fetched over bitswap (0 for a push). */
  readonly roundTrips: number
}

const RETRY_MS = [250, 500, 1000, 2000, 5000, 10_000]

/**
 * A replica of someone else's store, read-only here. Reads see the last commit this replica
 * holds in full (or, sparse, fetch what they touch). Writes go to the store's writer, if this
 * peer is on its allow-list, and resolve once this replica holds the commit they made.
 */
export class Follower implements ReadApi {
  readonly id: string
  readonly topic: string
  readonly sparse: boolean
  /** The local replica, as a read-only store. */
  readonly store: Store
  readonly #ctx: FollowerContext
  readonly #key: PublicKey
  #newest: Announcement | null = null
  /** The blocks that came with the newest announcement, if any. */
  #push: Push | undefined
  #from: PeerId[] = []
  #writer: PeerId | undefined
  #syncing: Promise<void> | null = null
  #retry: ReturnType<typeof setTimeout> | undefined
  #failures = 0
  #lastSync: SyncReport | undefined
  #lastError: string | undefined
  #stopped = false
  #progress: (() => { blocks: number; bytes: number }) | undefined

  constructor(ctx: FollowerContext, id: string, key: PublicKey, topic: string, store: Store, sparse: boolean) {
    this.#ctx = ctx
    this.id = id
    this.#key = key
    this.topic = topic
    this.store = store
    this.sparse = sparse
  }

  // --- reads: the replica ----------------------------------------------------------------------

  get head(): Commit | null {
    return this.store.head
  }

  get(key: KeyInput): Promise<unknown> {
    return this.store.get(key)
  }

  getIn(path: readonly [KeyInput, ...Segment[]]): Promise<unknown> {
    return this.store.getIn(path)
  }

  exists(key: KeyInput): Promise<boolean> {
    return this.store.exists(key)
  }

  getMeta(key: KeyInput): Promise<KeyInfo | undefined> {
    return this.store.getMeta(key)
  }

  bget(key: KeyInput): Promise<BinaryValue | undefined> {
    return this.store.bget(key)
  }

  keys(range?: KeyRange): AsyncGenerator<KeyInfo> {
    return this.store.keys(range)
  }

  entries(range?: KeyRange): AsyncGenerator<KeyEntry> {
    return this.store.entries(range)
  }

  snapshot(): StoreView {
    return this.store.snapshot()
  }

  watch(options?: WatchOptions): Watch {
    return this.store.watch(options)
  }

  diff(from: StoreView | number | CID, to?: StoreView | number | CID): AsyncGenerator<KeyChange> {
    return this.store.diff(from, to)
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
    while ((this.store.head?.seq ?? 0) < seq) {
      signal?.throwIfAborted()
      await new Promise<void>((resolve) => {
        const off = this.store.onHead(() => {
          off()
          resolve()
        })
        signal?.addEventListener('abort', () => resolve(), { once: true })
        if ((this.store.head?.seq ?? 0) >= seq) resolve()
      })
    }
    return this.store.head
  }

  // --- announcements and sync ----------------------------------------------------------------

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
    const request = { store: this.id, have: have?.tree ?? null, want: target.commit }
    let roundTrips = 0
    const pushed = target === this.#newest ? this.#push : undefined
    if (pushed !== undefined && have !== null && pushed.have.equals(have.tree)) {
      await this.#takePush(pushed, target, got)
    }
    const fastPeers = got.blocks.has(cidKey(target.commit)) ? [] : this.#ctx.peersFor(this.topic, this.#from)
    for (const peer of fastPeers) {
      roundTrips++
      try {
        await fetchNewBlocks(
          this.#ctx.libp2p,
          peer,
          request,
          this.store,
          got,
          AbortSignal.timeout(this.#ctx.syncTimeoutMs),
        )
        break
      } catch (err) {
        if (err instanceof ReceiveLimitError) {
          // Honest (a large catch-up) or not, this sync has taken all it may: what verifies is
          // used, the rest comes over bitswap.
          this.#ctx.log('fast path from %p for %s cut: %s', peer, this.id, err.message)
          break
        }
        // A lying or failing peer: keep what verified, try the next one.
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
    const storage = this.store.storage.blockstore
    // Links that deltas' bases hold are held; a block just received is new (the sender walked
    // the diff), so storage is asked only about the rest. A replica that holds nothing of the
    // store yet need not ask storage at all.
    const held = (cid: CID): boolean | Promise<boolean> => {
      const key = cidKey(cid)
      if (got.present.has(key)) return true
      if (have === null || got.blocks.has(key)) return false
      return storage.has(cid)
    }
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
      path: fetched > 0 ? (used === 0 ? 'bitswap' : 'mixed') : roundTrips === 0 ? 'push' : 'fast',
      wireBytes: got.wireBytes,
      messages: got.messages,
      blocks: blocks.length,
      fetched,
      fetchedBytes,
      roundTrips,
    }
    this.#ctx.log('synced %s to %d: %o', this.id, commit.seq, this.#lastSync)
    this.#ctx.onSync?.(this.#lastSync)
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

  // --- remote writes -------------------------------------------------------------------------

  /**
   * Sends a list of ops (a bulk write: see @dagsync/store's WriteOp) to the store's writer, which
   * applies them as one transaction, one commit, if this peer is on its allow-list. The list is
   * checked here first, with the checks and limits the writer holds it to (MAX_BULK_OPS,
   * MAX_BULK_BYTES), so a bad list fails before it is sent. Resolves with the commit once this
   * replica holds it (`commit: null` if the writes changed nothing).
   */
  async transact(ops: readonly WriteOp[], options: TransactOptions = {}): Promise<TxResult<undefined>> {
    const request = { s: this.id, ops: checkOps(ops), ...(options.meta === undefined ? {} : { m: options.meta }) }
    // Within the limits the ops fit in one message; large commit metadata could still overflow it.
    const size = dagCbor.encode(request).length
    if (size > MAX_FRAME_BYTES)
      throw new RemoteWriteError(
        `the write and its metadata come to ${size} bytes, over the ${MAX_FRAME_BYTES / 1024 / 1024} MiB of one message: make the metadata smaller`,
      )
    const candidates = await this.#writeCandidates()
    let lastError: unknown
    for (const peer of candidates) {
      try {
        for await (const reply of call(this.#ctx.libp2p, peer, WRITE_PROTOCOL, request, {
          signal: AbortSignal.timeout(this.#ctx.syncTimeoutMs),
        })) {
          this.#writer = peer
          if (reply.a instanceof Uint8Array) await this.offerBytes(reply.a, peer)
          const cid = CID.asCID(reply.c)
          const seq = typeof reply.q === 'number' ? reply.q : 0
          if (cid === null) return { value: undefined, commit: null }
          return { value: undefined, commit: await this.synced(seq, AbortSignal.timeout(this.#ctx.syncTimeoutMs)) }
        }
      } catch (err) {
        if (err instanceof RemoteError) {
          if (err.code === 'unauthorized') throw new UnauthorizedError(err.message)
          // The writer refused an op for what it holds (a put-in into a value that is not a map, a ref it lacks).
          if (err.code === 'invalid' && err.index !== undefined)
            throw new InvalidOpError(err.index, err.message.replace(/^invalid: /, ''))
          if (err.code === 'invalid' || err.code === 'too-large' || err.code === 'bad-request')
            throw new RemoteWriteError(err.message)
        }
        lastError = err
      }
    }
    throw new RemoteWriteError(
      candidates.length === 0
        ? `no connected peer can take writes for store ${this.id}`
        : `no peer accepted the write (last: ${(lastError as Error)?.message ?? 'none'})`,
      { cause: lastError },
    )
  }

  /**
   * The peers to send a write to. Right after a start (a page reload) the replica is there at
   * once but the daemon may still be dialling: with no peer connected, wait for one, up to
   * syncTimeoutMs, rather than fail a write made a moment too early.
   */
  async #writeCandidates(): Promise<PeerId[]> {
    const preferred = this.#writer === undefined ? this.#from : [this.#writer, ...this.#from]
    const found = this.#ctx.peersFor(this.topic, preferred)
    if (found.length > 0) return found
    const { libp2p } = this.#ctx
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        libp2p.removeEventListener('peer:connect', done)
        resolve()
      }
      const timer = setTimeout(done, this.#ctx.syncTimeoutMs)
      libp2p.addEventListener('peer:connect', done)
    })
    return this.#ctx.peersFor(this.topic, preferred)
  }

  async assoc(key: KeyInput, value: unknown): Promise<Commit | null> {
    return (await this.transact([{ op: 'put', key, value }])).commit
  }

  async assocIn(path: readonly [KeyInput, ...Segment[]], value: unknown): Promise<Commit | null> {
    const [key, ...rest] = path
    return (await this.transact([{ op: 'put-in', key, path: rest, value }])).commit
  }

  async dissoc(key: KeyInput): Promise<Commit | null> {
    return (await this.transact([{ op: 'delete', key }])).commit
  }

  async bassoc(key: KeyInput, bytes: Uint8Array): Promise<Commit | null> {
    return (await this.transact([{ op: 'put-bytes', key, bytes }])).commit
  }
}

/**
 * A sparse replica's blocks: memory first, then the node's storage, then the network, with a
 * timeout. What is not available anywhere fails with NotAvailableOfflineError.
 */
export function sparseFetcher(
  fetch: (cid: CID, timeoutMs: number) => Promise<Uint8Array>,
  timeoutMs: number,
): (cid: CID) => Promise<Uint8Array> {
  return async (cid) => {
    try {
      return await fetch(cid, timeoutMs)
    } catch (err) {
      if (
        err instanceof BlockNotFoundError ||
        (err as Error).name === 'LoadBlockFailedError' ||
        (err as Error).name === 'AbortError'
      ) {
        throw new NotAvailableOfflineError(
          `block ${cid} is not available: no connected peer provided it within ${timeoutMs} ms`,
          { cause: err },
        )
      }
      throw err
    }
  }
}
