// The node's tab: the one tab of an origin that holds the Web Lock runs the libp2p node, follows
// the stores any tab asks for, tells every tab each new head and the status, and sends the other
// tabs' writes and the outbox to the writer, and fetches older history for them.
import { type DagsyncNode, type Follower, preconditionFromWire } from '@dagsync/peer'
import type { WriteOp } from '@dagsync/store'
import { decodeCbor } from '@dagsync/tree'
import type { Outbox } from './outbox.ts'
import { OutboxSender } from './outbox-sender.ts'
import { connectedPeers } from './peer-list.ts'
import { errorToWire, statusToWire, type TabMessage, type WireStatus } from './tab-messages.ts'

export class NodeHolder {
  readonly node: DagsyncNode
  readonly #tab: string
  readonly #post: (message: TabMessage) => void
  readonly #timer: ReturnType<typeof setInterval>
  readonly #retry: ReturnType<typeof setInterval>
  /** The stores whose new heads this holder tells the tabs of. */
  readonly #told = new Set<string>()
  readonly #sender: OutboxSender

  constructor(
    node: DagsyncNode,
    tab: string,
    post: (message: TabMessage) => void,
    outbox: Outbox,
    options: { statusIntervalMs: number; outboxRetryMs: number },
  ) {
    this.node = node
    this.#tab = tab
    this.#post = post
    this.#sender = new OutboxSender(
      outbox,
      (store) => this.follow(store),
      (outcome) => this.#post({ t: 'settled', outcome }),
    )
    this.#timer = setInterval(() => this.#postStatus(), options.statusIntervalMs)
    this.#retry = setInterval(() => this.#sender.kick(), options.outboxRetryMs)
    this.announce()
    this.#sender.kick()
  }

  /** Sends the outbox now (a tab just added to it). */
  sendOutbox(): void {
    this.#sender.kick()
  }

  /** Tells every tab that this one holds the node. */
  announce(): void {
    this.#post({ t: 'leader', tab: this.#tab, peerId: this.node.peerId.toString() })
    this.#postStatus()
  }

  /** Follows `store` (once), and tells every tab its head now and at each move. */
  async follow(store: string): Promise<Follower> {
    // The node may follow it already: it resumes what it followed before, in whatever tab.
    const follower = this.node.followed(store) ?? (await this.node.follow(store))
    if (!this.#told.has(store)) {
      this.#told.add(store)
      follower.store.onHead((head) => this.#post({ t: 'head', store, seq: head.seq }))
    }
    // A tab may have opened the replica before this node's last sync: it reloads from storage.
    this.#post({ t: 'head', store, seq: follower.head?.seq ?? 0 })
    return follower
  }

  /** Sends a tab's write to the writer and answers that tab. */
  async write(message: Extract<TabMessage, { t: 'write' }>): Promise<void> {
    try {
      const { ops, w, m, p } = decodeCbor(message.request) as {
        ops: WriteOp[]
        w?: string
        m?: Record<string, unknown>
        p?: unknown
      }
      const ifMatch = preconditionFromWire(p)
      const follower = await this.follow(message.store)
      const { commit } = await follower.transact(ops, {
        ...(w === undefined ? {} : { writeId: w }),
        ...(m === undefined ? {} : { meta: m }),
        ...(ifMatch === undefined ? {} : { ifMatch }),
      })
      this.#post({ t: 'written', id: message.id, seq: commit?.seq ?? 0 })
    } catch (err) {
      this.#post({ t: 'failed', id: message.id, error: errorToWire(err) })
    }
  }

  /** Fetches older history of a store for a tab (see Follower.fetchOlder) and answers it. */
  async fetchOlder(message: Extract<TabMessage, { t: 'older' }>): Promise<void> {
    try {
      const follower = await this.follow(message.store)
      this.#post({ t: 'fetched', id: message.id, added: await follower.fetchOlder(message.count) })
    } catch (err) {
      this.#post({ t: 'failed', id: message.id, error: errorToWire(err) })
    }
  }

  #postStatus(): void {
    const stores: Record<string, WireStatus> = {}
    for (const follower of this.node.followers) stores[follower.id] = statusToWire(follower.status())
    this.#post({
      t: 'status',
      tab: this.#tab,
      peers: this.node.libp2p.getPeers().length,
      connections: connectedPeers(this.node.libp2p),
      stores,
    })
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    clearInterval(this.#retry)
    await this.node.stop()
  }
}
