// Bulk build: a tree from entries in increasing key order in one pass, O(n), each node encoded
// and written as soon as it is complete. The root is the one any sequence of puts would give.
import type { CID } from 'multiformats/cid'
import { UnsortedInputError } from './errors.ts'
import { hasherReady } from './hash.ts'
import { compareBytes, toKey } from './keys.ts'
import type { NodeLoader } from './loader.ts'
import type { Entry } from './node.ts'
import type { EntryInput } from './types.ts'
import { type Block, encodeMeta, prepareValue } from './value.ts'
import { levelOf, persist, putBlocks } from './write.ts'

type MutableEntry = { -readonly [K in keyof Entry]: Entry[K] }

/**
 * MerkleSearchTree.build: one node stays open per level. An entry at level L closes the open
 * nodes below L, each becoming the subtree of the open node above it, and joins the one at L.
 */
export async function build(
  loader: NodeLoader,
  source: Iterable<EntryInput> | AsyncIterable<EntryInput>,
): Promise<CID> {
  await hasherReady
  // The node still open at each level: its left subtree and its entries so far.
  const open: { left: CID | null; entries: MutableEntry[] }[] = []
  const blocks: Block[] = []
  let prev: Uint8Array | null = null
  const setLastChild = (level: number, child: CID | null): void => {
    const o = open[level]
    if (o.entries.length === 0) o.left = child
    else o.entries[o.entries.length - 1].right = child
  }
  const close = (level: number): CID | null => {
    const o = open[level]
    open[level] = { left: null, entries: [] }
    if (o.entries.length === 0 && o.left === null) return null
    return persist(loader, o, level, blocks)
  }
  for await (const item of source) {
    const key = toKey(item.key)
    if (prev !== null && compareBytes(prev, key) >= 0) {
      throw new UnsortedInputError('build needs entries in strictly increasing key order')
    }
    prev = key
    const value = prepareValue(item.value)
    blocks.push(...value.blocks)
    const meta = encodeMeta(item.meta)
    const level = levelOf(key, loader.limits)
    while (open.length <= level) open.push({ left: null, entries: [] })
    let carry: CID | null = null
    for (let l = 0; l < level; l++) {
      setLastChild(l, carry)
      carry = close(l)
    }
    setLastChild(level, carry)
    open[level].entries.push({ key, value: value.stored, meta, right: null })
    if (blocks.length >= 1024) await putBlocks(loader.blockstore, blocks.splice(0))
  }
  let carry: CID | null = null
  for (let l = 0; l < open.length; l++) {
    setLastChild(l, carry)
    carry = close(l)
  }
  if (carry === null) {
    carry = loader.emptyRoot
    blocks.push({ cid: carry, bytes: loader.emptyBytes })
  }
  await putBlocks(loader.blockstore, blocks)
  return carry
}
