// Diff: the aligned walk of two trees, which compares two nodes' entries in key order, skips
// the subtrees they share by link and descends only into those that differ. `diffEntries`
// yields the entries that differ; newBlocks (new-blocks.ts) walks the same way.
import type { CID } from 'multiformats/cid'
import { cidKey } from './hash.ts'
import { compareBytes, equalBytes } from './keys.ts'
import type { NodeLoader } from './loader.ts'
import { EMPTY_NODE, type Entry, type Ref, sameStoredValue, type TreeNode } from './node.ts'
import { storedEntry } from './read.ts'
import { childBefore, isCid, lift, sameRef } from './ref.ts'
import { lowerBound, upperBound } from './search.ts'
import type { StoredChange } from './types.ts'

/** The keys that differ between two roots, in key order, without reading values. */
export async function* diffEntries(loader: NodeLoader, from: CID, to: CID): AsyncGenerator<StoredChange> {
  if (from.equals(to)) return
  const a = await loader.root(from)
  const b = await loader.root(to)
  const level = Math.max(a.level, b.level)
  const [x, y] = [lift(a.ref, a.level, level), lift(b.ref, b.level, level)]
  if (!sameRef(x, y)) yield* diffSubtrees(loader, x, y, level, null, null)
}

async function* diffSubtrees(
  loader: NodeLoader,
  a: Ref,
  b: Ref,
  level: number,
  lo: Uint8Array | null,
  hi: Uint8Array | null,
): AsyncGenerator<StoredChange> {
  const [A, B] = await openPair(loader, a, b, level)
  for (const step of alignEntries(A, B, lo, hi)) {
    if (step.kind === 'subtrees') yield* diffSubtrees(loader, step.a, step.b, level - 1, step.lo, step.hi)
    else {
      const { key, before, after } = step
      yield {
        key,
        ...(before === undefined ? {} : { before: storedEntry(before) }),
        ...(after === undefined ? {} : { after: storedEntry(after) }),
      }
    }
  }
}

/** Opens the two nodes an aligned walk compares (a missing one is the empty node), and prefetches below them. */
export async function openPair(loader: NodeLoader, a: Ref, b: Ref, level: number): Promise<[TreeNode, TreeNode]> {
  let A = a === null ? EMPTY_NODE : loader.resolve(a, level)
  if (A instanceof Promise) A = await A
  let B = b === null ? EMPTY_NODE : loader.resolve(b, level)
  if (B instanceof Promise) B = await B
  prefetchChildren(loader, A, B, level - 1)
  return [A, B]
}

/**
 * Starts loading the subtrees of `B` that `A` does not share, which an aligned walk of the two
 * is about to open one by one: reads from storage then overlap instead of queueing.
 */
function prefetchChildren(loader: NodeLoader, A: TreeNode, B: TreeNode, level: number): void {
  if (level < 0) return
  let uncached: CID[] | undefined
  for (let i = 0; i <= B.entries.length; i++) {
    const ref = childBefore(B, i)
    if (ref !== null && isCid(ref) && loader.cache.get(ref) === undefined) (uncached ??= []).push(ref)
  }
  // Usually all cached (a warm tree): then there is nothing to compare or start.
  if (uncached === undefined) return
  const shared = new Set<string>()
  for (let i = 0; i <= A.entries.length; i++) {
    const ref = childBefore(A, i)
    if (ref !== null && isCid(ref)) shared.add(cidKey(ref))
  }
  for (const ref of uncached) {
    // A failure surfaces when the walk itself opens the node.
    if (!shared.has(cidKey(ref))) loader.load(ref, level).catch(() => {})
  }
}

/** One step of an aligned walk of two nodes: a pair of differing subtrees, or an entry that differs. */
export type AlignedStep =
  | {
      readonly kind: 'subtrees'
      readonly a: Ref
      readonly b: Ref
      readonly lo: Uint8Array | null
      readonly hi: Uint8Array | null
    }
  | { readonly kind: 'entry'; readonly key: Uint8Array; readonly before?: Entry; readonly after?: Entry }

/**
 * Merges the entries of two nodes at the same level that lie strictly inside (lo, hi), in key
 * order: the entries that differ, and between them the pairs of subtrees that differ (cut to the
 * keys around them). What diff and newBlocks both walk.
 */
export function alignEntries(A: TreeNode, B: TreeNode, lo: Uint8Array | null, hi: Uint8Array | null): AlignedStep[] {
  const steps: AlignedStep[] = []
  let i = lo === null ? 0 : upperBound(A.entries, lo)
  let j = lo === null ? 0 : upperBound(B.entries, lo)
  const iEnd = hi === null ? A.entries.length : lowerBound(A.entries, hi)
  const jEnd = hi === null ? B.entries.length : lowerBound(B.entries, hi)
  let from = lo
  const subtrees = (to: Uint8Array | null): void => {
    const a = childBefore(A, i)
    const b = childBefore(B, j)
    // Most neighbouring subtrees are shared: compare links before the caller opens them.
    if (!sameRef(a, b)) steps.push({ kind: 'subtrees', a, b, lo: from, hi: to })
  }
  while (i < iEnd || j < jEnd) {
    // Unchanged entries are shared objects between a node and the node made from it.
    const same = i < iEnd && j < jEnd && A.entries[i] === B.entries[j]
    const order = same ? 0 : i === iEnd ? 1 : j === jEnd ? -1 : compareBytes(A.entries[i].key, B.entries[j].key)
    const key = order <= 0 ? A.entries[i].key : B.entries[j].key
    subtrees(key)
    if (order < 0) steps.push({ kind: 'entry', key, before: A.entries[i] })
    else if (order > 0) steps.push({ kind: 'entry', key, after: B.entries[j] })
    else if (!same && !sameEntry(A.entries[i], B.entries[j]))
      steps.push({ kind: 'entry', key, before: A.entries[i], after: B.entries[j] })
    if (order <= 0) i++
    if (order >= 0) j++
    from = key
  }
  subtrees(hi)
  return steps
}

function sameEntry(a: Entry, b: Entry): boolean {
  if (a === b) return true
  if (!sameStoredValue(a.value, b.value)) return false
  if (a.meta === null || b.meta === null) return a.meta === b.meta
  return equalBytes(a.meta, b.meta)
}
