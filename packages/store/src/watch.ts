// Watches: each commit's changed keys, queued for a consumer that reads them at its own pace.
// The queue is bounded, and a watch that cannot deliver every commit (its consumer fell too far
// behind, or a commit's changes could not be read) ends with an error naming the last commit it
// delivered, so the consumer can catch up with `store.diff` rather than silently miss commits.
import { type KeyInput, toKey } from '@dagsync/tree'
import type { Commit } from './commit.ts'
import { WatchFailedError, WatchOverflowError } from './errors.ts'
import type { KeyChange } from './view.ts'

/** The keys one commit changed, as a watch delivers them. */
export interface CommitEvent {
  readonly commit: Commit
  readonly changes: readonly KeyChange[]
}

export interface WatchOptions {
  /** Only keys with this prefix. */
  prefix?: KeyInput
  signal?: AbortSignal
  /**
   * How many events may wait for the consumer. One more ends the watch: once it has delivered
   * those, it throws WatchOverflowError.
   * @default 1024
   */
  maxQueue?: number
}

/** A stream of commit events; `close` ends it. */
export interface Watch extends AsyncIterable<CommitEvent> {
  close(): void
}

/** Why a watch ends before its consumer closes it. */
type End = { readonly overflow: true } | { readonly overflow: false; readonly cause: unknown }

/** Events a watch holds for its consumer unless told otherwise. */
export const DEFAULT_WATCH_QUEUE = 1024

/** One watch: a queue of events and whoever is waiting on them. */
export class Watcher implements Watch {
  readonly #prefix: Uint8Array | undefined
  readonly #maxQueue: number
  readonly #onClose: () => void
  readonly #events: CommitEvent[] = []
  /** The last commit the consumer was given an event for; at first, the head the watch started at. */
  #last: Commit | null
  /** Why the watch ends early, thrown once the queued events are delivered. */
  #end: End | undefined
  #wake: (() => void) | null = null
  #closed = false

  constructor(prefix: KeyInput | undefined, start: Commit | null, options: { maxQueue?: number }, onClose: () => void) {
    const maxQueue = options.maxQueue ?? DEFAULT_WATCH_QUEUE
    if (!Number.isSafeInteger(maxQueue) || maxQueue < 1) {
      throw new RangeError(`maxQueue must be a positive integer, got ${maxQueue}`)
    }
    this.#prefix = prefix === undefined ? undefined : toKey(prefix)
    this.#maxQueue = maxQueue
    this.#last = start
    this.#onClose = onClose
  }

  deliver(commit: Commit, changes: readonly KeyChange[]): void {
    if (this.#closed) return
    const matching =
      this.#prefix === undefined ? changes : changes.filter((c) => startsWith(toKey(c.key), this.#prefix as Uint8Array))
    if (matching.length === 0) return
    if (this.#events.length >= this.#maxQueue) {
      // Dropping this event silently would lose it; holding every event would hold unbounded memory.
      this.#stop({ overflow: true })
      return
    }
    this.#events.push({ commit, changes: matching })
    this.#wake?.()
  }

  /** Ends the watch because the changes of a commit could not be worked out. */
  fail(cause: unknown): void {
    if (!this.#closed) this.#stop({ overflow: false, cause })
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#onClose()
    this.#wake?.()
  }

  #stop(end: End): void {
    this.#end = end
    this.close()
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CommitEvent> {
    try {
      for (;;) {
        const event = this.#events.shift()
        if (event !== undefined) {
          this.#last = event.commit
          yield event
          continue
        }
        if (this.#end !== undefined) throw this.#error(this.#end)
        if (this.#closed) return
        await new Promise<void>((resolve) => {
          this.#wake = resolve
        })
        this.#wake = null
      }
    } finally {
      this.close()
    }
  }

  #error(end: End): Error {
    const last = this.#last
    const since = last === null ? 'the start' : `commit ${last.seq}`
    if (end.overflow) {
      return new WatchOverflowError(
        `the watch fell more than ${this.#maxQueue} events behind and stopped after ${since}; read later changes with store.diff`,
        last,
      )
    }
    const message = (end.cause as Error | undefined)?.message ?? String(end.cause)
    return new WatchFailedError(
      `the watch could not read the changes after ${since} (${message}); read them with store.diff`,
      last,
      { cause: end.cause },
    )
  }
}

function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false
  return true
}
