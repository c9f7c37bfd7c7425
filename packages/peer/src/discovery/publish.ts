// A writer's side of the DHT: each new head of a served store goes into the DHT as the store's
// announcement (an IPNS record) and as a provider record of its commit. One publication runs at a
// time per store; heads that arrive meanwhile collapse into the newest, so a burst of commits
// costs one DHT walk after the one under way (providing walks the network: it is expensive).
import type { ContentRouting } from '@libp2p/interface'
import type { Logger } from '@libp2p/logger'
import type { CID } from 'multiformats/cid'
import type { Announcement } from '../announcement.ts'

interface Slot {
  running: Promise<void>
  next: Announcement | undefined
}

export class DhtPublisher {
  readonly #routing: ContentRouting
  readonly #log: Logger
  readonly #slots = new Map<string, Slot>()
  /** The commit each store's last publication provided, whose reproviding stops at the next. */
  readonly #provided = new Map<string, CID>()
  readonly #signal: AbortSignal

  constructor(routing: ContentRouting, log: Logger, signal: AbortSignal) {
    this.#routing = routing
    this.#log = log
    this.#signal = signal
  }

  /** Puts `announcement` under `routingKey` and provides its commit, after any publication under way. */
  publish(id: string, routingKey: Uint8Array, announcement: Announcement): void {
    const slot = this.#slots.get(id)
    if (slot !== undefined) {
      if (slot.next === undefined || announcement.seq >= slot.next.seq) slot.next = announcement
      return
    }
    const fresh: Slot = { running: Promise.resolve(), next: announcement }
    this.#slots.set(id, fresh)
    fresh.running = this.#drain(id, routingKey, fresh)
  }

  /** Resolves once no publication of `id` is running or waiting. */
  async settled(id: string): Promise<void> {
    await this.#slots.get(id)?.running
  }

  async #drain(id: string, routingKey: Uint8Array, slot: Slot): Promise<void> {
    while (slot.next !== undefined && !this.#signal.aborted) {
      const announcement = slot.next
      slot.next = undefined
      try {
        await this.#routing.put(routingKey, announcement.bytes, { signal: this.#signal })
        await this.#routing.provide(announcement.commit, { signal: this.#signal })
        // Only the head is worth reproviding: readers look for the commit the record names.
        const previous = this.#provided.get(id)
        this.#provided.set(id, announcement.commit)
        if (previous !== undefined && !previous.equals(announcement.commit)) {
          await this.#routing.cancelReprovide(previous, { signal: this.#signal })
        }
      } catch (err) {
        // Cut short by the node stopping: nothing went wrong.
        if (this.#signal.aborted) break
        this.#log.error('DHT publish of %s (seq %d) failed: %s', id, announcement.seq, (err as Error).message)
      }
    }
    this.#slots.delete(id)
  }
}
