// The diff view: pick two commits this browser holds (newest first) and see the keys added,
// changed and removed between them, with the old and the new value.
import type { TabFollower } from '@dagsync/browser'
import type { KeyInfo } from '@dagsync/store'
import { $, cell, shortCid, showInline, showKey, showSize } from './format.ts'

function valueText(value: unknown, info: KeyInfo | undefined): string {
  return info?.type === 'binary' ? `(${showSize(info.size)} of binary data)` : showInline(value)
}

/** Commits offered in the pickers, newest first. */
const COMMITS_LISTED = 200
/** Changes shown at most: a large diff says how many more there are. */
const ROWS_SHOWN = 500

export class DiffView {
  readonly #follower: TabFollower
  /** Whether the user picked a commit: until then the pickers follow the two newest. */
  #picked = false
  /** The commits listed, newest first. */
  #options: HTMLOptionElement[] = []
  #listing = Promise.resolve()

  constructor(follower: TabFollower) {
    this.#follower = follower
    for (const id of ['diff-from', 'diff-to']) $(id).addEventListener('change', () => (this.#picked = true))
    $('diff-form').addEventListener('submit', (event) => {
      event.preventDefault()
      void this.#show()
    })
  }

  /**
   * Lists the commits held (again, after a new one), keeping what the user picked if still
   * there. Only commits newer than those listed are read; calls run one after another.
   */
  listCommits(): Promise<void> {
    this.#listing = this.#listing.then(() => this.#list()).catch((err) => console.error(err))
    return this.#listing
  }

  async #list(): Promise<void> {
    const newest = Number(this.#options[0]?.value ?? 0)
    const added: HTMLOptionElement[] = []
    for await (const commit of this.#follower.store.log({ limit: COMMITS_LISTED })) {
      if (commit.seq <= newest) break
      const option = document.createElement('option')
      option.value = String(commit.seq)
      option.textContent = `#${commit.seq} ${shortCid(commit.cid)} ${new Date(commit.time).toLocaleString()}`
      added.push(option)
    }
    if (added.length === 0 && this.#options.length > 0) return
    this.#options = [...added, ...this.#options].slice(0, COMMITS_LISTED)
    const options = this.#options
    for (const [id, index] of [
      ['diff-from', 1],
      ['diff-to', 0],
    ] as const) {
      const select = $<HTMLSelectElement>(id)
      const picked = select.value
      select.replaceChildren(...options.map((o) => o.cloneNode(true) as HTMLOptionElement))
      const keep = this.#picked && options.some((o) => o.value === picked)
      select.value = keep ? picked : (options[Math.min(index, options.length - 1)]?.value ?? '')
    }
    $<HTMLButtonElement>('diff-show').disabled = options.length === 0
  }

  async #show(): Promise<void> {
    const from = $<HTMLSelectElement>('diff-from')
    const to = $<HTMLSelectElement>('diff-to')
    const a = await this.#follower.store.at(Number(from.value))
    const b = await this.#follower.store.at(Number(to.value))
    const rows: HTMLTableRowElement[] = []
    const counts = { added: 0, changed: 0, removed: 0 }
    for await (const change of this.#follower.diff(a, b)) {
      const kind = change.beforeInfo === undefined ? 'added' : change.afterInfo === undefined ? 'removed' : 'changed'
      counts[kind]++
      if (rows.length >= ROWS_SHOWN) continue
      const row = document.createElement('tr')
      row.dataset.change = kind
      row.dataset.key = showKey(change.key)
      const values =
        kind === 'added'
          ? valueText(change.after, change.afterInfo)
          : kind === 'removed'
            ? valueText(change.before, change.beforeInfo)
            : `${valueText(change.before, change.beforeInfo)} → ${valueText(change.after, change.afterInfo)}`
      row.append(cell(kind === 'added' ? '+' : kind === 'removed' ? '−' : '~'), cell(showKey(change.key)), cell(values))
      rows.push(row)
    }
    $('diff-table')
      .querySelector('tbody')
      ?.replaceChildren(...rows)
    const total = counts.added + counts.changed + counts.removed
    $('diff-summary').textContent =
      `#${a.seq} → #${b.seq}: ${counts.added} added, ${counts.changed} changed, ${counts.removed} removed` +
      (total > rows.length ? ` (the first ${rows.length} shown)` : '')
  }
}
