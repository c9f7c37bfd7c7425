// Remote writes applied once. A reader that sent a write and lost the answer (a timeout, a
// dropped connection, a browser tab that closed) cannot tell whether the writer made it, so it
// sends it again with the same write id; the writer answers that with the commit that applied it
// instead of applying it twice (a write based on `ifMatch` would then be refused, though made).
// The commit's metadata records the write (`by`, `write`), so the answers survive a restart.
import type { Commit, Store } from '@dagsync/store'

/** The longest write id the writer takes (the outbox's are 30-40 characters). */
export const MAX_WRITE_ID_LENGTH = 128

export interface AppliedWritesOptions {
  /** How many applied writes are remembered in memory, newest kept (default 10,000). */
  readonly remember?: number
  /** How many commits back the history is read, once, to remember writes made before a restart (default 1,000). */
  readonly scanCommits?: number
}

/** What a write came to: its commit (null if it changed nothing), and whether it had been applied before. */
export interface AppliedWrite {
  readonly commit: Commit | null
  readonly repeated: boolean
}

export class AppliedWrites {
  readonly #store: Store
  readonly #remember: number
  readonly #scanCommits: number
  /** `peer/write id` → its commit, oldest first (a Map keeps insertion order). */
  readonly #applied = new Map<string, Commit>()
  /** Writes being applied now: a copy that arrives meanwhile waits for the first. */
  readonly #inFlight = new Map<string, Promise<AppliedWrite>>()
  #scanned: Promise<void> | null = null

  constructor(store: Store, options: AppliedWritesOptions = {}) {
    this.#store = store
    this.#remember = options.remember ?? 10_000
    this.#scanCommits = options.scanCommits ?? 1_000
  }

  /**
   * Applies the write `id` of `peer` with `apply` (which must record `{by: peer, write: id}` in
   * its commit's metadata), unless it was applied before or is being applied now: then answers
   * with that commit.
   */
  once(peer: string, id: string, apply: () => Promise<Commit | null>): Promise<AppliedWrite> {
    const key = `${peer}/${id}`
    const running = this.#inFlight.get(key)
    if (running !== undefined) return running.then((done) => ({ ...done, repeated: true }))
    const applying = this.#applyOnce(key, apply).finally(() => this.#inFlight.delete(key))
    this.#inFlight.set(key, applying)
    return applying
  }

  async #applyOnce(key: string, apply: () => Promise<Commit | null>): Promise<AppliedWrite> {
    this.#scanned ??= this.#scanHistory()
    await this.#scanned
    const before = this.#applied.get(key)
    if (before !== undefined) return { commit: before, repeated: true }
    const commit = await apply()
    if (commit !== null) this.#add(key, commit)
    return { commit, repeated: false }
  }

  /** Remembers the writes of the last commits, oldest first so that the newest are kept. */
  async #scanHistory(): Promise<void> {
    const found: [string, Commit][] = []
    for await (const commit of this.#store.log({ limit: this.#scanCommits })) {
      const { by, write } = commit.meta ?? {}
      if (typeof by === 'string' && typeof write === 'string') found.push([`${by}/${write}`, commit])
    }
    for (const [key, commit] of found.reverse()) if (!this.#applied.has(key)) this.#add(key, commit)
  }

  #add(key: string, commit: Commit): void {
    this.#applied.set(key, commit)
    if (this.#applied.size <= this.#remember) return
    const oldest = this.#applied.keys().next()
    if (!oldest.done) this.#applied.delete(oldest.value)
  }
}
