// A peer for a page that may be open in several tabs. The tabs of one origin elect one of them,
// with a Web Lock, to run the node (identity, connection, sync); the others queue for the lock and
// take over when that tab closes. The node's tab tells every tab, over a BroadcastChannel, when a
// replica moved and how the node is doing, and sends the other tabs' writes. Every tab reads the
// replica from IndexedDB itself (see docs/browser.md for why this design).
import type { DagsyncNode, FollowerStatus, SyncReport } from '@dagsync/peer'
import { RemoteWriteError } from '@dagsync/peer'
import { openStore } from '@dagsync/store'
import { type LevelStorage, openBrowserStorage } from '@dagsync/store/browser'
import { ColdStarts } from './cold-starts.ts'
import type { NodeHolder } from './node-holder.ts'
import { nodeLockName } from './node-lock.ts'
import { Outbox } from './outbox.ts'
import type { BrowserPeerInit } from './page-node.ts'
import type { ConnectedPeer } from './peer-list.ts'
import { TabFollower } from './tab-follower.ts'
import { errorFromWire, statusFromWire, type TabMessage, type WireStatus } from './tab-messages.ts'

export interface TabPeerInit extends BrowserPeerInit {
  /** How often the node's tab sends the node's status to the other tabs. @default 250 */
  statusIntervalMs?: number
  /** How long a write waits for a tab to hold the node (one is starting it). @default 10_000 */
  leaderTimeoutMs?: number
  /** How often the node's tab tries the outbox again while a writer is unreachable. @default 1000 */
  outboxRetryMs?: number
  /**
   * When libp2p and the sync code (the node's chunk, docs/bundle.md) load: `'at-once'`, or
   * `'when-asked'`: once any tab of the page calls `startNode()` (a page does once it has shown
   * its first key), writes to the writer, or has a replica it cannot show without the node. Until
   * then the node's tab starts each replica that holds nothing yet over HTTP from `gateways`.
   * @default 'at-once'
   */
  loadNode?: 'at-once' | 'when-asked'
  /** How long a replica's start over HTTP may take before the node takes over. @default 60_000 */
  httpStartTimeoutMs?: number
}

/** What the node's tab last said of the node, and when it came. */
interface NodeStatus {
  readonly at: number
  readonly peers: number
  readonly connections: readonly ConnectedPeer[]
  readonly stores: Readonly<Record<string, WireStatus>>
}

/** libp2p and the sync code: the node's chunks. */
type NodeCode = [typeof import('./page-node.ts'), typeof import('./node-holder.ts')]

/** A write or a history fetch handed to the node's tab, until it answers. */
interface PendingRequest {
  /** The tab it was handed to. */
  readonly to: string
  /** What is known if that tab closes before answering. */
  readonly lost: string
  resolve(answer: number): void
  reject(err: Error): void
}

/** Starts this tab's peer: it reads the replica in IndexedDB and shares one node with the other tabs. */
export async function startTabPeer(init: TabPeerInit): Promise<TabPeer> {
  const database = init.database ?? 'dagsync'
  const storage = await openBrowserStorage(database, { durability: init.durability ?? 'relaxed' })
  return new TabPeer(storage, { ...init, database })
}

export class TabPeer {
  readonly storage: LevelStorage
  readonly #outbox: Outbox
  /** This tab's name on the channel. */
  readonly tab = crypto.randomUUID()
  readonly #init: TabPeerInit & { database: string }
  readonly #channel: BroadcastChannel
  readonly #followers = new Map<string, TabFollower>()
  readonly #requests = new Map<string, PendingRequest>()
  readonly #closing = new AbortController()
  readonly #statusIntervalMs: number
  #holder: NodeHolder | undefined
  #leader: { readonly tab: string; readonly peerId: string } | undefined
  #status: NodeStatus | undefined
  readonly #elected: Promise<void>
  #leaderWaiters: (() => void)[] = []
  #lastError: string | undefined
  /** The node's code, once asked for (see `loadNode`). */
  #nodeCode: Promise<NodeCode> | undefined
  /** Wakes the node's tab when the node's code is asked for. */
  #wakeNode: (code: { readonly load: Promise<NodeCode> }) => void = () => {}
  readonly #nodeWanted = new Promise<{ readonly load: Promise<NodeCode> }>((resolve) => (this.#wakeNode = resolve))
  /** Stores any tab asked the node to follow, for the node's tab to start over HTTP. */
  readonly #asked = new Set<string>()
  /** How each store's start over HTTP went, if the node's tab started it so. */
  readonly #started = new Map<string, SyncReport>()
  /** While this tab holds the lock and its node has not started: the replicas it starts over HTTP. */
  #cold: ColdStarts | undefined

  constructor(storage: LevelStorage, init: TabPeerInit & { database: string }) {
    this.storage = storage
    this.#outbox = new Outbox(storage.datastore)
    this.#init = init
    this.#statusIntervalMs = init.statusIntervalMs ?? 250
    this.#channel = new BroadcastChannel(`dagsync:tabs:${init.database}`)
    this.#channel.onmessage = (event: MessageEvent<TabMessage>) => this.#receive(event.data)
    this.#channel.postMessage({ t: 'who' } satisfies TabMessage)
    if ((init.loadNode ?? 'at-once') === 'at-once') this.#loadNode()
    this.#elected = this.#elect()
  }

  /**
   * Loads libp2p and the sync code in every tab of the page, and starts the node in the tab that
   * holds the lock: a page with `loadNode: 'when-asked'` calls this once it has shown its first
   * key. Does nothing more when called again.
   */
  startNode(): void {
    if (this.#nodeCode === undefined) this.#post({ t: 'start-node' })
  }

  /**
   * Every tab loads the node's code once asked, not only when it gets the lock: a tab that waits
   * for hours would ask for chunks a newer build of the page no longer has.
   */
  #loadNode(): void {
    if (this.#nodeCode !== undefined) return
    const load = Promise.all([import('./page-node.ts'), import('./node-holder.ts')])
    load.catch(() => {}) // awaited, and its failure reported, once this tab has the lock
    this.#nodeCode = load
    this.#wakeNode({ load })
  }

  /** This browser's peer id (every tab's), once the node's tab has said it. */
  get peerId(): string | undefined {
    return this.#leader?.peerId
  }

  /** The node, if this tab holds it. */
  get node(): DagsyncNode | undefined {
    return this.#holder?.node
  }

  /** Peers the node is connected to: 0 while no tab has told of its node lately. */
  connections(): number {
    return this.#fresh()?.peers ?? 0
  }

  /** The peers the node is connected to, with their addresses: none while no tab has told of its node lately. */
  connectedPeers(): readonly ConnectedPeer[] {
    return this.#fresh()?.connections ?? []
  }

  /** Why this tab could not start the node, if it tried and failed. */
  get lastError(): string | undefined {
    return this.#lastError
  }

  /** Follows a store (a full replica): this tab's reads, and the node's tab follows it too. */
  async follow(id: string): Promise<TabFollower> {
    const known = this.#followers.get(id)
    if (known !== undefined) return known
    const store = await openStore({ storage: this.storage, name: id, readOnly: true })
    const follower = new TabFollower(id, store, {
      status: (s) => this.#storeStatus(s),
      started: (s) => this.#started.get(s),
      write: (s, request) => this.#write(s, request),
      older: (s, count) =>
        this.#ask(
          (id, to) => ({ t: 'older', id, to, store: s, count }),
          'the tab that held the node closed while fetching older history: try again',
        ),
      queue: async (s, ops, ifMatch) => {
        const write = await this.#outbox.add(s, ops, ifMatch, this.tab)
        this.startNode()
        this.#post({ t: 'outbox', store: s })
        return write
      },
      pending: (s) => this.#outbox.list(s),
    })
    this.#followers.set(id, follower)
    this.#post({ t: 'follow', store: id })
    return follower
  }

  /**
   * Waits for the node's lock; then starts cold replicas over HTTP until the node's code is
   * asked for, and runs the node while this tab lives (or until `close`).
   */
  async #elect(): Promise<void> {
    const { signal } = this.#closing
    try {
      await navigator.locks.request(nodeLockName(this.#init.database), { signal }, async () => {
        const cold = new ColdStarts({
          storage: this.storage,
          gateways: this.#init.gateways ?? [],
          onStarted: (store, started) => this.#post({ t: 'head', store, seq: started.seq, started }),
          needNode: (store, why) => {
            console.info(`${store} starts with the node: ${why}`)
            this.#loadNode()
          },
          timeoutMs: this.#init.httpStartTimeoutMs ?? 60_000,
          signal,
        })
        this.#cold = cold
        for (const id of [...this.#followers.keys(), ...this.#asked]) void cold.start(id)
        const wanted = await Promise.race([
          this.#nodeWanted,
          new Promise<undefined>((resolve) =>
            signal.addEventListener('abort', () => resolve(undefined), { once: true }),
          ),
        ])
        // From here on the node follows what is asked; it waits for the starts under way.
        this.#cold = undefined
        await cold.idle()
        if (wanted === undefined) return
        const [{ startNodeOn }, { NodeHolder }] = await wanted.load
        const node = await startNodeOn(this.storage, this.#init)
        this.#holder = new NodeHolder(node, this.tab, (m) => this.#post(m), this.#outbox, {
          statusIntervalMs: this.#statusIntervalMs,
          outboxRetryMs: this.#init.outboxRetryMs ?? 1000,
        })
        // The other tabs ask again for theirs when this one says it holds the node.
        for (const id of this.#followers.keys()) await this.#holder.follow(id)
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
        await this.#holder.stop()
      })
    } catch (err) {
      if (signal.aborted) return
      this.#lastError = `this tab could not start the node: ${(err as Error).message}`
      console.error(this.#lastError, err)
    }
  }

  /** Sends a message to every tab, this one included. */
  #post(message: TabMessage): void {
    this.#channel.postMessage(message)
    this.#receive(message)
  }

  #receive(message: TabMessage): void {
    switch (message.t) {
      case 'leader':
        this.#newLeader(message)
        break
      case 'who':
        this.#holder?.announce()
        break
      case 'follow':
        this.#asked.add(message.store)
        void this.#cold?.start(message.store)
        this.#holder?.follow(message.store).catch((err) => console.error(`following ${message.store} failed`, err))
        break
      case 'start-node':
        this.#loadNode()
        break
      case 'head':
        if (message.started !== undefined) this.#started.set(message.store, message.started)
        this.#followers
          .get(message.store)
          ?.reload()
          .catch((err) => console.error(`reading ${message.store}'s new head failed`, err))
        break
      case 'status':
        this.#status = {
          at: Date.now(),
          peers: message.peers,
          connections: message.connections,
          stores: message.stores,
        }
        break
      case 'write':
        if (message.to === this.tab) void this.#holder?.write(message)
        break
      case 'older':
        if (message.to === this.tab) void this.#holder?.fetchOlder(message)
        break
      case 'written':
        this.#settle(message.id)?.resolve(message.seq)
        break
      case 'fetched':
        this.#settle(message.id)?.resolve(message.added)
        break
      case 'failed':
        this.#settle(message.id)?.reject(errorFromWire(message.error))
        break
      case 'outbox':
        this.#holder?.sendOutbox()
        break
      case 'settled':
        this.#followers.get(message.outcome.store)?.settle(message.outcome)
        break
    }
  }

  #newLeader(leader: { tab: string; peerId: string }): void {
    if (this.#leader?.tab !== leader.tab) {
      // Requests handed to a tab that is gone will never be answered.
      for (const [id, pending] of this.#requests) {
        if (pending.to === leader.tab) continue
        this.#requests.delete(id)
        pending.reject(new RemoteWriteError(pending.lost))
      }
      // The new node follows what this tab follows (its own list may not have it yet).
      if (leader.tab !== this.tab) for (const id of this.#followers.keys()) this.#post({ t: 'follow', store: id })
    }
    this.#leader = leader
    for (const wake of this.#leaderWaiters.splice(0)) wake()
  }

  #settle(id: string): PendingRequest | undefined {
    const pending = this.#requests.get(id)
    this.#requests.delete(id)
    return pending
  }

  #write(store: string, request: Uint8Array): Promise<number> {
    return this.#ask(
      (id, to) => ({ t: 'write', id, to, store, request }),
      'the tab that held the node closed before the writer answered: the write may or may not have been made',
    )
  }

  /** Hands a request to the node's tab (starting the node, if it waits to be asked) and resolves with its answer. */
  async #ask(message: (id: string, to: string) => TabMessage, lost: string): Promise<number> {
    this.startNode()
    const leader = await this.#leaderNow()
    const id = crypto.randomUUID()
    return await new Promise<number>((resolve, reject) => {
      this.#requests.set(id, { to: leader.tab, lost, resolve, reject })
      this.#post(message(id, leader.tab))
    })
  }

  /** The node's tab, waiting (up to leaderTimeoutMs) while none has said it holds the node. */
  async #leaderNow(): Promise<{ tab: string; peerId: string }> {
    const timeoutMs = this.#init.leaderTimeoutMs ?? 10_000
    if (this.#leader === undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        this.#leaderWaiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    if (this.#leader === undefined)
      throw new RemoteWriteError(
        `no tab of this page started a node within ${timeoutMs} ms${this.#lastError === undefined ? '' : ` (${this.#lastError})`}`,
      )
    return this.#leader
  }

  /** The node's last status, if it came recently enough to still be true. */
  #fresh(): NodeStatus | undefined {
    const status = this.#status
    return status !== undefined && Date.now() - status.at < this.#statusIntervalMs * 4 + 1000 ? status : undefined
  }

  #storeStatus(store: string): FollowerStatus | undefined {
    const wire = this.#fresh()?.stores[store]
    return wire === undefined ? undefined : statusFromWire(wire)
  }

  /** Stops this tab's part: the node, if this tab holds it, moves to another tab. */
  async close(): Promise<void> {
    this.#closing.abort()
    await this.#elected
    this.#channel.close()
    for (const follower of this.#followers.values()) await follower.store.close()
    await this.storage.close()
  }
}
