// The key table: the store's keys in pages of 25, filtered by prefix or, with the toggle, by a
// substring anywhere in the key, with the number of keys (or matches) and pages. Prefix pages
// are read as asked for; a substring search scans the whole store in chunks (key-scan.ts), and
// new input cancels the scan running.
import type { TabFollower } from '@dagsync/browser'
import type { KeyInfo, StoreView } from '@dagsync/store'
import { $, cell, showKey, showSize } from './format.ts'
import { scanKeys } from './key-scan.ts'

export const PAGE_SIZE = 25

export interface KeyTableInit {
  readonly follower: TabFollower
  /** A row was clicked. */
  readonly onSelect: (key: string) => void
  /** The key selected, to mark its row. */
  readonly selected: () => string | undefined
  /** Whether a write to the key waits in the outbox, to mark its row. */
  readonly pending: (key: string) => boolean
  /** The rows of commit `seq` (0: none yet) are on screen. */
  readonly onRender?: (seq: number) => void
}

export class KeyTable {
  readonly #init: KeyTableInit
  #query = ''
  #substring = false
  /** Prefix mode: the last key of each page before the current one ("previous" pops it). */
  readonly #pageStarts: (string | undefined)[] = [undefined]
  /** Substring mode: the page shown (0-based), and the matches of the last finished scan. */
  #page = 0
  #matches: { readonly query: string; readonly seq: number; readonly keys: readonly KeyInfo[] } | undefined
  #scan = new AbortController()
  #rendering = Promise.resolve()
  #count: { readonly seq: number; readonly prefix: string; readonly total: number } | undefined
  #countsAsked = 0
  #counting: Promise<void> = Promise.resolve()

  constructor(init: KeyTableInit) {
    this.#init = init
    const search = $<HTMLInputElement>('search')
    const substring = $<HTMLInputElement>('search-substring')
    const restart = () => {
      this.#query = search.value
      this.#substring = substring.checked
      search.placeholder = this.#substring ? 'Search keys containing…' : 'Filter keys by prefix'
      this.#pageStarts.splice(0, this.#pageStarts.length, undefined)
      this.#page = 0
      this.#scan.abort(new Error('a newer search'))
      this.queue(new Set())
    }
    search.addEventListener('input', restart)
    substring.addEventListener('change', restart)
    $('next').addEventListener('click', () => {
      if (this.#substring) this.#page++
      else {
        const last = $('keys').querySelector<HTMLTableRowElement>('tbody tr:last-child')?.dataset.key
        if (last === undefined) return
        this.#pageStarts.push(last)
      }
      this.queue(new Set())
    })
    $('prev').addEventListener('click', () => {
      if (this.#substring) this.#page = Math.max(0, this.#page - 1)
      else if (this.#pageStarts.length > 1) this.#pageStarts.pop()
      this.queue(new Set())
    })
  }

  /** Renders again once the renders before it are done; `changed` rows flash. */
  queue(changed: Set<string>): void {
    this.#rendering = this.#rendering.then(() => this.#render(changed)).catch((err) => console.error(err))
  }

  /** Marks the selected row. */
  markSelected(key: string): void {
    for (const row of $('keys').querySelectorAll<HTMLTableRowElement>('tbody tr'))
      row.classList.toggle('selected', row.dataset.key === key)
  }

  async #render(changed: Set<string>): Promise<void> {
    const view = this.#init.follower.snapshot()
    const seq = view.seq
    let page: readonly KeyInfo[]
    let total: () => Promise<number>
    let pageNumber: number
    if (this.#substring && this.#query !== '') {
      const matches = await this.#matchesAt(view, seq)
      if (matches === undefined) return // a newer search took over
      this.#page = Math.min(this.#page, Math.max(0, Math.ceil(matches.length / PAGE_SIZE) - 1))
      page = matches.slice(this.#page * PAGE_SIZE, (this.#page + 1) * PAGE_SIZE)
      pageNumber = this.#page + 1
      total = async () => matches.length
    } else {
      const prefix = this.#substring ? '' : this.#query
      const start = this.#pageStarts.at(-1)
      const read: KeyInfo[] = []
      const range = { ...(prefix === '' ? {} : { prefix }), ...(start === undefined ? {} : { gt: start }) }
      for await (const info of view.keys({ ...range, limit: PAGE_SIZE })) read.push(info)
      page = read
      pageNumber = this.#pageStarts.length
      total = () => this.#countAt(view, prefix)
    }
    // The rows first: counting reads every key in the range.
    const body = $('keys').querySelector('tbody') as HTMLTableSectionElement
    body.replaceChildren(...page.map((info) => this.#row(info, changed)))
    body.dataset.seq = String(seq)
    this.#init.onRender?.(seq)
    this.#countLater(total, pageNumber)
  }

  /**
   * Shows the count once it is known, apart from the renders: a first count of a million keys
   * reads every node, and the next commit's rows must not wait for it. Counts run one at a
   * time; one that a newer render asked for again is not shown.
   */
  #countLater(total: () => Promise<number>, pageNumber: number): void {
    const asked = ++this.#countsAsked
    this.#counting = this.#counting
      .then(async () => {
        if (asked !== this.#countsAsked) return
        const n = await total()
        if (asked === this.#countsAsked) this.#showCount(n, pageNumber)
      })
      .catch((err) => console.error(err))
  }

  /** How many keys `view` holds under `prefix`: counted once per commit and prefix. */
  async #countAt(view: StoreView, prefix: string): Promise<number> {
    const known = this.#count
    if (known?.seq === view.seq && known.prefix === prefix) return known.total
    const total = await view.count(prefix === '' ? {} : { prefix })
    this.#count = { seq: view.seq, prefix, total }
    return total
  }

  #showCount(total: number, pageNumber: number): void {
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE))
    const one = total === 1
    const what =
      this.#query === ''
        ? one
          ? 'key'
          : 'keys'
        : this.#substring
          ? one
            ? 'key contains it'
            : 'keys contain it'
          : one
            ? 'key matches'
            : 'keys match'
    $('key-count').textContent = `${total.toLocaleString('en')} ${what} · page ${pageNumber} of ${pages}`
    $('key-count').dataset.total = String(total)
    $('page-info').textContent = total === 0 ? 'no keys' : `page ${pageNumber}`
    $<HTMLButtonElement>('prev').disabled = pageNumber === 1
    $<HTMLButtonElement>('next').disabled = pageNumber >= pages
  }

  /** The keys containing the query at `seq`: from the last scan if it is current, else a new scan. */
  async #matchesAt(view: StoreView, seq: number): Promise<readonly KeyInfo[] | undefined> {
    const query = this.#query
    if (this.#matches?.query === query && this.#matches.seq === seq) return this.#matches.keys
    const scan = new AbortController()
    this.#scan = scan
    const status = $('scan-status')
    try {
      const keys = await scanKeys(
        (range) => view.keys(range),
        (info) => showKey(info.key).includes(query),
        {
          signal: scan.signal,
          onProgress: (scanned, matched) => {
            status.textContent = `searching: ${scanned.toLocaleString('en')} keys read, ${matched.toLocaleString('en')} found`
          },
        },
      )
      status.textContent = ''
      this.#matches = { query, seq, keys }
      return keys
    } catch (err) {
      if (scan.signal.aborted) return undefined
      throw err
    }
  }

  #row(info: KeyInfo, changed: Set<string>): HTMLTableRowElement {
    const key = showKey(info.key)
    const row = document.createElement('tr')
    row.dataset.key = key
    row.append(cell(key), cell(info.type), cell(showSize(info.size)), cell(info.lastWrite.toLocaleString()))
    if (changed.has(key)) row.classList.add('changed')
    if (key === this.#init.selected()) row.classList.add('selected')
    if (this.#init.pending(key)) row.classList.add('pending')
    row.addEventListener('click', () => this.#init.onSelect(key))
    return row
  }
}
