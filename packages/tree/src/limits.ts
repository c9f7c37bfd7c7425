// The limits writers and readers share: a write refuses whatever a reader of its blocks would.
import { DAG_CBOR, DAG_JSON, DAG_PB, RAW } from './hash.ts'

/** Limits that every tree enforces on what it writes and what it accepts from blocks. */
export interface TreeLimits {
  /** Bits of sha256(key) per level: a key's level is its hash's leading zero bits divided by this. */
  readonly bitsPerLevel: number
  /** Expected entries per node: 2 ** bitsPerLevel. */
  readonly fanout: number
  /** The highest level a key may have (deeper trees are refused). */
  readonly maxLevel: number
  /** The most entries one node may hold. */
  readonly maxEntries: number
}

/** The largest block a tree writes or accepts: 1 MiB. */
export const MAX_BLOCK_BYTES = 1 << 20

/** The longest key a tree writes or accepts: 1 KiB. */
export const MAX_KEY_BYTES = 1024

/** A value whose DAG-CBOR encoding is at most this long is stored inline in its node. */
export const MAX_INLINE_VALUE_BYTES = 256

/** Metadata is always inline, so it is held to the same bound. */
export const MAX_META_BYTES = 256

/** Values whose encoding exceeds MAX_BLOCK_BYTES are split into chunks of exactly this size (the last may be shorter). */
export const CHUNK_BYTES = 256 * 1024

/**
 * How deep a value (or metadata) may nest: no item in it may sit inside more than this many
 * lists and maps. Writes refuse deeper values; node decoding refuses them inline.
 */
export const MAX_VALUE_DEPTH = 128

/**
 * How deep a tree node holds an inline value: node map, its `e` list, the entry map. A walk that
 * reads a node as plain DAG-CBOR (gc, verify, pins) sees the value this much deeper.
 */
export const NODE_VALUE_DEPTH = 3

/**
 * How deep any DAG-CBOR block may nest when read as plain DAG-CBOR: room for a value at the
 * limit inside a node, so that every walk accepts whatever a write accepted.
 */
export const MAX_BLOCK_DEPTH = MAX_VALUE_DEPTH + NODE_VALUE_DEPTH

/** The largest integer DAG-CBOR can hold, 2^64 - 1; the smallest is -2^64. */
export const MAX_CBOR_INT = 2n ** 64n - 1n

/**
 * Codecs of the blocks a link inside a value may point to: every walk (sync, gc, verify, pins)
 * follows value links into these and refuses any other. Links whose multihash is identity carry
 * their bytes and are not followed, so they may name any codec.
 */
export const LINK_CODECS: ReadonlySet<number> = new Set([RAW, DAG_PB, DAG_CBOR, DAG_JSON])

export const DEFAULT_BITS_PER_LEVEL = 4

export function treeLimits(bitsPerLevel = DEFAULT_BITS_PER_LEVEL, maxLevel?: number): TreeLimits {
  if (!Number.isInteger(bitsPerLevel) || bitsPerLevel < 1 || bitsPerLevel > 8) {
    throw new RangeError(`bitsPerLevel must be an integer from 1 to 8, got ${bitsPerLevel}`)
  }
  const fanout = 2 ** bitsPerLevel
  return {
    bitsPerLevel,
    fanout,
    // 2^64 keys would reach level 64 / bitsPerLevel; a key above that needs a 64-bit sha256 prefix collision.
    maxLevel: maxLevel ?? Math.ceil(64 / bitsPerLevel),
    // Node sizes are geometric with mean `fanout`: exceeding 64x the mean has probability below 1e-28 per node.
    maxEntries: 64 * fanout,
  }
}
