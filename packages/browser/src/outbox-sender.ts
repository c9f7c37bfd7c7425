// Sends the outbox to the writers, from the node's tab: oldest write first, one at a time, and
// stops at the first one no writer could be reached for (it and those after it wait for the next
// try), so writes reach each writer in the order they were made.
import { type Follower, RemoteWriteError } from '@dagsync/peer'
import type { Outbox, WriteOutcome } from './outbox.ts'
import { errorToWire } from './tab-messages.ts'

/**
 * Whether a write failed for want of a writer (no peer, the connection failed, a timeout)
 * rather than because the writer refused it: such a write is kept and sent again.
 */
function unreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return true
  if (err instanceof RemoteWriteError) return err.cause !== undefined || err.message.startsWith('no connected peer')
  const { code } = errorToWire(err)
  return code === 'failed'
}

export class OutboxSender {
  readonly #outbox: Outbox
  readonly #follow: (store: string) => Promise<Follower>
  readonly #settled: (outcome: WriteOutcome) => void
  #running: Promise<void> | null = null
  #again = false

  constructor(outbox: Outbox, follow: (store: string) => Promise<Follower>, settled: (outcome: WriteOutcome) => void) {
    this.#outbox = outbox
    this.#follow = follow
    this.#settled = settled
  }

  /** Sends what the outbox holds, now or right after the send under way. */
  kick(): void {
    if (this.#running !== null) {
      this.#again = true
      return
    }
    this.#running = this.#send()
      .catch((err) => console.error('sending the outbox failed', err))
      .finally(() => {
        this.#running = null
        if (this.#again) {
          this.#again = false
          this.kick()
        }
      })
  }

  async #send(): Promise<void> {
    for (const write of await this.#outbox.list()) {
      const follower = await this.#follow(write.store)
      let outcome: WriteOutcome
      try {
        // Its id goes along: sent again after a lost answer, the writer applies it once.
        const { commit } = await follower.transact(write.ops, {
          writeId: write.id,
          ...(write.ifMatch === undefined ? {} : { ifMatch: write.ifMatch }),
        })
        outcome = { id: write.id, store: write.store, status: 'accepted', seq: commit?.seq ?? 0 }
      } catch (err) {
        if (unreachable(err)) return
        const { code, message } = errorToWire(err)
        outcome = { id: write.id, store: write.store, status: 'rejected', code, reason: message }
      }
      await this.#outbox.remove(write.id)
      this.#settled(outcome)
    }
  }
}
