// Checks a decoded node for its place in a tree: its keys all at one level, that level within
// the tree's limits, and the level the node is linked at. Blocks are untrusted input; the node
// format's own checks are in node.ts.
import type { CID } from 'multiformats/cid'
import { MalformedNodeError, TreeTooDeepError, WrongLevelError } from './errors.ts'
import { keyLevel } from './hash.ts'
import { compareBytes } from './keys.ts'
import type { TreeLimits } from './limits.ts'
import { decodeNode, type TreeNode } from './node.ts'
import type { PackedKeys } from './search.ts'

/** A node placed at the level it is linked at: what the node cache holds. */
export interface Loaded {
  readonly node: TreeNode
  readonly level: number
  /** The node's keys in one buffer, made on the first lookup through this node (see packKeys). */
  packed?: PackedKeys
}

/** A node decoded and checked by `precheck`; its level is unknown when it has no entries. */
export interface CheckedNode {
  readonly node: TreeNode
  readonly level: number | undefined
  /** The node it was rebuilt from (a delta's base), which it replaces in the node cache. */
  readonly base?: CID
}

/**
 * Decoding, and the level checks that need no parent: one level for all keys, in range. Keys it
 * shares with `base` (a checked node it was rebuilt from) are at the base's level without
 * hashing them.
 */
export function decodeChecked(bytes: Uint8Array, limits: TreeLimits, base?: Loaded): CheckedNode {
  const node = decodeNode(bytes, limits, base?.node)
  const { entries } = node
  if (entries.length === 0) return { node, level: undefined }
  const known = base?.node.entries ?? []
  let j = 0
  const levelOf = (key: Uint8Array): number => {
    // Both nodes' keys are sorted: advance through the base's alongside.
    while (j < known.length && compareBytes(known[j].key, key) < 0) j++
    if (j < known.length && compareBytes(known[j].key, key) === 0) return (base as Loaded).level
    return keyLevel(key, limits.bitsPerLevel)
  }
  const level = levelOf(entries[0].key)
  for (let i = 1; i < entries.length; i++) {
    const other = levelOf(entries[i].key)
    if (other !== level) throw new WrongLevelError(`a node mixes keys of levels ${level} and ${other}`)
  }
  checkLevel(node, level, limits)
  return { node, level }
}

/** Checks a decoded node against the level it is linked at (undefined for a root). */
export function place({ node, level }: CheckedNode, expected: number | undefined, limits: TreeLimits): Loaded {
  if (level !== undefined) {
    if (expected !== undefined && level !== expected) {
      throw new WrongLevelError(`a key at level ${level} is in a node linked at level ${expected}`)
    }
    return { node, level }
  }
  // No entries: the empty tree's root, or an inner node that only carries a subtree down.
  if (node.left === null) {
    if (expected !== undefined) throw new MalformedNodeError('an empty subtree must be a null link, not an empty node')
    return { node, level: 0 }
  }
  if (expected === undefined) throw new MalformedNodeError('a root with no entries must have no subtree')
  checkLevel(node, expected, limits)
  return { node, level: expected }
}

function checkLevel(node: TreeNode, level: number, limits: TreeLimits): void {
  if (level > limits.maxLevel) {
    throw new TreeTooDeepError(`tree has level ${level}, the limit is ${limits.maxLevel}`)
  }
  if (level === 0 && (node.left !== null || node.entries.some((e) => e.right !== null))) {
    throw new WrongLevelError('a node at level 0 cannot have subtrees')
  }
}
