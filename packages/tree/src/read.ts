// Reads that descend from a root: a key's lookup (synchronous while every node on its path is
// cached, searching their packed keys), entries in a key range in either order, and the path of
// nodes that proves a key present or absent.
import type { CID } from 'multiformats/cid'
import { decodeValidated } from './dag-cbor.ts'
import { equalBytes, type KeyInput, toKey } from './keys.ts'
import type { NodeLoader, Top } from './loader.ts'
import type { Entry, Ref } from './node.ts'
import { above, type Bound, below, bounds, firstInRange } from './range-bounds.ts'
import { childBefore, isCid } from './ref.ts'
import { lowerBound, packedEqual, packedLowerBound, packKeys, upperBound } from './search.ts'
import type { Meta, Range, StoredEntry } from './types.ts'
import type { Block } from './value.ts'

/** Finds `key` under `root` and maps the entry, synchronously while every node on the way is cached. */
export function lookup<T>(
  loader: NodeLoader,
  root: CID,
  key: KeyInput,
  map: (entry: Entry | undefined) => T | Promise<T>,
): Promise<T> {
  try {
    const k = toKey(key)
    let top = loader.root(root)
    if (top instanceof Promise) return top.then((t) => findFrom(loader, t.ref, t.level, k)).then(map)
    top = top as Top
    const entry = findFrom(loader, top.ref, top.level, k)
    return entry instanceof Promise ? entry.then(map) : Promise.resolve(map(entry))
  } catch (err) {
    return Promise.reject(err)
  }
}

/** Descends from a subtree to `key`; goes asynchronous only at a node that is not cached. */
function findFrom(
  loader: NodeLoader,
  ref: Ref,
  level: number,
  key: Uint8Array,
): Entry | undefined | Promise<Entry | undefined> {
  while (ref !== null) {
    // The common case, a cached node: search its packed keys.
    const loaded = isCid(ref) ? loader.cache.get(ref) : undefined
    if (loaded !== undefined && loaded.level === level) {
      const packed = loaded.packed ?? (loaded.packed = packKeys(loaded.node.entries))
      const i = packedLowerBound(packed, key)
      const { entries } = loaded.node
      if (i < entries.length && packedEqual(packed, i, key)) return entries[i]
      ref = childBefore(loaded.node, i)
      level--
      continue
    }
    const node = loader.resolve(ref, level)
    if (node instanceof Promise) {
      const at = level
      return node.then((loaded) => {
        const i = lowerBound(loaded.entries, key)
        return i < loaded.entries.length && equalBytes(loaded.entries[i].key, key)
          ? loaded.entries[i]
          : findFrom(loader, childBefore(loaded, i), at - 1, key)
      })
    }
    const i = lowerBound(node.entries, key)
    if (i < node.entries.length && equalBytes(node.entries[i].key, key)) return node.entries[i]
    ref = childBefore(node, i)
    level--
  }
  return undefined
}

/** Entries under `root` in key order (or reverse), without reading values. */
export async function* keys(loader: NodeLoader, root: CID, range: Range): AsyncGenerator<StoredEntry> {
  const { lower, upper } = bounds(range)
  let remaining = range.limit ?? Number.POSITIVE_INFINITY
  if (remaining <= 0) return
  const top = await loader.root(root)
  for await (const entry of inRange(loader, top.ref, top.level, lower, upper, range.reverse === true)) {
    yield storedEntry(entry)
    if (--remaining === 0) return
  }
}

async function* inRange(
  loader: NodeLoader,
  ref: Ref,
  level: number,
  lower: Bound | null,
  upper: Bound | null,
  reverse: boolean,
): AsyncGenerator<Entry> {
  if (ref === null) return
  const node = await loader.resolve(ref, level)
  const { entries } = node
  if (!reverse) {
    let i = firstInRange(entries, lower)
    for (; ; i++) {
      yield* inRange(loader, childBefore(node, i), level - 1, lower, upper, reverse)
      if (i === entries.length || !below(entries[i].key, upper)) return
      yield entries[i]
    }
  } else {
    let i =
      upper === null
        ? entries.length
        : upper.inclusive
          ? upperBound(entries, upper.key)
          : lowerBound(entries, upper.key)
    for (; ; i--) {
      yield* inRange(loader, childBefore(node, i), level - 1, lower, upper, reverse)
      if (i === 0 || !above(entries[i - 1].key, lower)) return
      yield entries[i - 1]
    }
  }
}

/** MerkleSearchTree.proof: the root's block, then each node on the way down to `key`. */
export async function proof(loader: NodeLoader, root: CID, key: KeyInput): Promise<Block[]> {
  const k = toKey(key)
  const blocks: Block[] = []
  let { ref, level } = await loader.root(root)
  blocks.push({ cid: root, bytes: await loader.bytes(root) })
  while (ref !== null) {
    const node = await loader.resolve(ref, level)
    const i = lowerBound(node.entries, k)
    if (i < node.entries.length && equalBytes(node.entries[i].key, k)) break
    ref = i === 0 ? node.left : node.entries[i - 1].right
    level--
    if (ref !== null) blocks.push({ cid: ref as CID, bytes: await loader.bytes(ref as CID) })
  }
  return blocks
}

/** An entry as the public API gives it: its metadata decoded, its value not read. */
export function storedEntry(entry: Entry): StoredEntry {
  return {
    key: entry.key,
    stored: entry.value,
    meta: entry.meta === null ? undefined : (decodeValidated(entry.meta) as Meta),
  }
}
