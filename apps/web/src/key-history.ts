// A key's history, newest first, 20 commits at a time ("older" reads the next 20): each entry
// says what the commit did to the key (created, changed, deleted), the commit (seq and short
// CID), its author (the peer whose write it was, as the commit's metadata records it), its time
// and the value it left. Where this browser's replica holds no older commits, the list says so
// and fetches older commits on request (Follower.fetchOlder: each with the few nodes it changed),
// or gives the command that lists the rest on the daemon.
import type { TabFollower } from '@dagsync/browser'
import { type KeyHistoryEnd, type KeyHistoryEntry, keyHistory } from '@dagsync/store'
import { $, shortCid, showInline, showSize } from './format.ts'

export const HISTORY_PAGE = 20

/** Rounds of HISTORY_PAGE commits one click of "Fetch older commits" fetches at most. */
const FETCH_ROUNDS = 10

const LABEL = { added: 'created', changed: 'changed', removed: 'deleted' } as const

export interface KeyHistoryInit {
  readonly follower: TabFollower
  /** How to run the CLI on the daemon's repo, and the store's name there, for the hint. */
  readonly cli: string
  readonly storeLabel: string
}

export class KeyHistoryView {
  readonly #init: KeyHistoryInit
  #walk: { readonly key: string; readonly entries: AsyncGenerator<KeyHistoryEntry, KeyHistoryEnd> } | undefined
  /** Whether the last walk ended where this browser's history does, not at the first commit. */
  #incomplete = false

  constructor(init: KeyHistoryInit) {
    this.#init = init
    $('history-older').addEventListener('click', () => void this.#more(HISTORY_PAGE))
    $('history-fetch').addEventListener('click', () => void this.#fetchOlder())
  }

  /** Shows the newest page of `key`'s history. */
  async show(key: string, entries = HISTORY_PAGE): Promise<void> {
    void this.#walk?.entries.return({ complete: false })
    this.#walk = { key, entries: keyHistory(this.#init.follower.store, key) }
    $('history').replaceChildren()
    $('history-end').textContent = ''
    $('history-fetch').hidden = true
    await this.#more(entries)
  }

  async #more(entries: number): Promise<void> {
    const walk = this.#walk
    if (walk === undefined) return
    const older = $<HTMLButtonElement>('history-older')
    older.disabled = true
    for (let i = 0; i < entries; i++) {
      const next = await walk.entries.next()
      if (this.#walk !== walk) return // another key was selected meanwhile
      if (next.done === true) {
        older.hidden = true
        this.#incomplete = !next.value.complete
        $('history-fetch').hidden = next.value.complete
        $('history-end').textContent = next.value.complete
          ? ''
          : `Older commits are not held in this browser (it synced past them). On the daemon, ${this.#hint(walk.key)} lists them all.`
        return
      }
      $('history').append(await this.#item(walk.key, next.value))
    }
    older.hidden = false
    older.disabled = false
  }

  /**
   * Fetches older commits, a page's worth at a time, until the list can show a page more or
   * the store's first commit is held, then lists the history again (the oldest entry shown may
   * change its label: held alone it could only say "changed").
   */
  async #fetchOlder(): Promise<void> {
    const walk = this.#walk
    if (walk === undefined) return
    const button = $<HTMLButtonElement>('history-fetch')
    button.disabled = true
    const want = $('history').children.length + HISTORY_PAGE
    try {
      // At most FETCH_ROUNDS rounds a click: a key that changed rarely may lie far back.
      for (let round = 0; round < FETCH_ROUNDS; round++) {
        $('history-end').textContent = 'Fetching older commits…'
        const added = await this.#init.follower.fetchOlder(HISTORY_PAGE)
        if (this.#walk !== walk) return
        await this.show(walk.key, want)
        if (added === 0 || !this.#incomplete || $('history').children.length >= want) return
      }
    } catch (err) {
      $('history-end').textContent =
        `Could not fetch older commits (${(err as Error).message}). On the daemon, ${this.#hint(walk.key)} lists them all.`
    } finally {
      button.disabled = false
    }
  }

  #hint(key: string): string {
    return `${this.#init.cli} log ${this.#init.storeLabel} --key ${key}`
  }

  async #item(key: string, { commit, change }: KeyHistoryEntry): Promise<HTMLLIElement> {
    const li = document.createElement('li')
    li.dataset.change = change
    li.dataset.seq = String(commit.seq)
    const by = (commit.meta as { by?: unknown } | undefined)?.by
    const author = typeof by === 'string' ? by : '–'
    const head = document.createElement('div')
    head.className = 'history-head'
    head.textContent = `${LABEL[change]} in #${commit.seq} ${shortCid(commit.cid)} by ${author}, ${new Date(commit.time).toLocaleString()}`
    const value = document.createElement('div')
    value.className = 'history-value'
    if (change === 'removed') value.textContent = '(deleted)'
    else {
      const view = await this.#init.follower.store.at(commit.cid)
      const meta = await view.getMeta(key)
      value.textContent =
        meta?.type === 'binary' ? `(${showSize(meta.size)} of binary data)` : showInline(await view.get(key))
    }
    li.append(head, value)
    return li
  }
}
