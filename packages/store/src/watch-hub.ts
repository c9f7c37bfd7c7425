// A store's watches: each new head is turned into the keys every commit changed, and handed to
// every open watch in commit order.
import type { MerkleSearchTree } from '@dagsync/tree'
import type { Commit } from './commit.ts'
import { diffRoots, type KeyChange } from './view.ts'
import { type Watch, Watcher, type WatchOptions } from './watch.ts'

export class WatchHub {
  readonly #tree: MerkleSearchTree
  readonly #watchers = new Set<Watcher>()
  /** Settles once every head so far has been delivered. */
  #notified: Promise<void> = Promise.resolve()

  constructor(tree: MerkleSearchTree) {
    this.#tree = tree
  }

  /** A watch from `head` on (see Store.watch). */
  watch(head: Commit | null, options: WatchOptions): Watch {
    const watcher = new Watcher(options.prefix, head, options, () => this.#watchers.delete(watcher))
    this.#watchers.add(watcher)
    options.signal?.addEventListener('abort', () => watcher.close(), { once: true })
    return watcher
  }

  /** The head moved from `previous` through `commits`: queues their changes for the watches. */
  moved(previous: Commit | null, commits: readonly Commit[]): void {
    if (this.#watchers.size > 0) this.#notified = this.#notified.then(() => this.#notify(previous, commits))
  }

  /**
   * Tells watchers, in commit order, which keys each commit changed. If that cannot be worked
   * out, each watcher ends with the error: one that skipped a commit would mislead its consumer.
   */
  async #notify(previous: Commit | null, commits: readonly Commit[]): Promise<void> {
    let from = previous?.tree ?? this.#tree.emptyRoot
    try {
      for (const commit of commits) {
        // Listed up to the largest limit of the watches: a commit of a million keys (a first
        // sync, a bulk load) is not read whole into memory to be told to each.
        let limit = 0
        for (const watcher of this.#watchers) limit = Math.max(limit, watcher.maxChanges)
        let changes: KeyChange[] | undefined = []
        for await (const change of diffRoots(this.#tree, from, commit.tree)) {
          if (changes.length === limit) {
            changes = undefined
            break
          }
          changes.push(change)
        }
        from = commit.tree
        for (const watcher of this.#watchers) watcher.deliver(commit, changes)
      }
    } catch (err) {
      for (const watcher of this.#watchers) watcher.fail(err)
    }
  }

  /** Delivers what is queued, then ends every watch. */
  async close(): Promise<void> {
    await this.#notified
    for (const watcher of this.#watchers) watcher.close()
  }
}
