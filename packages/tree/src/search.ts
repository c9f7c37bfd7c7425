// Finding a key's place in one node by binary search: over its entries, or, on the lookup hot
// path, over its keys packed into one buffer.
import { compareBytes } from './keys.ts'
import type { Entry } from './node.ts'

/** The first index whose key is >= key. */
export function lowerBound(entries: readonly { key: Uint8Array }[], key: Uint8Array): number {
  let lo = 0
  let hi = entries.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareBytes(entries[mid].key, key) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The first index whose key is > key. */
export function upperBound(entries: readonly { key: Uint8Array }[], key: Uint8Array): number {
  let lo = 0
  let hi = entries.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareBytes(entries[mid].key, key) <= 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * A node's keys copied into one buffer. A lookup compares a key at each step of a binary search
 * in each node on its path; in a large tree these are cache misses, and a search over separate
 * entry, key and byte objects touches three times the memory of one over a packed buffer.
 */
export interface PackedKeys {
  readonly bytes: Uint8Array
  /** Where each key starts; `offsets[n]` is where the last ends. */
  readonly offsets: readonly number[]
}

/** Packs a node's keys (a lookup does it on its first pass through a cached node, and keeps them with it). */
export function packKeys(entries: readonly Entry[]): PackedKeys {
  let size = 0
  for (const entry of entries) size += entry.key.length
  const bytes = new Uint8Array(size)
  const offsets = new Array<number>(entries.length + 1)
  let at = 0
  for (let i = 0; i < entries.length; i++) {
    offsets[i] = at
    bytes.set(entries[i].key, at)
    at += entries[i].key.length
  }
  offsets[entries.length] = at
  return { bytes, offsets }
}

/** compareBytes(key i of `packed`, key). */
function comparePacked(packed: PackedKeys, i: number, key: Uint8Array): number {
  const { bytes, offsets } = packed
  const start = offsets[i]
  const length = offsets[i + 1] - start
  const n = Math.min(length, key.length)
  for (let j = 0; j < n; j++) {
    const d = bytes[start + j] - key[j]
    if (d !== 0) return d
  }
  return length - key.length
}

/** The first index whose key is >= key, over packed keys. */
export function packedLowerBound(packed: PackedKeys, key: Uint8Array): number {
  let lo = 0
  let hi = packed.offsets.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (comparePacked(packed, mid, key) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

export function packedEqual(packed: PackedKeys, i: number, key: Uint8Array): boolean {
  return comparePacked(packed, i, key) === 0
}
