// Writes: a batch of puts and deletes applied in one pass down the tree (`mutate`), splitting
// and joining subtrees where keys arrive and leave; then the nodes it made encoded children
// first (`persist`), each copying the bytes of the entries it shares with the node it replaces.
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { bytesKey } from './bytes.ts'
import { decodeValidated } from './dag-cbor.ts'
import { InvalidKeyError, NodeOverflowError } from './errors.ts'
import { cidOf, hasherReady, keyLevel } from './hash.ts'
import { compareBytes, equalBytes, toKey } from './keys.ts'
import { MAX_BLOCK_BYTES, type TreeLimits } from './limits.ts'
import type { NodeLoader } from './loader.ts'
import {
  EMPTY_NODE,
  type Entry,
  encodeNode,
  isBaseEntry,
  type NodeBase,
  type Ref,
  type StoredValue,
  sameStoredValue,
  type TreeNode,
} from './node.ts'
import { childBefore, isCid, lift, nodeOrNull, withRight } from './ref.ts'
import { lowerBound } from './search.ts'
import type { KeepIf, Meta, Op } from './types.ts'
import { type Block, encodeMeta, prepareValue } from './value.ts'

interface PreparedOp {
  readonly key: Uint8Array
  readonly level: number
  /** undefined for a delete */
  readonly entry?: { value: StoredValue; meta: Uint8Array | null }
  readonly keepIf?: KeepIf
}

/**
 * MerkleSearchTree.batch: the ops prepared (every value checked and encoded) and sorted, applied
 * in one `mutate` pass from the root, then the value blocks and new nodes written together.
 */
export async function batch(loader: NodeLoader, root: CID, ops: Iterable<Op>): Promise<CID> {
  await hasherReady
  const valueBlocks: Block[] = []
  const prepared = prepareOps(loader.limits, ops, valueBlocks)
  if (prepared.length === 0) return root
  const top = await loader.root(root)
  let level = top.level
  for (const op of prepared) if (op.entry !== undefined && op.level > level) level = op.level
  let ref = await mutate(loader, lift(top.ref, top.level, level), level, prepared)
  // A root has entries: drop levels left with none.
  while (ref !== null) {
    const node = await loader.resolve(ref, level)
    if (node.entries.length > 0) break
    ref = node.left
    level--
  }
  const blocks = valueBlocks
  const cid = ref === null ? loader.emptyRoot : persist(loader, ref, level, blocks)
  if (ref === null) blocks.push({ cid, bytes: loader.emptyBytes })
  await putBlocks(loader.blockstore, blocks)
  return cid
}

function prepareOps(limits: TreeLimits, ops: Iterable<Op>, valueBlocks: Block[]): PreparedOp[] {
  const byKey = new Map<string, PreparedOp>()
  for (const op of ops) {
    const key = toKey(op.key)
    let prepared: PreparedOp
    if (op.type === 'delete') {
      prepared = { key, level: levelOf(key, limits) }
    } else if (op.type === 'put') {
      let stored: StoredValue
      let meta: Uint8Array | null
      if ('stored' in op) {
        stored = op.stored
        meta = op.encodedMeta ?? encodeMeta(op.meta)
      } else {
        const value = prepareValue(op.value)
        valueBlocks.push(...value.blocks)
        stored = value.stored
        meta = encodeMeta(op.meta)
      }
      const entry = { value: stored, meta }
      prepared =
        op.keepIf === undefined
          ? { key, level: levelOf(key, limits), entry }
          : { key, level: levelOf(key, limits), entry, keepIf: op.keepIf }
    } else {
      throw new TypeError(`unknown op type ${(op as { type: unknown }).type}`)
    }
    // Later ops on a key replace earlier ones; the Map keeps first-insertion order, so delete first.
    const id = bytesKey(key)
    byKey.delete(id)
    byKey.set(id, prepared)
  }
  return [...byKey.values()].sort((a, b) => compareBytes(a.key, b.key))
}

/** The level a key's hash puts it at, refused above the tree's highest level. */
export function levelOf(key: Uint8Array, limits: TreeLimits): number {
  const level = keyLevel(key, limits.bitsPerLevel)
  if (level > limits.maxLevel) {
    throw new InvalidKeyError(`key hashes to level ${level}, above the limit of ${limits.maxLevel}`)
  }
  return level
}

/**
 * Applies sorted ops, all at `level` or below, to a subtree at `level`. Entries the ops leave
 * alone are shared with the old node, and only read where an op lands: in a large tree each
 * read of an entry object is a cache miss, and reading every entry's subtree was most of a
 * put's time here.
 */
async function mutate(loader: NodeLoader, ref: Ref, level: number, ops: readonly PreparedOp[]): Promise<Ref> {
  if (ops.length === 0) return ref
  const node = ref === null ? EMPTY_NODE : await loader.resolve(ref, level)
  const old = node.entries
  // Ops at this level (a delete of a key above the tree's top level counts as one: a no-op).
  let here = 0
  for (const op of ops) if (op.level >= level) here++
  // Sized for the most entries the node can end with, and trimmed at the end.
  const entries: Entry[] = new Array(old.length + here)
  // For each entry, its index in the old node, or -1 for a new key or value (see NodeBase).
  const from: number[] = new Array(old.length + here)
  let count = 0
  let left = node.left
  // The subtree between the last entry so far and old[e].
  let open = node.left
  let e = 0
  // Makes `sub` the subtree after the last entry so far.
  const closeGap = (sub: Ref): void => {
    if (count === 0) left = sub
    else if (entries[count - 1].right !== sub) entries[count - 1] = withRight(entries[count - 1], sub)
  }
  const keepUntil = (end: number): void => {
    if (end === e) return
    closeGap(open)
    for (; e < end; e++, count++) {
      entries[count] = old[e]
      from[count] = e
    }
    open = old[e - 1].right
  }
  for (const op of ops) {
    if (op.level < level) continue
    // Keep the unchanged entries before the op's key (found by binary search from e).
    let lo = e
    let hi = old.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareBytes(old[mid].key, op.key) < 0) lo = mid + 1
      else hi = mid
    }
    keepUntil(lo)
    if (e < old.length && equalBytes(old[e].key, op.key)) {
      if (op.keepIf !== undefined && keeps(old[e], op)) {
        keepUntil(e + 1)
        continue
      }
      const existing = old[e++]
      if (op.entry !== undefined) {
        closeGap(open)
        from[count] = -1
        entries[count++] = { key: existing.key, value: op.entry.value, meta: op.entry.meta, right: existing.right }
        open = existing.right
      } else {
        // Removing a key joins the subtrees on either side of it.
        open = await merge(loader, open, existing.right, level - 1)
      }
    } else if (op.entry !== undefined) {
      const [below, above] = await split(loader, open, op.key, level - 1)
      closeGap(below)
      from[count] = -1
      entries[count++] = { key: op.key, value: op.entry.value, meta: op.entry.meta, right: above }
      open = above
    }
  }
  keepUntil(old.length)
  closeGap(open)
  entries.length = count
  from.length = count

  // Ops for lower levels go into the child between the entries around their key.
  const below = here === 0 ? ops : ops.filter((op) => op.level < level)
  let start = 0
  while (start < below.length) {
    const gap = lowerBound(entries, below[start].key)
    let end = start + 1
    while (end < below.length && (gap === count || compareBytes(below[end].key, entries[gap].key) < 0)) end++
    const child = gap === 0 ? left : entries[gap - 1].right
    const changed = await mutate(
      loader,
      child,
      level - 1,
      start === 0 && end === below.length ? below : below.slice(start, end),
    )
    if (gap === 0) left = changed
    else if (changed !== child) entries[gap - 1] = withRight(entries[gap - 1], changed)
    start = end
  }
  if (count === 0 && left === null) return null
  // Remember the node this one was made from, so encoding can copy the entries they share.
  const base: NodeBase | undefined =
    node.encoding === undefined ? undefined : { node, from, cid: ref !== null && isCid(ref) ? ref : undefined }
  return { left, entries, base }
}

/** Whether a put with `keepIf` leaves `entry` as it is: the same value, and metadata it accepts. */
function keeps(entry: Entry, op: PreparedOp): boolean {
  const { entry: put, keepIf } = op
  if (put === undefined || keepIf === undefined || !sameStoredValue(entry.value, put.value)) return false
  return keepIf(entry.meta === null ? undefined : (decodeValidated(entry.meta) as Meta))
}

/** Splits a subtree at `level` around `key` (which it does not hold) into the keys below and above. */
async function split(loader: NodeLoader, ref: Ref, key: Uint8Array, level: number): Promise<[Ref, Ref]> {
  if (ref === null) return [null, null]
  const node = await loader.resolve(ref, level)
  const i = lowerBound(node.entries, key)
  const [below, above] = await split(loader, childBefore(node, i), key, level - 1)
  const left: TreeNode =
    i === 0
      ? { left: below, entries: [] }
      : { left: node.left, entries: [...node.entries.slice(0, i - 1), withRight(node.entries[i - 1], below)] }
  const right: TreeNode = { left: above, entries: node.entries.slice(i) }
  return [nodeOrNull(left), nodeOrNull(right)]
}

/** Joins two subtrees at `level` where every key of `a` is below every key of `b`. */
async function merge(loader: NodeLoader, a: Ref, b: Ref, level: number): Promise<Ref> {
  if (a === null) return b
  if (b === null) return a
  const A = await loader.resolve(a, level)
  const B = await loader.resolve(b, level)
  const n = A.entries.length
  const middle = await merge(loader, childBefore(A, n), B.left, level - 1)
  if (n === 0) return nodeOrNull({ left: middle, entries: B.entries })
  return {
    left: A.left,
    entries: [...A.entries.slice(0, n - 1), withRight(A.entries[n - 1], middle), ...B.entries],
  }
}

/** Encodes the unwritten nodes under `ref`, children first, into `out`; returns its CID. */
export function persist(loader: NodeLoader, ref: CID | TreeNode, level: number, out: Block[]): CID {
  if (isCid(ref)) return ref
  const link = (child: Ref): CID | null => (child === null ? null : persist(loader, child, level - 1, out))
  const left = link(ref.left)
  // Entries kept from a stored base node link only stored subtrees: they are passed over
  // without being read (see mutate). The array is copied before the first one that changes.
  const { base, entries } = ref
  let linked: Entry[] | undefined
  for (let i = 0; i < entries.length; i++) {
    if (base !== undefined && isBaseEntry(base, entries, i)) continue
    const { right } = entries[i]
    if (right === null || isCid(right)) continue
    linked ??= entries.slice()
    linked[i] = withRight(entries[i], link(right))
  }
  const node: TreeNode = { left, entries: linked ?? entries, base }
  if (node.entries.length > loader.limits.maxEntries) {
    throw new NodeOverflowError(
      `a node at level ${level} would hold ${node.entries.length} entries, the limit is ${loader.limits.maxEntries}`,
    )
  }
  const encoding = encodeNode(node)
  const { bytes } = encoding
  if (bytes.length > MAX_BLOCK_BYTES) {
    throw new NodeOverflowError(
      `a node at level ${level} would be ${bytes.length} bytes, the limit is ${MAX_BLOCK_BYTES}`,
    )
  }
  const cid = cidOf(bytes)
  out.push({ cid, bytes })
  loader.placeWritten(cid, node, encoding, level, ref.base?.cid)
  return cid
}

/** Writes blocks concurrently; a synchronous blockstore (memory) costs no awaits. */
export async function putBlocks(blockstore: Blockstore, blocks: Block[]): Promise<void> {
  const pending: Promise<unknown>[] = []
  for (const { cid, bytes } of blocks) {
    const done = blockstore.put(cid, bytes)
    if (done instanceof Promise) pending.push(done)
  }
  if (pending.length > 0) await Promise.all(pending)
}
