// A peer for a page that may be open in several tabs. The tabs of one origin elect one of them,
// with a Web Lock, to run the node (identity, connection, sync); the others queue for the lock and
// take over when that tab closes. The node's tab tells every tab, over a BroadcastChannel, when a
// replica moved and how the node is doing, and sends the other tabs' writes. Every tab reads the
// replica from IndexedDB itself (see docs/browser.md for why this design).
import type { DagsyncNode, FollowerStatus } from '@dagsync/peer'
import { RemoteWriteError } from '@dagsync/peer'
import { openStore } from '@dagsync/store'
import { type LevelStorage, openBrowserStorage } from '@dagsync/store/browser'
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
}

/** What the node's tab last said of the node, and when it came. */
interface NodeStatus {
  readonly at: number
  readonly peers: number
  readonly connections: readonly ConnectedPeer[]
  readonly stores: Readonly<Record<string, WireStatus>>
}

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

  constructor(storage: LevelStorage, init: TabPeerInit & { database: string }) {
    this.storage = storage
    this.#outbox = new Outbox(storage.datastore)
    this.#init = init
    this.#statusIntervalMs = init.statusIntervalMs ?? 250
    this.#channel = new BroadcastChannel(`dagsync:tabs:${init.database}`)
    this.#channel.onmessage = (event: MessageEvent<TabMessage>) => this.#receive(event.data)
    this.#channel.postMessage({ t: 'who' } satisfies TabMessage)
    this.#elected = this.#elect()
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
      write: (s, request) => this.#write(s, request),
      older: (s, count) =>
        this.#ask(
          (id, to) => ({ t: 'older', id, to, store: s, count }),
          'the tab that held the node closed while fetching older history: try again',
        ),
      queue: async (s, ops, ifMatch) => {
        const write = await this.#outbox.add(s, ops, ifMatch, this.tab)
        this.#post({ t: 'outbox', store: s })
        return write
      },
      pending: (s) => this.#outbox.list(s),
    })
    this.#followers.set(id, follower)
    this.#post({ t: 'follow', store: id })
    return follower
  }

  /** Waits for the node's lock and runs the node while this tab lives (or until `close`). */
  async #elect(): Promise<void> {
    const { signal } = this.#closing
    // libp2p and the sync code are chunks of their own (docs/bundle.md): the page shows its
    // replica without waiting for them. Every tab loads them now, not when it gets the lock: a
    // tab that waits for hours would ask for chunks a newer build of the page no longer has.
    const code = Promise.all([import('./page-node.ts'), import('./node-holder.ts')])
    code.catch(() => {}) // awaited, and its failure reported, once this tab has the lock
    try {
      await navigator.locks.request(nodeLockName(this.#init.database), { signal }, async () => {
        const [{ startNodeOn }, { NodeHolder }] = await code
        const node = await startNodeOn(this.storage, this.#init)
        this.#holder = new NodeHolder(node, this.tab, (m) => this.#post(m), this.#outbox, {
          statusIntervalMs: this.#statusIntervalMs,
          outboxRetryMs: this.#init.outboxRetryMs ?? 1000,
        })
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
        this.#holder?.follow(message.store).catch((err) => console.error(`following ${message.store} failed`, err))
        break
      case 'head':
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

  /** Hands a request to the node's tab and resolves with its answer. */
  async #ask(message: (id: string, to: string) => TabMessage, lost: string): Promise<number> {
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
