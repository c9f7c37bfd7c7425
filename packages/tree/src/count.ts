// Counting entries. A stored subtree's count is kept by its CID: content addressed, it never
// changes, so counting a later version of a tree opens only the nodes its changes made (a
// browser showing "n keys" on every commit of a million-key store reads a few nodes, not all).
import type { CID } from 'multiformats/cid'
import { cidKey } from './hash.ts'
import type { NodeLoader } from './loader.ts'
import type { Ref, TreeNode } from './node.ts'
import { type Bound, below, firstInRange } from './range-bounds.ts'
import { childBefore, isCid } from './ref.ts'

/** The most subtree counts kept (about 100 bytes each); the oldest go first. */
export const MAX_KEPT_COUNTS = 100_000

/** Entries per stored subtree, by CID, bounded. */
export class SubtreeCounts {
  readonly #counts = new Map<string, number>()
  readonly #max: number

  constructor(max = MAX_KEPT_COUNTS) {
    this.#max = max
  }

  get size(): number {
    return this.#counts.size
  }

  get(cid: CID): number | undefined {
    return this.#counts.get(cidKey(cid))
  }

  set(cid: CID, count: number): void {
    if (this.#counts.size >= this.#max) {
      const oldest = this.#counts.keys().next()
      if (oldest.done !== true) this.#counts.delete(oldest.value)
    }
    this.#counts.set(cidKey(cid), count)
  }
}

/** Entries of the subtree at `ref` within `lower` and `upper` (null: unbounded). */
export async function countRange(
  loader: NodeLoader,
  counts: SubtreeCounts,
  ref: Ref,
  level: number,
  lower: Bound | null,
  upper: Bound | null,
): Promise<number> {
  if (ref === null) return 0
  if (lower === null && upper === null) return countAll(loader, counts, ref, level)
  const node = await loader.resolve(ref, level)
  const { entries } = node
  const first = firstInRange(entries, lower)
  let n = 0
  for (let i = first; ; i++) {
    // Past the first subtree every key is within `lower`; before an entry within `upper`, so is the subtree.
    const inside = i < entries.length && below(entries[i].key, upper)
    n += await countRange(
      loader,
      counts,
      childBefore(node, i),
      level - 1,
      i === first ? lower : null,
      inside ? null : upper,
    )
    if (!inside) return n
    n++
  }
}

/**
 * Every entry of the subtree at `ref`: kept by CID, so a subtree counted before is not opened.
 * `read` is the node's read, when its parent started it.
 */
async function countAll(
  loader: NodeLoader,
  counts: SubtreeCounts,
  ref: Ref,
  level: number,
  read?: Promise<TreeNode>,
): Promise<number> {
  if (ref === null) return 0
  const kept = isCid(ref) ? counts.get(ref) : undefined
  if (kept !== undefined) return kept
  const node = await (read ?? loader.resolve(ref, level))
  // The children are counted one by one: their reads start together now, so reads from storage
  // overlap (IndexedDB answers each in a transaction of its own) instead of queueing.
  const reads = Array.from({ length: node.entries.length + 1 }, (_, i) => {
    const child = childBefore(node, i)
    if (child === null || !isCid(child) || counts.get(child) !== undefined) return undefined
    const started = Promise.resolve(loader.resolve(child, level - 1))
    // A failure surfaces when the count awaits it.
    started.catch(() => {})
    return started
  })
  let n = node.entries.length + (await countAll(loader, counts, node.left, level - 1, reads[0]))
  for (const [i, entry] of node.entries.entries())
    n += await countAll(loader, counts, entry.right, level - 1, reads[i + 1])
  if (isCid(ref)) counts.set(ref, n)
  return n
}
