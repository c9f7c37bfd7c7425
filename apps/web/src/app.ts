// What the page shows and does: sync status, the keys in pages with a prefix filter, one key's
// value, metadata and history, live updates (changed rows flash), and writes through the outbox,
// shown pending until the writer accepts or rejects them.
import {
  type PendingWrite,
  type TabFollower,
  type TabPeer,
  WatchInterruptedError,
  type WriteOutcome,
} from '@dagsync/browser'
import * as dagJson from '@ipld/dag-json'

const PAGE_SIZE = 25
const HISTORY_DEPTH = 20

type StoreKey = string | Uint8Array

function $(id: string): HTMLElement {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`the page has no #${id}`)
  return element
}

function showKey(key: StoreKey): string {
  return typeof key === 'string' ? key : `0x${[...key].map((b) => b.toString(16).padStart(2, '0')).join('')}`
}

function showValue(value: unknown): string {
  if (value === undefined) return '(absent)'
  return JSON.stringify(JSON.parse(new TextDecoder().decode(dagJson.encode(value))), null, 2)
}

function showSize(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`
}

function cell(text: string): HTMLTableCellElement {
  const td = document.createElement('td')
  td.textContent = text
  return td
}

export interface AppInit {
  readonly peer: TabPeer
  readonly follower: TabFollower
  /** The daemon's address, as shown. */
  readonly daemon: string
  readonly storeLabel: string
  /** How to run the CLI on the daemon's repo, so a hint runs as shown. */
  readonly cli: string
}

export class App {
  readonly #peer: TabPeer
  readonly #follower: TabFollower
  readonly #init: AppInit
  #prefix = ''
  /** The last key of each page before the current one: "previous" pops it. */
  readonly #pageStarts: (string | undefined)[] = [undefined]
  #selected: string | undefined
  #rendering = Promise.resolve()
  /** How the writes this page saw end ended, newest last, by outbox id. */
  readonly #outcomes = new Map<string, { readonly write: PendingWrite | undefined; readonly outcome: WriteOutcome }>()
  /** The writes waiting in the outbox, as last listed. */
  #pending: PendingWrite[] = []

  constructor(init: AppInit) {
    this.#init = init
    this.#peer = init.peer
    this.#follower = init.follower
  }

  async start(): Promise<void> {
    $('store-name').textContent = this.#init.storeLabel
    $('status-daemon').textContent = this.#init.daemon
    this.#wire()
    this.#renderStatus()
    this.#follower.onSettled((outcome) => {
      this.#outcomes.set(outcome.id, { write: this.#pending.find((w) => w.id === outcome.id), outcome })
      void this.#renderOutbox()
    })
    // Other tabs' writes join the outbox too: list it again now and then.
    setInterval(() => {
      this.#renderStatus()
      void this.#renderOutbox()
    }, 500)
    await this.#renderOutbox()
    await this.#renderKeys(new Set())
    void this.#watch()
  }

  #wire(): void {
    const prefix = $('prefix') as HTMLInputElement
    prefix.addEventListener('input', () => {
      this.#prefix = prefix.value
      this.#pageStarts.splice(0, this.#pageStarts.length, undefined)
      this.#queueRender(new Set())
    })
    $('next').addEventListener('click', () => {
      const last = $('keys').querySelector<HTMLTableRowElement>('tbody tr:last-child')?.dataset.key
      if (last === undefined) return
      this.#pageStarts.push(last)
      this.#queueRender(new Set())
    })
    $('prev').addEventListener('click', () => {
      if (this.#pageStarts.length > 1) this.#pageStarts.pop()
      this.#queueRender(new Set())
    })
    $('write-form').addEventListener('submit', (event) => {
      event.preventDefault()
      void this.#write()
    })
  }

  /**
   * Re-renders after the changes of each new commit, flashing the rows that changed. A watch that
   * ends because the page fell behind (or a diff failed) is started again after a full render:
   * the page then shows the head as it is, whatever it missed.
   */
  async #watch(): Promise<void> {
    for (;;) {
      try {
        for await (const event of this.#follower.watch()) {
          const changed = new Set(event.changes.map((c) => showKey(c.key)))
          this.#queueRender(changed)
          if (this.#selected !== undefined && changed.has(this.#selected)) void this.#renderDetail(this.#selected)
        }
        return
      } catch (err) {
        if (!(err instanceof WatchInterruptedError)) throw err
        console.warn(`the live view restarts: ${err.message}`)
        this.#queueRender(new Set())
      }
    }
  }

  #queueRender(changed: Set<string>): void {
    this.#rendering = this.#rendering.then(() => this.#renderKeys(changed)).catch((err) => console.error(err))
  }

  #renderStatus(): void {
    const status = this.#follower.status()
    const peers = this.#peer.connections()
    $('status-peer').textContent = this.#peer.peerId ?? '–'
    $('status-node').textContent = this.#peer.node === undefined ? 'another tab' : 'this tab'
    const badge = $('connection')
    const state = peers === 0 ? 'offline' : status.syncing ? 'syncing' : 'online'
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
  }

  async #renderKeys(changed: Set<string>): Promise<void> {
    const start = this.#pageStarts.at(-1)
    const rows: HTMLTableRowElement[] = []
    let more = false
    const range = {
      ...(this.#prefix === '' ? {} : { prefix: this.#prefix }),
      ...(start === undefined ? {} : { gt: start }),
      limit: PAGE_SIZE + 1,
    }
    for await (const info of this.#follower.keys(range)) {
      if (rows.length === PAGE_SIZE) {
        more = true
        break
      }
      const key = showKey(info.key)
      const row = document.createElement('tr')
      row.dataset.key = key
      row.append(cell(key), cell(info.type), cell(showSize(info.size)), cell(info.lastWrite.toLocaleString()))
      if (changed.has(key)) row.classList.add('changed')
      if (key === this.#selected) row.classList.add('selected')
      if (this.#pending.some((w) => w.ops.some((op) => showKey(op.key) === key))) row.classList.add('pending')
      row.addEventListener('click', () => void this.#renderDetail(key))
      rows.push(row)
    }
    const body = $('keys').querySelector('tbody') as HTMLTableSectionElement
    body.replaceChildren(...rows)
    body.dataset.seq = String(this.#follower.head?.seq ?? 0)
    const page = this.#pageStarts.length
    $('page-info').textContent = rows.length === 0 ? 'no keys' : `page ${page}`
    ;($('prev') as HTMLButtonElement).disabled = page === 1
    ;($('next') as HTMLButtonElement).disabled = !more
  }

  async #renderDetail(key: string): Promise<void> {
    this.#selected = key
    for (const row of $('keys').querySelectorAll<HTMLTableRowElement>('tbody tr'))
      row.classList.toggle('selected', row.dataset.key === key)
    $('detail-key').textContent = key
    const meta = await this.#follower.getMeta(key)
    const metaList = $('detail-meta')
    metaList.replaceChildren()
    if (meta === undefined) {
      $('detail-value').textContent = '(deleted)'
    } else {
      for (const [term, text] of [
        ['type', meta.type],
        ['size', showSize(meta.size)],
        ['last write', meta.lastWrite.toLocaleString()],
      ]) {
        const dt = document.createElement('dt')
        dt.textContent = term as string
        const dd = document.createElement('dd')
        dd.textContent = text as string
        metaList.append(dt, dd)
      }
      $('detail-value').textContent =
        meta.type === 'binary' ? `(${showSize(meta.size)} of binary data)` : showValue(await this.#follower.get(key))
    }
    await this.#renderHistory(key)
  }

  /** The key's values in the last commits, one line per change. */
  async #renderHistory(key: string): Promise<void> {
    const items: HTMLLIElement[] = []
    let newer: string | undefined
    let newerSeq = 0
    const store = this.#follower.store
    for await (const commit of store.log({ limit: HISTORY_DEPTH })) {
      const view = await store.at(commit.cid).catch(() => undefined)
      if (view === undefined) break // older versions are not kept here
      const value = showValue(await view.get(key))
      if (newer !== undefined && value !== newer) items.push(this.#historyItem(newerSeq, newer))
      newer = value
      newerSeq = commit.seq
    }
    if (newer !== undefined && newer !== '(absent)') items.push(this.#historyItem(newerSeq, newer))
    $('history').replaceChildren(...items)
  }

  #historyItem(seq: number, value: string): HTMLLIElement {
    const li = document.createElement('li')
    li.textContent = `#${seq}: ${value.replace(/\s+/g, ' ')}`
    return li
  }

  /** The outbox's writes (pending) and the outcomes this page was told of, oldest first. */
  async #renderOutbox(): Promise<void> {
    const before = this.#pending.map((w) => w.id).join()
    this.#pending = await this.#follower.pending()
    const items: HTMLLIElement[] = []
    for (const { write, outcome } of this.#outcomes.values()) {
      const text =
        outcome.status === 'accepted'
          ? outcome.seq === 0
            ? 'accepted, changed nothing'
            : `accepted: commit #${outcome.seq}`
          : `rejected (${outcome.code}): ${outcome.reason}`
      items.push(this.#outboxItem(outcome.id, write, outcome.status, text))
    }
    for (const write of this.#pending) items.push(this.#outboxItem(write.id, write, 'pending', 'pending'))
    $('outbox').replaceChildren(...items)
    if (this.#pending.map((w) => w.id).join() !== before) this.#queueRender(new Set())
  }

  #outboxItem(id: string, write: PendingWrite | undefined, state: string, text: string): HTMLLIElement {
    const li = document.createElement('li')
    li.dataset.id = id
    li.dataset.state = state
    const what = write?.ops.map((op) => `${op.op} ${showKey(op.key)}`).join(', ') ?? 'a write'
    li.textContent = `${what}${write?.ifMatch === undefined ? '' : ' (if unchanged)'}: ${text}`
    return li
  }

  async #write(): Promise<void> {
    const key = ($('write-key') as HTMLInputElement).value.trim()
    const text = ($('write-value') as HTMLTextAreaElement).value
    const ifUnchanged = ($('write-if-match') as HTMLInputElement).checked
    const message = $('write-message')
    message.dataset.state = 'pending'
    message.textContent = 'writing…'
    let value: unknown
    try {
      value = dagJson.decode(new TextEncoder().encode(text))
    } catch {
      message.dataset.state = 'error'
      message.textContent = 'The value is not JSON. Quote text: "like this".'
      return
    }
    // Based on the value this page holds for the key: a write made offline from an old copy is
    // refused rather than overwriting what was written since.
    const ifMatch = ifUnchanged ? { key, value: await this.#follower.get(key) } : undefined
    const write = await this.#follower.queue([{ op: 'put', key, value }], ifMatch === undefined ? {} : { ifMatch })
    const settled = this.#follower.settled(write.id)
    if (this.#peer.connections() === 0)
      message.textContent = 'pending: it is kept in this browser and sent once the writer is reachable'
    await this.#renderOutbox()
    const outcome = await settled
    if (outcome.status === 'accepted') {
      message.dataset.state = 'ok'
      message.textContent = outcome.seq === 0 ? `${key} already had this value` : `written: commit #${outcome.seq}`
      return
    }
    message.dataset.state = 'error'
    message.textContent =
      outcome.code === 'unauthorized'
        ? `This browser may not write to this store. On the daemon, run: ${this.#init.cli} store allow ${this.#init.storeLabel} ${this.#peer.peerId ?? ''}`
        : `The write was refused: ${outcome.reason}`
  }
}
