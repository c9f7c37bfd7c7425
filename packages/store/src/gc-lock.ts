// The lock between garbage collection and the work that relies on blocks staying in storage.
//
// gc marks without the lock, then holds it exclusively to mark what moved meanwhile and to
// delete. Everything that finds blocks in storage and later makes them reachable holds the
// shared side from the first look to the head or pin that keeps them: a commit (its new nodes
// link to stored subtrees), a sync (it skips subtrees storage holds, then adopts a head over
// them), a pin (it pins what it found or fetched). So a sweep never runs between the look and
// the write that makes the blocks live.

/** Many shared holders or one exclusive holder; shared sections may nest. */
export class GcLock {
  #shared = 0
  /** Settles when the exclusive holder lets go; set while one holds the lock. */
  #held: Promise<void> | undefined
  readonly #queue: (() => void)[] = []

  /** Whether an exclusive section (a gc's sweep) holds the lock now. */
  get heldExclusively(): boolean {
    return this.#held !== undefined
  }

  /**
   * Runs `fn` while no gc sweeps. Waits only for a sweep that is running, never for one that
   * is waiting: a shared section may open another inside it (a sync's adopt commits) without a
   * waiting gc deadlocking them.
   */
  async shared<T>(fn: () => T | Promise<T>): Promise<T> {
    while (this.#held !== undefined) await this.#held
    this.#shared++
    try {
      return await fn()
    } finally {
      this.#shared--
      this.#grant()
    }
  }

  /**
   * Runs `fn` alone: once every shared section open now has closed, and with new ones waiting
   * until it is done. `onWait` is called if it has to wait for shared sections.
   */
  async withExclusive<T>(fn: () => T | Promise<T>, onWait?: () => void | Promise<void>): Promise<T> {
    let granted = false
    const turn = new Promise<void>((resolve) =>
      this.#queue.push(() => {
        granted = true
        resolve()
      }),
    )
    this.#grant()
    if (!granted) await onWait?.()
    await turn
    try {
      return await fn()
    } finally {
      const release = this.#release
      this.#held = undefined
      release()
      this.#grant()
    }
  }

  #release: () => void = () => {}

  /** Hands the lock to the next exclusive waiter once nothing holds it. */
  #grant(): void {
    if (this.#shared > 0 || this.#held !== undefined) return
    const next = this.#queue.shift()
    if (next === undefined) return
    // Taken at once, in this turn, so no shared section can open between grant and run.
    this.#held = new Promise<void>((resolve) => {
      this.#release = resolve
    })
    next()
  }
}
