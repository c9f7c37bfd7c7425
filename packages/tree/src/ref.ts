// A subtree link (`Ref`: a stored node's CID, a node built in memory and not yet written, or
// nothing) and the small moves between a node and its subtrees that reads, writes and diff share.
import type { CID } from 'multiformats/cid'
import type { Entry, Ref, TreeNode } from './node.ts'

export function isCid(ref: CID | TreeNode): ref is CID {
  return 'bytes' in ref
}

export function sameRef(a: Ref, b: Ref): boolean {
  return a === b || (a !== null && b !== null && isCid(a) && isCid(b) && a.equals(b))
}

export function nodeOrNull(node: TreeNode): TreeNode | null {
  return node.entries.length === 0 && node.left === null ? null : node
}

/** Wraps a subtree in entry-less nodes until it stands at `to`, as it would under a higher root. */
export function lift(ref: Ref, from: number, to: number): Ref {
  for (let l = from; l < to && ref !== null; l++) ref = { left: ref, entries: [] }
  return ref
}

/** The subtree before entry i (the left subtree for i = 0, the last one for i = entries.length). */
export function childBefore(node: TreeNode, i: number): Ref {
  return i === 0 ? node.left : node.entries[i - 1].right
}

export function withRight(entry: Entry, right: Ref): Entry {
  return { key: entry.key, value: entry.value, meta: entry.meta, right }
}
