// One key's history: the commits, newest first, that added, changed or removed it. Each commit's
// tree entry for the key is compared with its parent's (value reference and metadata), so it costs
// one lookup per retained commit and reads no values. It runs wherever a store does: the daemon's
// `log --key` and the web app's key history both read it.
import { type StoredEntry, sameStoredValue } from '@dagsync/tree'
import type { Commit } from './commit.ts'
import type { Store } from './store.ts'

export type KeyChangeKind = 'added' | 'changed' | 'removed'

export interface KeyHistoryEntry {
  readonly commit: Commit
  readonly change: KeyChangeKind
}

/** How the walk ended: `complete` when it reached the store's first commit, not collected history. */
export interface KeyHistoryEnd {
  readonly complete: boolean
}

function sameEntry(a: StoredEntry | undefined, b: StoredEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return sameStoredValue(a.stored, b.stored) && JSON.stringify(a.meta ?? null) === JSON.stringify(b.meta ?? null)
}

/**
 * The commits that changed `key`, newest first, at most `limit`. Where older history is not held
 * (collected by gc --keep-last, or never fetched by a replica that synced past it), the oldest
 * held commit counts, as `changed`, if it wrote the key (the entry's write time is that
 * commit's: commit times are whole milliseconds, so also if the key's writer came just before it,
 * in the same millisecond); the generator then returns `{ complete: false }`.
 */
export async function* keyHistory(
  store: Store,
  key: string,
  limit = Number.POSITIVE_INFINITY,
): AsyncGenerator<KeyHistoryEntry, KeyHistoryEnd> {
  let found = 0
  let newer: { commit: Commit; entry: StoredEntry | undefined } | undefined
  for await (const commit of store.log()) {
    const entry = await store.tree.getEntry(commit.tree, key)
    if (newer !== undefined && !sameEntry(newer.entry, entry)) {
      yield { commit: newer.commit, change: kindOf(entry, newer.entry) }
      if (++found >= limit) return { complete: false }
    }
    newer = { commit, entry }
  }
  const complete = newer === undefined || newer.commit.prev === null
  if (newer === undefined || newer.entry === undefined) return { complete }
  const writtenThere = (newer.entry.meta as { w?: unknown } | undefined)?.w === newer.commit.time
  if (complete) yield { commit: newer.commit, change: 'added' }
  else if (writtenThere) yield { commit: newer.commit, change: 'changed' }
  return { complete }
}

function kindOf(before: StoredEntry | undefined, after: StoredEntry | undefined): KeyChangeKind {
  if (before === undefined) return 'added'
  return after === undefined ? 'removed' : 'changed'
}
