// The node format, as in the AT Protocol MST: `{e: [{k, p, t, v}], l}` in DAG-CBOR, with keys
// prefix-compressed against the previous key of the same node. Two optional entry fields extend
// it: `m` (inline metadata) and, in place of `v`, `r` or `c` for values too large to inline.
// A node without them is byte-for-byte an atproto MST node.
import type { CID } from 'multiformats/cid'
import { CborReader, CborWriter, cidLength, headerLength, MAJOR_ARRAY, MAJOR_MAP, MAJOR_UINT } from './cbor.ts'
import {
  BlockTooLargeError,
  KeyTooLongError,
  MalformedNodeError,
  TooManyEntriesError,
  UnsortedKeysError,
} from './errors.ts'
import { compareBytes, equalBytes } from './keys.ts'
import { MAX_BLOCK_BYTES, MAX_KEY_BYTES, type TreeLimits } from './limits.ts'

/**
 * Where an entry's value lives. Which form a value takes depends only on the length of its
 * DAG-CBOR encoding, so equal contents still give equal nodes.
 */
export type StoredValue =
  /** `v`: the encoding itself, spliced into the node (at most 256 bytes). A value that is a CID is stored this way. */
  | { readonly kind: 'inline'; readonly bytes: Uint8Array }
  /** `r`: a link to one DAG-CBOR block holding the encoding (up to 1 MiB). */
  | { readonly kind: 'block'; readonly cid: CID }
  /** `c`: a link to a chunk index over fixed-size raw chunks (values over 1 MiB). */
  | { readonly kind: 'chunked'; readonly cid: CID }

/** Whether two stored values are the same value (its form follows from its encoding alone). */
export function sameStoredValue(a: StoredValue, b: StoredValue): boolean {
  if (a.kind === 'inline') return b.kind === 'inline' && equalBytes(a.bytes, b.bytes)
  return b.kind !== 'inline' && a.kind === b.kind && a.cid.equals(b.cid)
}

/** A subtree: a stored node, a node built in memory and not yet written, or nothing. */
export type Ref = CID | TreeNode | null

export interface Entry {
  readonly key: Uint8Array
  readonly value: StoredValue
  /** DAG-CBOR encoding of the entry's metadata, or null when it has none. */
  readonly meta: Uint8Array | null
  /** The subtree of keys between this entry and the next. */
  readonly right: Ref
}

export interface TreeNode {
  /** The subtree of keys before the first entry. */
  readonly left: Ref
  readonly entries: readonly Entry[]
  /** For a stored node: its block, so a node made from it can copy its unchanged entries' bytes. */
  readonly encoding?: NodeEncoding
  /** For a node made from a stored one: that node, and which of its entries each entry is. */
  readonly base?: NodeBase
  /** For a decoded node: the CIDs inside its inline values and metadata (usually none). */
  readonly valueLinks?: readonly CID[]
}

/** A node's block and where each entry's bytes start in it (`offsets[n]` is where the entries end). */
export interface NodeEncoding {
  readonly bytes: Uint8Array
  readonly offsets: readonly number[]
}

export interface NodeBase {
  readonly node: TreeNode
  /**
   * For each entry, its index in the base node, or -1 for a new key or value. An entry whose
   * subtree changed keeps its index but is a new object: it is the base's entry only if it is
   * the same object.
   */
  readonly from: readonly number[]
  /** The base node's CID, when it is a stored node. */
  readonly cid: CID | undefined
}

const NO_LINKS: readonly CID[] = Object.freeze([])

export const EMPTY_NODE: TreeNode = Object.freeze({ left: null, entries: Object.freeze([]) })

const C = 0x63 // c: chunk index link
const E = 0x65 // e: entries
const K = 0x6b // k: key suffix
const L = 0x6c // l: left subtree
const M = 0x6d // m: metadata
const P = 0x70 // p: shared prefix length
const R = 0x72 // r: value block link
const T = 0x74 // t: right subtree
const V = 0x76 // v: inline value

function sharedPrefix(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a[i] === b[i]) i++
  return i
}

function linkOf(ref: Ref): CID | null {
  if (ref === null || 'bytes' in ref) return ref
  throw new TypeError('cannot encode a node whose subtrees are not written yet')
}

/**
 * Encodes a node whose subtrees are all written (CIDs or null). Entries unchanged from a base
 * node, after the same key as there, have the same bytes: runs of them are copied from the base
 * node's block rather than encoded again.
 */
export function encodeNode(node: TreeNode): NodeEncoding {
  const { entries } = node
  const left = linkOf(node.left)
  const n = entries.length
  const source = reusableSource(node)
  // Per entry: the prefix length to encode it with, or -1 where its bytes are copied from the base.
  const prefixes: number[] = new Array(n)
  let size = 1 + 2 + headerLength(n) + 2 + (left === null ? 1 : cidLength(left))
  const baseEntries = source === null ? [] : source.node.entries
  for (let i = 0; i < n; i++) {
    const from = source === null ? -1 : source.from[i]
    // The base's entry, after the same key (or first in both): its bytes are unchanged. Entries
    // are compared as objects first, so runs of kept entries are not read at all.
    if (
      source !== null &&
      isBaseEntry(source, entries, i) &&
      (i === 0
        ? from === 0
        : from > 0 && (baseEntries[from - 1] === entries[i - 1] || baseEntries[from - 1].key === entries[i - 1].key))
    ) {
      const { offsets } = source.node.encoding!
      prefixes[i] = -1
      size += offsets[from + 1] - offsets[from]
      continue
    }
    const { key, value, meta, right } = entries[i]
    const p = i === 0 ? 0 : sharedPrefix(entries[i - 1].key, key)
    prefixes[i] = p
    const suffix = key.length - p
    size += 1 + 2 + headerLength(suffix) + suffix + 2 + headerLength(p) + 2
    size += right === null ? 1 : cidLength(linkOf(right) as CID)
    size += 2 + (value.kind === 'inline' ? value.bytes.length : cidLength(value.cid))
    if (meta !== null) size += 2 + meta.length
  }

  const w = new CborWriter(size)
  const offsets = new Array<number>(n + 1)
  w.header(MAJOR_MAP, 2)
  w.key(E)
  w.header(MAJOR_ARRAY, n)
  for (let i = 0; i < n; i++) {
    offsets[i] = w.pos
    if (prefixes[i] < 0) {
      // Copy this entry and every following copied entry that sits next to it in the base block.
      const base = source!.node.encoding!
      const first = source!.from[i]
      let last = first
      while (i + 1 < n && prefixes[i + 1] < 0 && source!.from[i + 1] === last + 1) {
        last++
        i++
        offsets[i] = w.pos + base.offsets[last] - base.offsets[first]
      }
      w.raw(base.bytes.subarray(base.offsets[first], base.offsets[last + 1]))
      continue
    }
    writeEntry(w, entries[i], prefixes[i])
  }
  offsets[n] = w.pos
  w.key(L)
  w.nullableCid(left)
  return { bytes: w.bytes, offsets }
}

/** Whether entry `i` of a node made from `base` is the base's own entry object: kept as it was. */
export function isBaseEntry(base: NodeBase, entries: readonly Entry[], i: number): boolean {
  const from = base.from[i]
  return from >= 0 && base.node.entries[from] === entries[i]
}

function reusableSource(node: TreeNode): NodeBase | null {
  const base = node.base
  return base !== undefined && base.node.encoding !== undefined ? base : null
}

function writeEntry(w: CborWriter, entry: Entry, p: number): void {
  const { key, value, meta, right } = entry
  w.header(MAJOR_MAP, meta === null ? 4 : 5)
  // Field order is DAG-CBOR's canonical order: c < k < m < p < r < t < v.
  if (value.kind === 'chunked') {
    w.key(C)
    w.cid(value.cid)
  }
  w.key(K)
  w.byteString(p === 0 ? key : key.subarray(p))
  if (meta !== null) {
    w.key(M)
    w.raw(meta)
  }
  w.key(P)
  w.header(MAJOR_UINT, p)
  if (value.kind === 'block') {
    w.key(R)
    w.cid(value.cid)
  }
  w.key(T)
  w.nullableCid(right as CID | null)
  if (value.kind === 'inline') {
    w.key(V)
    w.raw(value.bytes)
  }
}

const FIELD_ORDER: Record<number, number> = { [C]: 0, [K]: 1, [M]: 2, [P]: 3, [R]: 4, [T]: 5, [V]: 6 }

/**
 * Decodes and validates a node block: canonical DAG-CBOR, known fields only, keys strictly
 * increasing with maximal prefix compression, and the block, key and entry-count limits.
 * Levels are checked by the caller, which knows where in the tree the node sits.
 * Inline values are validated here but decoded only when read.
 *
 * With `base`, a node already decoded and validated (the one a delta rebuilt this one from), an
 * entry whose bytes are those of a base entry, after the same key, is that entry: its bytes
 * decode to the same key and fields, and they were validated then, so it is compared, not
 * decoded again.
 */
export function decodeNode(bytes: Uint8Array, limits: TreeLimits, base?: TreeNode): TreeNode {
  if (bytes.length > MAX_BLOCK_BYTES) {
    throw new BlockTooLargeError(`node block is ${bytes.length} bytes, the limit is ${MAX_BLOCK_BYTES}`)
  }
  const r: CborReader = new CborReader(bytes)
  if (r.header(MAJOR_MAP, 'node') !== 2) r.fail('a node is a map of exactly e and l')
  if (r.key() !== E) r.fail('expected field e')
  const count = r.header(MAJOR_ARRAY, 'entries')
  if (count > limits.maxEntries) {
    throw new TooManyEntriesError(`node has ${count} entries, the limit is ${limits.maxEntries}`)
  }
  const entries = new Array<Entry>(count)
  const offsets = new Array<number>(count + 1)
  // Links inside inline values and metadata, found while validating them anyway.
  const valueLinks: CID[] = []
  let prev: Uint8Array | null = null
  // Entries inside inline values or metadata would need their links listed: decode those.
  const known = base?.encoding !== undefined && base.valueLinks?.length === 0 ? base : undefined
  let j = 0
  for (let i = 0; i < count; i++) {
    offsets[i] = r.pos
    if (known !== undefined) {
      const length = baseEntryBytes(bytes, r.pos, known, prev, j)
      if (length > 0) {
        entries[i] = known.entries[j]
        prev = entries[i].key
        r.pos += length
        j++
        continue
      }
    }
    const fields = r.header(MAJOR_MAP, 'entry')
    if (fields !== 4 && fields !== 5) r.fail('an entry has k, p, t, one of v/r/c, and optionally m')
    let last = -1
    let suffix: Uint8Array | undefined
    let prefix: number | undefined
    let right: CID | null | undefined
    let meta: Uint8Array | null = null
    let value: StoredValue | undefined
    for (let f = 0; f < fields; f++) {
      const field = r.key()
      const order = FIELD_ORDER[field]
      if (order === undefined) r.fail(`unknown entry field ${String.fromCharCode(field)}`)
      if (order <= last) r.fail('entry fields are not in canonical order')
      last = order
      if (field === K) suffix = r.byteString('key')
      else if (field === P) prefix = r.header(MAJOR_UINT, 'prefix length')
      else if (field === T) right = r.nullableCid('subtree link')
      else if (field === M) meta = r.item(valueLinks)
      else {
        if (value !== undefined) r.fail('an entry has exactly one of v, r and c')
        if (field === V) value = { kind: 'inline', bytes: r.item(valueLinks) }
        else if (field === R) value = { kind: 'block', cid: r.cid('value link') }
        else value = { kind: 'chunked', cid: r.cid('chunk index link') }
      }
    }
    if (suffix === undefined || prefix === undefined || right === undefined || value === undefined) {
      r.fail('an entry needs k, p, t and one of v/r/c')
    }
    const key = expandKey(prev, prefix, suffix)
    entries[i] = { key, value, meta, right }
    prev = key
    // The next entry may match the base entry after this key.
    if (known !== undefined) {
      const { entries: baseEntries } = known
      while (j < baseEntries.length && compareBytes(baseEntries[j].key, key) <= 0) j++
    }
  }
  offsets[count] = r.pos
  if (r.key() !== L) r.fail('expected field l')
  const left = r.nullableCid('left subtree link')
  if (!r.done) r.fail('trailing bytes after node')
  return { left, entries, encoding: { bytes, offsets }, valueLinks: valueLinks.length === 0 ? NO_LINKS : valueLinks }
}

/**
 * The length of base entry `j` if the bytes at `pos` are exactly its bytes and the key before
 * it is the same (so its prefix compression expands to the same key); else 0.
 */
function baseEntryBytes(bytes: Uint8Array, pos: number, base: TreeNode, prev: Uint8Array | null, j: number): number {
  const { entries, encoding } = base
  if (j >= entries.length) return 0
  if (prev === null ? j !== 0 : j === 0 || !equalBytes(entries[j - 1].key, prev)) return 0
  const { bytes: baseBytes, offsets } = encoding as NodeEncoding
  const start = offsets[j]
  const length = offsets[j + 1] - start
  if (pos + length > bytes.length) return 0
  for (let k = 0; k < length; k++) if (bytes[pos + k] !== baseBytes[start + k]) return 0
  return length
}

// Keys are cut from shared buffers, as CIDs are (hash.ts): a small typed array of its own has no
// ArrayBuffer until one is asked for, and copying into it or hashing it asks; V8 then moves it off
// the heap, which cost more than decoding the rest of the entry. A slab bounds what one key kept
// alive (in a cached node, say) holds to 1 KiB.
const KEY_SLAB_BYTES = 1024
let keySlab = new Uint8Array(KEY_SLAB_BYTES)
let keySlabUsed = 0

function expandKey(prev: Uint8Array | null, prefix: number, suffix: Uint8Array): Uint8Array {
  if (prev === null) {
    if (prefix !== 0) throw new MalformedNodeError('the first entry of a node must have prefix length 0')
    if (suffix.length > MAX_KEY_BYTES)
      throw new KeyTooLongError(`key is ${suffix.length} bytes, the limit is ${MAX_KEY_BYTES}`)
    return suffix
  }
  if (prefix > prev.length) throw new MalformedNodeError(`prefix length ${prefix} exceeds the previous key`)
  if (prefix < prev.length && suffix.length > 0 && suffix[0] === prev[prefix]) {
    throw new MalformedNodeError('prefix length is not the longest shared prefix')
  }
  const length = prefix + suffix.length
  if (length > MAX_KEY_BYTES) throw new KeyTooLongError(`key is ${length} bytes, the limit is ${MAX_KEY_BYTES}`)
  // The key shares `prefix` bytes with the one before, so the byte after them decides the order
  // (the check above refused an equal one): greater, or a longer key with the same start.
  if (suffix.length === 0 || (prefix < prev.length && suffix[0] < prev[prefix]))
    throw new UnsortedKeysError('keys are not in strictly increasing order')
  if (keySlabUsed + length > KEY_SLAB_BYTES) {
    keySlab = new Uint8Array(Math.max(KEY_SLAB_BYTES, length))
    keySlabUsed = 0
  }
  const key = keySlab.subarray(keySlabUsed, keySlabUsed + length)
  keySlabUsed += length
  for (let i = 0; i < prefix; i++) key[i] = prev[i]
  key.set(suffix, prefix)
  return key
}
