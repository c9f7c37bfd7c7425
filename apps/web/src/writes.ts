// Writes from the page: the write form (a key and a value from the JSON editor) and the delete
// button both go through the outbox, kept in this browser until the writer answers. The outbox
// list shows each write pending, then accepted with its commit or rejected with the reason.
import type { PendingWrite, TabFollower, TabPeer, WriteOp, WriteOutcome } from '@dagsync/browser'
import { $, showKey } from './format.ts'
import { JsonEditor } from './json-editor.ts'

export interface WritesInit {
  readonly peer: TabPeer
  readonly follower: TabFollower
  readonly cli: string
  readonly storeLabel: string
  /** The outbox changed (rows of keys with a pending write are marked). */
  readonly onPendingChange: () => void
}

export class Writes {
  readonly #init: WritesInit
  readonly #editor = new JsonEditor()
  /** How the writes this page saw end ended, newest last, by outbox id. */
  readonly #outcomes = new Map<string, { readonly write: PendingWrite | undefined; readonly outcome: WriteOutcome }>()
  /** The writes waiting in the outbox, as last listed. */
  #pending: PendingWrite[] = []

  constructor(init: WritesInit) {
    this.#init = init
    $('write-form').addEventListener('submit', (event) => {
      event.preventDefault()
      void this.#write()
    })
    init.follower.onSettled((outcome) => {
      this.#outcomes.set(outcome.id, { write: this.#pending.find((w) => w.id === outcome.id), outcome })
      void this.render()
    })
  }

  /** Whether a write to `key` waits in the outbox. */
  pending(key: string): boolean {
    return this.#pending.some((w) => w.ops.some((op) => showKey(op.key) === key))
  }

  /** Deletes `key`, through the outbox. */
  async delete(key: string): Promise<void> {
    await this.#send([{ op: 'delete', key }], undefined, { done: `deleted ${key}`, same: `${key} was already absent` })
  }

  /** The outbox's writes (pending) and the outcomes this page was told of, oldest first. */
  async render(): Promise<void> {
    const before = this.#pending.map((w) => w.id).join()
    this.#pending = await this.#init.follower.pending()
    const items: HTMLLIElement[] = []
    for (const { write, outcome } of this.#outcomes.values()) {
      const text =
        outcome.status === 'accepted'
          ? outcome.seq === 0
            ? 'accepted, changed nothing'
            : `accepted: commit #${outcome.seq}`
          : `rejected (${outcome.code}): ${outcome.reason}`
      items.push(this.#item(outcome.id, write, outcome.status, text))
    }
    for (const write of this.#pending) items.push(this.#item(write.id, write, 'pending', 'pending'))
    $('outbox').replaceChildren(...items)
    if (this.#pending.map((w) => w.id).join() !== before) this.#init.onPendingChange()
  }

  #item(id: string, write: PendingWrite | undefined, state: string, text: string): HTMLLIElement {
    const li = document.createElement('li')
    li.dataset.id = id
    li.dataset.state = state
    const what = write?.ops.map((op) => `${op.op} ${showKey(op.key)}`).join(', ') ?? 'a write'
    li.textContent = `${what}${write?.ifMatch === undefined ? '' : ' (if unchanged)'}: ${text}`
    return li
  }

  async #write(): Promise<void> {
    const key = $<HTMLInputElement>('write-key').value.trim()
    const check = this.#editor.check
    if (!check.ok) return // the button is disabled until the value is valid
    // Based on the value this page holds for the key: a write made offline from an old copy is
    // refused rather than overwriting what was written since.
    const ifMatch = $<HTMLInputElement>('write-if-match').checked
      ? { key, value: await this.#init.follower.get(key) }
      : undefined
    await this.#send([{ op: 'put', key, value: check.value }], ifMatch, {
      done: 'written',
      same: `${key} already had this value`,
    })
  }

  async #send(
    ops: WriteOp[],
    ifMatch: { key: string; value: unknown } | undefined,
    says: { readonly done: string; readonly same: string },
  ): Promise<void> {
    const { follower, peer } = this.#init
    const message = $('write-message')
    message.dataset.state = 'pending'
    message.textContent = 'writing…'
    const write = await follower.queue(ops, ifMatch === undefined ? {} : { ifMatch })
    const settled = follower.settled(write.id)
    if (peer.connections() === 0)
      message.textContent = 'pending: it is kept in this browser and sent once the writer is reachable'
    await this.render()
    const outcome = await settled
    if (outcome.status === 'accepted') {
      message.dataset.state = 'ok'
      message.textContent = outcome.seq === 0 ? says.same : `${says.done}: commit #${outcome.seq}`
      return
    }
    message.dataset.state = 'error'
    message.textContent =
      outcome.code === 'unauthorized'
        ? `This browser may not write to this store. On the daemon, run: ${this.#init.cli} store allow ${this.#init.storeLabel} ${peer.peerId ?? ''}`
        : `The write was refused: ${outcome.reason}`
  }
}
