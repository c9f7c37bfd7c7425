// The page for one store: sync status and peers, the key table, the selected key with its
// history, the diff view and the writes, kept live: each new commit re-renders what it changed
// (changed rows flash). Each part is its own file; this one starts them and keeps them current.
import { type TabFollower, type TabPeer, WatchInterruptedError, WatchTooLargeError } from '@dagsync/browser'
import { DiffView } from './diff-view.ts'
import { $, showKey, showSize } from './format.ts'
import { KeyDetail } from './key-detail.ts'
import { KeyTable } from './key-table.ts'
import { renderPeers } from './peers.ts'
import { Writes } from './writes.ts'

export interface AppInit {
  readonly peer: TabPeer
  readonly follower: TabFollower
  /** The daemon's address, as shown. */
  readonly daemon: string
  readonly storeLabel: string
  /** How to run the CLI on the daemon's repo, so a hint runs as shown. */
  readonly cli: string
  /** The peer id of the store's writer, when the page knows it (the daemon that served it writes it). */
  readonly writer: string | undefined
  /** The key table showed a commit of the store for the first time (then libp2p may load). */
  readonly onShown: () => void
}

export class App {
  readonly #init: AppInit
  readonly #table: KeyTable
  readonly #detail: KeyDetail
  readonly #diff: DiffView
  readonly #writes: Writes

  constructor(init: AppInit) {
    this.#init = init
    const { follower, peer, cli, storeLabel } = init
    this.#writes = new Writes({ peer, follower, cli, storeLabel, onPendingChange: () => this.#table.queue(new Set()) })
    this.#detail = new KeyDetail({ follower, cli, storeLabel, onDelete: (key) => void this.#writes.delete(key) })
    this.#table = new KeyTable({
      follower,
      onSelect: (key) => this.#select(key),
      selected: () => this.#detail.key,
      pending: (key) => this.#writes.pending(key),
      onRender: (seq) => {
        if (seq > 0) init.onShown()
      },
    })
    this.#diff = new DiffView(follower)
  }

  async start(): Promise<void> {
    $('store-name').textContent = this.#init.storeLabel
    $('status-daemon').textContent = this.#init.daemon
    this.#renderStatus()
    // Other tabs' writes join the outbox too: list it again now and then.
    setInterval(() => {
      this.#renderStatus()
      void this.#writes.render()
    }, 500)
    await this.#writes.render()
    // A replica started over HTTP is shown as soon as it has its head, not after the watch's
    // first event, which for a store of more keys than a watch lists is the watch ending.
    if (this.#init.follower.head === null) {
      const off = this.#init.follower.store.onHead(() => {
        off()
        this.#table.queue(new Set())
      })
    }
    this.#table.queue(new Set())
    await this.#diff.listCommits()
    void this.#watch()
  }

  #select(key: string): void {
    this.#table.markSelected(key)
    void this.#detail.show(key)
  }

  /**
   * Re-renders after the changes of each new commit, flashing the rows that changed. A watch that
   * ends because the page fell behind, a commit changed too many keys to list (a first sync of a
   * large store, a bulk import) or a diff failed is started again after a full render: the page
   * then shows the head as it is, whatever it missed.
   */
  async #watch(): Promise<void> {
    for (;;) {
      try {
        for await (const event of this.#init.follower.watch()) {
          const changed = new Set(event.changes.map((c) => showKey(c.key)))
          this.#table.queue(changed)
          void this.#diff.listCommits()
          const selected = this.#detail.key
          if (selected !== undefined && changed.has(selected)) void this.#detail.show(selected)
        }
        return
      } catch (err) {
        if (!(err instanceof WatchInterruptedError)) throw err
        if (!(err instanceof WatchTooLargeError)) console.warn(`the live view restarts: ${err.message}`)
        this.#table.queue(new Set())
      }
    }
  }

  #renderStatus(): void {
    const { follower, peer } = this.#init
    const status = follower.status()
    const peers = peer.connections()
    $('status-peer').textContent = peer.peerId ?? '–'
    $('status-node').textContent = peer.node === undefined ? 'another tab' : 'this tab'
    const badge = $('connection')
    // Online means a daemon is reachable (writes go out, the writer's heads come in); other pages
    // over WebRTC can share what they hold, but a page with only those is offline to its writer.
    const daemons = peer.connectedPeers().filter((p) => !p.address.includes('/webrtc')).length
    const state = daemons === 0 ? 'offline' : status.syncing ? 'syncing' : 'online'
    badge.dataset.state = state
    badge.textContent = state
    $('status-peers').textContent = String(peers)
    $('status-synced').textContent = status.synced === null ? '–' : `#${status.synced.seq}`
    $('status-newest').textContent = status.newest === null ? '–' : `#${status.newest.seq}`
    $('status-lag').textContent = String(status.lag)
    const last = status.lastSync
    // How this store syncs now: over libp2p, or through the daemon's gateway when it cannot dial.
    $('status-last').textContent =
      `${last === undefined ? '–' : `#${last.seq} in ${Math.round(last.ms)} ms, ${showSize(last.wireBytes)} (${last.path})`}` +
      ` over ${status.path}`
    renderPeers(peer.connectedPeers(), this.#init.writer)
  }
}
