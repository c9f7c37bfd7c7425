// The selected key: its value (indented JSON), metadata, a delete button, and its history
// (key-history.ts).
import type { TabFollower } from '@dagsync/browser'
import { $, showSize, showValue } from './format.ts'
import { KeyHistoryView } from './key-history.ts'

export interface KeyDetailInit {
  readonly follower: TabFollower
  readonly cli: string
  readonly storeLabel: string
  /** The delete button was clicked for `key`. */
  readonly onDelete: (key: string) => void
}

export class KeyDetail {
  readonly #follower: TabFollower
  readonly #history: KeyHistoryView
  #key: string | undefined

  constructor(init: KeyDetailInit) {
    this.#follower = init.follower
    this.#history = new KeyHistoryView(init)
    $('delete').addEventListener('click', () => {
      if (this.#key !== undefined) init.onDelete(this.#key)
    })
  }

  get key(): string | undefined {
    return this.#key
  }

  async show(key: string): Promise<void> {
    this.#key = key
    $('detail-key').textContent = key
    const meta = await this.#follower.getMeta(key)
    const metaList = $('detail-meta')
    metaList.replaceChildren()
    $('delete').hidden = meta === undefined
    if (meta === undefined) {
      $('detail-value').textContent = '(deleted)'
    } else {
      for (const [term, text] of [
        ['type', meta.type],
        ['size', showSize(meta.size)],
        ['last write', meta.lastWrite.toLocaleString()],
      ] as const) {
        const dt = document.createElement('dt')
        dt.textContent = term
        const dd = document.createElement('dd')
        dd.textContent = text
        metaList.append(dt, dd)
      }
      $('detail-value').textContent =
        meta.type === 'binary' ? `(${showSize(meta.size)} of binary data)` : showValue(await this.#follower.get(key))
    }
    await this.#history.show(key)
  }
}
