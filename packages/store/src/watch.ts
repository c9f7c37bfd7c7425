// Watches: each commit's changed keys, queued for a consumer that reads them at its own pace.
// The queue is bounded, and a watch that cannot deliver every commit (its consumer fell too far
// behind, or a commit's changes could not be read) ends with an error naming the last commit it
// delivered, so the consumer can catch up with `store.diff` rather than silently miss commits.
import { type KeyInput, startsWith, toKey } from '@dagsync/tree'
import type { Commit } from './commit.ts'
import { WatchFailedError, WatchOverflowError, WatchTooLargeError } from './errors.ts'
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
  /**
   * The most keys one commit may change for the watch to list them (counted over the whole
   * store, whatever `prefix`). A commit that changes more ends the watch: once it has delivered
   * the events before it, it throws WatchTooLargeError (read that commit's changes with
   * `store.diff`, then watch again).
   * @default 10000
   */
  maxChanges?: number
}

/** A stream of commit events; `close` ends it. */
export interface Watch extends AsyncIterable<CommitEvent> {
  close(): void
}

/** Why a watch ends before its consumer closes it. */
type End =
  | { readonly kind: 'overflow' }
  | { readonly kind: 'too-large'; readonly commit: Commit }
  | { readonly kind: 'failed'; readonly cause: unknown }

/** Events a watch holds for its consumer unless told otherwise. */
export const DEFAULT_WATCH_QUEUE = 1024

/** Keys one commit may change for a watch to list them, unless told otherwise. */
export const DEFAULT_WATCH_CHANGES = 10_000

/** One watch: a queue of events and whoever is waiting on them. */
export class Watcher implements Watch {
  readonly #prefix: Uint8Array | undefined
  readonly #maxQueue: number
  readonly maxChanges: number
  readonly #onClose: () => void
  readonly #events: CommitEvent[] = []
  /** The last commit the consumer was given an event for; at first, the head the watch started at. */
  #last: Commit | null
  /** Why the watch ends early, thrown once the queued events are delivered. */
  #end: End | undefined
  #wake: (() => void) | null = null
  #closed = false

  constructor(
    prefix: KeyInput | undefined,
    start: Commit | null,
    options: { maxQueue?: number; maxChanges?: number },
    onClose: () => void,
  ) {
    const maxQueue = options.maxQueue ?? DEFAULT_WATCH_QUEUE
    if (!Number.isSafeInteger(maxQueue) || maxQueue < 1) {
      throw new RangeError(`maxQueue must be a positive integer, got ${maxQueue}`)
    }
    const maxChanges = options.maxChanges ?? DEFAULT_WATCH_CHANGES
    if (!Number.isSafeInteger(maxChanges) || maxChanges < 1) {
      throw new RangeError(`maxChanges must be a positive integer, got ${maxChanges}`)
    }
    this.#prefix = prefix === undefined ? undefined : toKey(prefix)
    this.#maxQueue = maxQueue
    this.maxChanges = maxChanges
    this.#last = start
    this.#onClose = onClose
  }

  /**
   * Queues the event of `commit`. `changes` is every key it changed, or undefined if it changed
   * more than the hub listed (more than this watch's maxChanges, or another watch's).
   */
  deliver(commit: Commit, changes: readonly KeyChange[] | undefined): void {
    if (this.#closed) return
    if (changes === undefined || changes.length > this.maxChanges) {
      this.#stop({ kind: 'too-large', commit })
      return
    }
    const matching =
      this.#prefix === undefined ? changes : changes.filter((c) => startsWith(toKey(c.key), this.#prefix as Uint8Array))
    if (matching.length === 0) return
    if (this.#events.length >= this.#maxQueue) {
      // Dropping this event silently would lose it; holding every event would hold unbounded memory.
      this.#stop({ kind: 'overflow' })
      return
    }
    this.#events.push({ commit, changes: matching })
    this.#wake?.()
  }

  /** Ends the watch because the changes of a commit could not be worked out. */
  fail(cause: unknown): void {
    if (!this.#closed) this.#stop({ kind: 'failed', cause })
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
    if (end.kind === 'overflow') {
      return new WatchOverflowError(
        `the watch fell more than ${this.#maxQueue} events behind and stopped after ${since}; read later changes with store.diff`,
        last,
      )
    }
    if (end.kind === 'too-large') {
      return new WatchTooLargeError(
        `commit ${end.commit.seq} changed more than ${this.maxChanges} keys, more than one watch event lists; the watch stopped after ${since}: read its changes with store.diff and watch again`,
        last,
        end.commit,
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
