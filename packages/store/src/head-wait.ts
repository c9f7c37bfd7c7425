// Waiting for a store's head to reach a sequence number: a replica that another holder moves
// (a follower's sync, another tab's node) resolves writes and `synced()` calls with this.
import type { Commit } from './commit.ts'
import type { Store } from './store.ts'

/**
 * Resolves with the store's head once it holds a commit with at least `seq`; rejects with
 * the abort reason when `signal` aborts.
 */
export async function headAtLeast(store: Store, seq: number, signal?: AbortSignal): Promise<Commit | null> {
  while ((store.head?.seq ?? 0) < seq) {
    signal?.throwIfAborted()
    await new Promise<void>((resolve) => {
      const off = store.onHead(() => {
        off()
        resolve()
      })
      signal?.addEventListener('abort', () => resolve(), { once: true })
      if ((store.head?.seq ?? 0) >= seq) resolve()
    })
  }
  return store.head
}
