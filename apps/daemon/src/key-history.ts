// One key's history: the commits, newest first, that added, changed or removed it. Each commit's
// tree entry for the key is compared with its parent's (value reference and metadata), so it costs
// one lookup per retained commit and reads no values.
import type { Commit, Store } from '@dagsync/store'
import type { StoredEntry } from '@dagsync/tree'

export type KeyChangeKind = 'added' | 'changed' | 'removed'

/** What identifies an entry's content: its value (inline bytes or a link) and its metadata. */
function fingerprint(entry: StoredEntry | undefined): string | undefined {
  if (entry === undefined) return undefined
  const { stored } = entry
  const value = stored.kind === 'inline' ? Buffer.from(stored.bytes).toString('base64') : stored.cid.toString()
  return `${stored.kind}:${value}:${JSON.stringify(entry.meta ?? null)}`
}

/**
 * The commits that changed `key`, newest first, at most `limit`. Where older history was
 * collected (gc --keep-last), the oldest retained commit counts, as `changed`, if it wrote the key
 * (the entry's write time is that commit's).
 */
export async function* keyHistory(
  store: Store,
  key: string,
  limit = Number.POSITIVE_INFINITY,
): AsyncGenerator<{ commit: Commit; change: KeyChangeKind }> {
  const entryAt = (commit: Commit) => store.tree.getEntry(commit.tree, key)
  let found = 0
  let newer: { commit: Commit; entry: StoredEntry | undefined } | undefined
  for await (const commit of store.log()) {
    const entry = await entryAt(commit)
    if (newer !== undefined && fingerprint(newer.entry) !== fingerprint(entry)) {
      yield { commit: newer.commit, change: kindOf(entry, newer.entry) }
      if (++found >= limit) return
    }
    newer = { commit, entry }
  }
  if (newer === undefined || newer.entry === undefined) return
  // The oldest retained commit: the first of all (prev null), or one whose parent was collected.
  const writtenThere = (newer.entry.meta as { w?: unknown } | undefined)?.w === newer.commit.time
  if (newer.commit.prev === null) yield { commit: newer.commit, change: 'added' }
  else if (writtenThere) yield { commit: newer.commit, change: 'changed' }
}

function kindOf(before: StoredEntry | undefined, after: StoredEntry | undefined): KeyChangeKind {
  if (before === undefined) return 'added'
  return after === undefined ? 'removed' : 'changed'
}
