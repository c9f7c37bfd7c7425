// A dagsync node: one helia (libp2p + bitswap) node that serves and follows any number of stores.

import { BlockstoreStorage, openStore, readBlock, type Storage } from '@dagsync/store'
import { collectBytes, decodeCbor } from '@dagsync/tree'
import { type IPNS, type IPNSRouting, ipns, pubSubIPNSRouting } from '@helia/ipns'
import { type GossipSub, type Message, TopicValidatorResult } from '@libp2p/gossipsub'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { type Logger, logger } from '@libp2p/logger'
import { MemoryDatastore } from 'datastore-core'
import { multihashToIPNSRoutingKey } from 'ipns'
import { CID } from 'multiformats/cid'
import {
  ANNOUNCEMENT_LIFETIME_MS,
  type Announcement,
  decodeTopicMessage,
  encodeTopicMessage,
  type Push,
  readAnnouncement,
} from './announcement.ts'
import { claimIpnsRecords } from './discovery/dht-records.ts'
import { findHead } from './discovery/find.ts'
import { DhtPublisher } from './discovery/publish.ts'
import { InvalidAnnouncementError, PeerError } from './errors.ts'
import { Follower, type SyncReport } from './follower.ts'
import { type Helia, makeHelia } from './helia.ts'
import type { HttpSync } from './http/http-sync.ts'
import { createStoreKey, loadStoreKey, saveStoreKey, storeKeyIds, storePublicKey } from './identity.ts'
import type { DagsyncNodeInit, NodeStats } from './node-init.ts'
import { PageExchange } from './page-exchange.ts'
import { DEFAULT_RECEIVE_LIMITS } from './received.ts'
import { Redialer } from './reconnect.ts'
import { followedStores, forgetFollow, recordFollow } from './registry.ts'
import { WRITE_PROTOCOL, writeHandler } from './remote-write.ts'
import { serve } from './rpc.ts'
import { ServedStore } from './served.ts'
import { SparseBlockstore, sparseFetcher } from './sparse.ts'
import { StagingBlockstore } from './staging.ts'
import { SYNC_PROTOCOL, syncHandler } from './sync.ts'

export type { DagsyncNodeInit, NodeStats } from './node-init.ts'

const TOPIC_PREFIX = '/dagsync/2/'

/** Creates and starts a node. */
export async function createDagsyncNode(init: DagsyncNodeInit): Promise<DagsyncNode> {
  const staging = new StagingBlockstore(init.storage.blockstore)
  const helia = await makeHelia(init, staging)
  await helia.start()
  const node = new DagsyncNode(init, helia, staging)
  await node.start()
  return node
}

export class DagsyncNode {
  readonly helia: Helia
  readonly storage: Storage
  readonly stats: NodeStats = {
    announcementsAccepted: 0,
    announcementsRejected: 0,
    announcementsStale: 0,
    headsFromIpns: 0,
    headsFromDht: 0,
    syncs: 0,
    syncWireBytes: 0,
    blocksFetched: 0,
    bytesFetched: 0,
    syncRequestsServed: 0,
    syncMessagesServed: 0,
    syncBytesServed: 0,
    pushesRefused: 0,
  }
  readonly #init: DagsyncNodeInit
  readonly #staging: StagingBlockstore
  readonly #log: Logger
  readonly #served = new Map<string, ServedStore>()
  readonly #followed = new Map<string, Follower>()
  readonly #validated = new WeakMap<Message, { announcement: Announcement; push?: Push }>()
  readonly #redialer: Redialer
  readonly #timers: ReturnType<typeof setInterval>[] = []
  readonly #ipnsPending = new Map<string, { announcement: Announcement; timer: ReturnType<typeof setTimeout> }>()
  readonly #stopping = new AbortController()
  readonly #syncListeners = new Set<(store: string, report: SyncReport) => void>()
  #ipns: IPNS | undefined
  /** The HTTP path, when the node was given gateways. */
  #http: HttpSync | undefined
  #dht: DhtPublisher | undefined
  #pageExchange: PageExchange | undefined
  #ipnsRouter: IPNSRouting | undefined

  constructor(init: DagsyncNodeInit, helia: Helia, staging: StagingBlockstore) {
    this.#init = init
    this.helia = helia
    this.storage = init.storage
    this.#staging = staging
    this.#log = init.log ?? logger('dagsync:peer')
    this.#redialer = new Redialer(helia.libp2p, logger('dagsync:redial'))
  }

  get libp2p(): Libp2p<{ pubsub: GossipSub }> {
    return this.helia.libp2p as unknown as Libp2p<{ pubsub: GossipSub }>
  }

  get peerId(): PeerId {
    return this.helia.libp2p.peerId
  }

  /** The addresses peers can dial this node at. */
  get addresses(): string[] {
    return this.helia.libp2p.getMultiaddrs().map(String)
  }

  get #pubsub(): GossipSub {
    return this.libp2p.services.pubsub
  }

  async start(): Promise<void> {
    const storeFor = (id: string) => this.#served.get(id)?.store ?? this.#fullReplica(id)
    if (this.#init.serveSync !== false) {
      await serve(this.helia.libp2p, SYNC_PROTOCOL, syncHandler(storeFor), {
        onServed: (messages, bytes) => {
          this.stats.syncRequestsServed++
          this.stats.syncMessagesServed += messages
          this.stats.syncBytesServed += bytes
        },
        onError: (err, code, peer) => this.#answeredWithError(SYNC_PROTOCOL, err, code, peer),
      })
    }
    await serve(
      this.helia.libp2p,
      WRITE_PROTOCOL,
      writeHandler((id) => this.#served.get(id)),
      {
        // Values are decoded as the store reads them: @ipld/dag-cbor's decoder drops a leading U+FEFF.
        decodeRequest: decodeCbor,
        onError: (err, code, peer) => this.#answeredWithError(WRITE_PROTOCOL, err, code, peer),
      },
    )
    this.#pubsub.addEventListener('message', (event) => void this.#onMessage(event.detail))
    this.#pubsub.addEventListener('subscription-change', (event) => {
      for (const { topic, subscribe } of event.detail.subscriptions) {
        if (subscribe) void this.#onSubscribed(topic, event.detail.peerId)
      }
    })
    // IPNS over pubsub only (no DHT, no delegated routers): ipns() touches helia.libp2p in its
    // constructor, so it can only exist after start, and the pubsub router starts only by hand.
    // ipns's republisher is never started: it would sign our records again with its own counter
    // as sequence and a V1 signature. Served stores renew their records themselves.
    this.#ipnsRouter = pubSubIPNSRouting(this.helia as never)
    await (this.#ipnsRouter as unknown as { start(): Promise<void> }).start()
    this.#ipns = ipns(this.helia as never, { routers: [this.#ipnsRouter] })
    const dht = this.helia.libp2p.services.dht
    if (dht !== undefined) claimIpnsRecords(dht)
    this.#timers.push(
      setInterval(() => {
        for (const served of this.#served.values()) {
          served
            .reannounce()
            .catch((err) => this.#log.error('re-announcing %s failed: %s', served.id, (err as Error).message))
        }
      }, this.#init.announceIntervalMs ?? 30_000),
    )
    if (this.#init.pageExchange !== undefined) {
      this.#pageExchange = new PageExchange(this.libp2p, {
        role: this.#init.pageExchange,
        maxPeers: this.#init.maxPagePeers ?? 8,
        intervalMs: this.#init.announceIntervalMs ?? 30_000,
        log: this.#log,
      })
      this.#pageExchange.start()
    }
    for (const peer of this.#init.peers ?? []) this.#redialer.add(peer)
    const gateways = this.#init.gateways ?? []
    if (gateways.length > 0) {
      // Imported only here, so that a bundle without gateways can leave the HTTP path out.
      const { HttpSync } = await import('./http/http-sync.ts')
      this.#http = new HttpSync({
        gateways,
        followers: () => this.#followed.values(),
        offline: (topic) => this.#pathFor(topic) === 'http',
        pollMs: this.#init.gatewayPollMs ?? 5000,
        limits: {
          maxBytes: this.#init.syncMaxBytes ?? DEFAULT_RECEIVE_LIMITS.maxBytes,
          maxBlocks: this.#init.syncMaxBlocks ?? DEFAULT_RECEIVE_LIMITS.maxBlocks,
        },
        log: this.#log,
      })
      this.#http.start()
    }
    if (this.#init.dht !== undefined) {
      this.#dht = new DhtPublisher(this.helia.libp2p.contentRouting, this.#log, this.#stopping.signal)
      for (const peer of this.#init.dht.bootstrap ?? []) this.#redialer.add(peer)
    }
    if (this.#init.resume !== false) {
      for await (const { id, sparse } of followedStores(this.storage.datastore)) {
        await this.follow(id, { sparse }).catch((err) => this.#log('could not resume following %s: %s', id, err))
      }
    }
  }

  /** A request this node answered with an error: its own failures are errors, the rest refusals. */
  #answeredWithError(protocol: string, err: unknown, code: string, peer: PeerId): void {
    const message = (err as Error)?.message ?? String(err)
    if (code === 'internal') this.#log.error('a %s request from %p failed: %s', protocol, peer, message)
    else this.#log('refused a %s request from %p (%s): %s', protocol, peer, code, message)
  }

  /** Dials a peer and keeps it connected (redialled with backoff when it drops). */
  connect(address: string): void {
    this.#redialer.add(address)
  }

  /** Resolves once connected to `peer` (a peer id string). */
  connected(peer: string, signal?: AbortSignal): Promise<void> {
    return this.#redialer.connected(peer, signal)
  }

  // --- writing stores ------------------------------------------------------------------------

  /** Creates a store with a new writer key, kept in storage, and serves it. */
  async createStore(options: { bitsPerLevel?: number } = {}): Promise<ServedStore> {
    const key = await createStoreKey()
    const id = await saveStoreKey(this.storage.datastore, key)
    return this.#serve(id, key, options.bitsPerLevel)
  }

  /** Serves a store whose writer key this node holds (created here before). */
  async serve(id: string): Promise<ServedStore> {
    const existing = this.#served.get(id)
    if (existing !== undefined) return existing
    const key = await loadStoreKey(this.storage.datastore, id)
    if (key === undefined) throw new PeerError(`this node does not hold the writer key of store ${id}`)
    return this.#serve(id, key)
  }

  /** The ids of the stores this node holds writer keys for. */
  async *writableStores(): AsyncGenerator<string> {
    yield* storeKeyIds(this.storage.datastore)
  }

  async #serve(id: string, key: PrivateKey, bitsPerLevel?: number): Promise<ServedStore> {
    if (this.#followed.has(id)) throw new PeerError(`store ${id} is followed here; unfollow it before serving it`)
    const store = await openStore({
      storage: this.storage,
      name: id,
      ...(bitsPerLevel === undefined ? {} : { bitsPerLevel }),
    })
    const topic = TOPIC_PREFIX + id
    const served = new ServedStore(
      {
        log: this.#log,
        publish: async (t, bytes) => {
          await this.#pubsub.publish(t, bytes)
        },
        hasReaders: (t) => this.#pubsub.getSubscribers(t).length > 0,
        pushMaxBytes: this.#init.pushMaxBytes ?? 128 * 1024,
        announcementLifetimeMs: this.#init.announcementLifetimeMs ?? ANNOUNCEMENT_LIFETIME_MS,
        publishIpns: (storeId, announcement) => this.#publishIpns(storeId, announcement),
      },
      id,
      topic,
      key,
      store,
    )
    this.#served.set(id, served)
    this.#listen(topic, key.publicKey, () => store.head?.seq ?? 0)
    // Join the store's IPNS record topic, so readers starting cold can fetch the record from us.
    // (The get itself usually finds nothing yet: it is for the subscription.)
    void this.#ipnsRouter
      ?.get(multihashToIPNSRoutingKey(key.publicKey.toMultihash()), { signal: AbortSignal.timeout(1000) })
      .catch((err) => this.#log('joined the IPNS record topic of %s (%s)', id, (err as Error).message))
    await served.announce()
    return served
  }

  #publishIpns(id: string, announcement: Announcement): void {
    const pending = this.#ipnsPending.get(id)
    if (pending !== undefined) {
      if (announcement.seq >= pending.announcement.seq) pending.announcement = announcement
      return
    }
    const entry = {
      announcement,
      timer: setTimeout(() => {
        this.#ipnsPending.delete(id)
        this.#putIpnsRecord(id, entry.announcement).catch((err) =>
          this.#log.error('IPNS publish of %s failed: %s', id, (err as Error).message),
        )
      }, this.#init.ipnsDebounceMs ?? 2000),
    }
    this.#ipnsPending.set(id, entry)
  }

  /**
   * Publishes an announcement, as it is, as the store's IPNS record: through ipns's routers (its
   * local record store, which answers peers' fetches, and pubsub). Not with `ipns.publish`,
   * which would sign a record of its own, with its own counter as sequence and a V1 signature.
   */
  async #putIpnsRecord(id: string, announcement: Announcement): Promise<void> {
    const routingKey = multihashToIPNSRoutingKey(storePublicKey(id).toMultihash())
    this.#dht?.publish(id, routingKey, announcement)
    // Not through ipns's helia router: that would put to the DHT here and wait for it (forever,
    // with no DHT peer yet); the DHT publisher does that in its own time, one put at a time.
    const routers = this.#ipns!.routers.filter((router) => router.toString() !== 'HeliaRouting()')
    await Promise.all(routers.map((router) => router.put(routingKey, announcement.bytes)))
  }

  // --- following stores ----------------------------------------------------------------------

  /**
   * Follows a store: a read-only replica that moves to each newer verified head. Sparse: only
   * the commit is synced, and reads fetch the nodes they touch. Remembered across restarts.
   */
  async follow(id: string, options: { sparse?: boolean } = {}): Promise<Follower> {
    const existing = this.#followed.get(id)
    if (existing !== undefined) return existing
    if (this.#served.has(id)) throw new PeerError(`store ${id} is written here; a node cannot also follow it`)
    const key = storePublicKey(id)
    const sparse = options.sparse === true
    const fetchTimeoutMs = this.#init.fetchTimeoutMs ?? 10_000
    const fetch = (cid: CID, timeoutMs: number) => this.#fetch(cid, timeoutMs)
    let storage: Storage
    if (sparse) {
      // A sparse replica keeps what reads fetched in memory, apart from the node's storage, which
      // only ever holds complete versions.
      const blocks = new SparseBlockstore(
        this.storage.blockstore,
        sparseFetcher(fetch, this.#init.sparseTimeoutMs ?? 3000),
      )
      storage = new BlockstoreStorage(blocks, new MemoryDatastore())
    } else {
      storage = this.storage
    }
    const store = await openStore({ storage, name: id, readOnly: true })
    const topic = TOPIC_PREFIX + id
    const follower = new Follower(
      {
        libp2p: this.helia.libp2p,
        staging: this.#staging,
        log: this.#log,
        fetch,
        peersFor: (t, preferred) => this.#peersFor(t, preferred),
        pathFor: (t) => this.#pathFor(t),
        syncTimeoutMs: this.#init.syncTimeoutMs ?? 10_000,
        fetchTimeoutMs,
        receiveLimits: {
          maxBytes: this.#init.syncMaxBytes ?? DEFAULT_RECEIVE_LIMITS.maxBytes,
          maxBlocks: this.#init.syncMaxBlocks ?? DEFAULT_RECEIVE_LIMITS.maxBlocks,
        },
        onPushRefused: () => this.stats.pushesRefused++,
        onSync: (report) => {
          this.stats.syncs++
          this.stats.syncWireBytes += report.wireBytes
          this.stats.blocksFetched += report.fetched
          this.stats.bytesFetched += report.fetchedBytes
          for (const listener of this.#syncListeners) listener(id, report)
        },
      },
      id,
      key,
      topic,
      store,
      sparse,
    )
    this.#followed.set(id, follower)
    await recordFollow(this.storage.datastore, { id, sparse })
    this.#listen(topic, key, () => follower.knownSeq)
    void this.#coldStart(follower)
    void this.#http?.poll(follower)
    if (this.#dht !== undefined || (this.#init.delegatedRouters ?? []).length > 0) void this.#discover(follower)
    return follower
  }

  /**
   * Stops following a store and forgets its head here, so that the next gc frees its blocks
   * (those no other store or pin keeps).
   */
  async unfollow(id: string): Promise<void> {
    const follower = this.#followed.get(id)
    if (follower === undefined) return
    follower.stop()
    this.#followed.delete(id)
    this.#pubsub.unsubscribe(follower.topic)
    this.#pubsub.topicValidators.delete(follower.topic)
    await forgetFollow(this.storage.datastore, id)
    await follower.store.close()
    await this.storage.deleteHead(id)
  }

  /** Calls `listener` after each completed sync of a followed store; returns a function that stops it. */
  onSync(listener: (store: string, report: SyncReport) => void): () => void {
    this.#syncListeners.add(listener)
    return () => this.#syncListeners.delete(listener)
  }

  get followers(): Follower[] {
    return [...this.#followed.values()]
  }

  get servedStores(): ServedStore[] {
    return [...this.#served.values()]
  }

  followed(id: string): Follower | undefined {
    return this.#followed.get(id)
  }

  served(id: string): ServedStore | undefined {
    return this.#served.get(id)
  }

  /**
   * A reader that starts cold asks IPNS for the latest head (the writer may be offline). The
   * first ask joins the name's record topic and usually finds no subscriber yet; the router then
   * fetches the record from peers as they appear, so the ask is repeated a few times.
   */
  async #coldStart(follower: Follower): Promise<void> {
    const name = storePublicKey(follower.id) as never
    const stopped = this.#stopping.signal
    for (const delay of [0, 500, 1500, 3000, 6000]) {
      await sleep(delay, stopped)
      if (stopped.aborted || this.#followed.get(follower.id) !== follower) return
      try {
        for await (const result of this.#ipns!.resolve(name, {
          signal: AbortSignal.any([AbortSignal.timeout(this.#init.syncTimeoutMs ?? 10_000), stopped]),
        })) {
          const match = /^\/ipfs\/([^/]+)$/.exec(result.value)
          if (match === null) continue
          await follower.offerCommit(CID.parse(match[1]))
          this.stats.headsFromIpns++
          return
        }
      } catch (err) {
        this.#log('IPNS cold start of %s: %s', follower.id, (err as Error).message)
      }
    }
  }

  /**
   * A followed store's head from the DHT (or delegated routers), offered with the provider found
   * for it. Asked again, backing off to once a minute, until found: a node that just joined knows
   * few peers, and the writer may not have published yet.
   */
  async #discover(follower: Follower): Promise<void> {
    const stopped = this.#stopping.signal
    for (let attempt = 0; ; attempt++) {
      await sleep(attempt === 0 ? 0 : Math.min(1000 * 2 ** (attempt - 1), 60_000), stopped)
      if (stopped.aborted || this.#followed.get(follower.id) !== follower) return
      try {
        const signal = AbortSignal.any([AbortSignal.timeout(this.#init.syncTimeoutMs ?? 10_000), stopped])
        const { announcement, provider } = await findHead(this.helia.libp2p, follower.id, signal)
        this.stats.headsFromDht++
        follower.offer(announcement, provider)
        return
      } catch (err) {
        this.#log('DHT lookup of %s: %s', follower.id, (err as Error).message)
      }
    }
  }

  /** A full (not sparse) replica of `id`, to serve sync requests from. */
  #fullReplica(id: string) {
    const follower = this.#followed.get(id)
    return follower === undefined || follower.sparse ? undefined : follower.store
  }

  // --- announcements -------------------------------------------------------------------------

  /** Subscribes to a store's topic, refusing (and not forwarding) announcements its key did not sign. */
  #listen(topic: string, key: ReturnType<typeof storePublicKey>, held: () => number): void {
    this.#pubsub.topicValidators.set(topic, async (source, message) => {
      try {
        const { announcement: bytes, push } = decodeTopicMessage(message.data)
        const announcement = await readAnnouncement(key, bytes)
        this.#validated.set(message, push === undefined ? { announcement } : { announcement, push })
        if (announcement.seq <= held()) {
          this.stats.announcementsStale++
          return TopicValidatorResult.Ignore
        }
        this.stats.announcementsAccepted++
        return TopicValidatorResult.Accept
      } catch (err) {
        this.stats.announcementsRejected++
        const reason =
          err instanceof InvalidAnnouncementError ? err.message : `${(err as Error).name}: ${(err as Error).message}`
        this.#log('refused an announcement on %s from %p: %s', topic, source, reason)
        return TopicValidatorResult.Reject
      }
    })
    this.#pubsub.subscribe(topic)
  }

  async #onMessage(message: Message): Promise<void> {
    if (!message.topic.startsWith(TOPIC_PREFIX)) return
    const follower = this.#followed.get(message.topic.slice(TOPIC_PREFIX.length))
    const validated = this.#validated.get(message)
    if (follower === undefined || validated === undefined) return
    follower.offer(validated.announcement, message.type === 'signed' ? message.from : undefined, validated.push)
  }

  /**
   * A peer subscribed to a store's topic: send it the latest head (the writer, or any replica
   * relaying it). Gossipsub reports the subscription before it adds the peer to the topic, so
   * the announcement goes out on the next turns until that peer is among its recipients.
   */
  async #onSubscribed(topic: string, peer: PeerId): Promise<void> {
    if (!topic.startsWith(TOPIC_PREFIX)) return
    const id = topic.slice(TOPIC_PREFIX.length)
    let failure = 'it was not among the recipients'
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, attempt * 50))
        const message = await this.#messageForNewReader(id)
        if (message === undefined) return
        try {
          const result = await this.#pubsub.publish(topic, message)
          if (result.recipients.some((r) => r.equals(peer))) return
        } catch (err) {
          failure = (err as Error).message
        }
      }
    } catch (err) {
      failure = (err as Error).message
    }
    this.#log('could not send the head of %s to %p, which subscribed: %s', id, peer, failure)
  }

  /** What a peer that just subscribed to a store's topic is sent: the writer's push with it, if this node writes it. */
  async #messageForNewReader(id: string): Promise<Uint8Array | undefined> {
    const served = this.#served.get(id)
    if (served !== undefined) return served.messageForNewReader()
    const followed = this.#followed.get(id)?.announcement
    return followed == null ? undefined : encodeTopicMessage(followed.bytes)
  }

  // --- blocks and names --------------------------------------------------------------------

  /**
   * A block from storage or, failing that, from peers over bitswap (hash-checked). A fetched
   * block is held in memory, not written to storage: write it, then `forgetFetched` it.
   */
  async getBlock(cid: CID, options: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    return this.#fetch(cid, options.timeoutMs ?? this.#init.fetchTimeoutMs ?? 10_000)
  }

  /** Drops fetched blocks from memory (once written to storage, or no longer wanted). */
  forgetFetched(cids: Iterable<CID>): void {
    this.#staging.forget(cids)
  }

  /** Publishes a served store's head through IPNS now (not waiting for the debounce), and re-announces it. */
  async publishName(id: string): Promise<{ commit: CID; seq: number }> {
    const served = this.#served.get(id)
    if (served === undefined) throw new PeerError(`store ${id} is not written here`)
    if (served.store.head === null) throw new PeerError(`store ${id} has no commit to publish yet`)
    await served.announcementOfHead()
    await served.reannounce()
    // The latest announcement, renewed by reannounce if it had to be.
    const announcement = served.announcement
    if (announcement === null) throw new PeerError(`store ${id} has no announcement to publish`)
    const pending = this.#ipnsPending.get(id)
    if (pending !== undefined) {
      clearTimeout(pending.timer)
      this.#ipnsPending.delete(id)
    }
    await this.#putIpnsRecord(id, announcement)
    return { commit: announcement.commit, seq: announcement.seq }
  }

  /** Resolves a store id through IPNS (the local record store, then peers over pubsub) to a commit CID. */
  async resolveName(id: string, options: { signal?: AbortSignal } = {}): Promise<CID> {
    const signal = options.signal ?? AbortSignal.timeout(this.#init.syncTimeoutMs ?? 10_000)
    for await (const result of this.#ipns!.resolve(storePublicKey(id) as never, { signal })) {
      const match = /^\/ipfs\/([^/]+)$/.exec(result.value)
      if (match !== null) return CID.parse(match[1])
    }
    throw new PeerError(`the IPNS record of ${id} does not name a commit`)
  }

  /** Peers to ask for a store's blocks: `preferred` first, then its topic's subscribers, then other connected peers. */
  #peersFor(topic: string, preferred: readonly PeerId[]): PeerId[] {
    const out = new Map<string, PeerId>()
    const self = this.peerId.toString()
    for (const peer of [...preferred, ...this.#pubsub.getSubscribers(topic), ...this.helia.libp2p.getPeers()]) {
      const id = peer.toString()
      if (id !== self && !out.has(id)) out.set(id, peer)
    }
    return [...out.values()]
  }

  /** How a store syncs now: over HTTP when the node has gateways and no peer to ask for it. */
  #pathFor(topic: string): 'libp2p' | 'http' {
    return this.#http !== undefined && this.#peersFor(topic, []).length === 0 ? 'http' : 'libp2p'
  }

  /**
   * One block, verified: over bitswap (into staging, not storage), or from the gateways while the
   * node has no connection at all.
   */
  async #fetch(cid: CID, timeoutMs: number): Promise<Uint8Array> {
    const http = this.#http
    if (http !== undefined && this.helia.libp2p.getConnections().length === 0)
      return (await readBlock(this.#staging, cid)) ?? http.block(cid, timeoutMs)
    return collectBytes(this.helia.blockstore.get(cid, { signal: AbortSignal.timeout(timeoutMs) }))
  }

  /** Stops following and serving, closes the stores, and stops libp2p (not the storage). */
  async stop(): Promise<void> {
    this.#stopping.abort()
    this.#http?.stop()
    this.#redialer.stop()
    this.#pageExchange?.stop()
    for (const timer of this.#timers) clearInterval(timer)
    for (const { timer } of this.#ipnsPending.values()) clearTimeout(timer)
    for (const follower of this.#followed.values()) follower.stop()
    for (const served of this.#served.values()) served.stop()
    for (const store of [...this.#followed.values(), ...this.#served.values()].map((s) => s.store)) await store.close()
    ;(this.#ipns as unknown as { stop?(): void } | undefined)?.stop?.()
    ;(this.#ipnsRouter as unknown as { stop?(): void } | undefined)?.stop?.()
    await this.helia.stop()
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        resolve()
      },
      { once: true },
    )
  })
}
