// Deltas between blocks, for sending a tree node as the few bytes that differ from the node it
// replaces (which the receiver holds). A delta is a list of ops: `[offset, length]` copies
// bytes from the base block, a byte string is inserted as it is. The receiver rebuilds the
// block and checks its hash, so a wrong delta can only fail, never corrupt.
import { MAX_BLOCK_BYTES } from '@dagsync/tree'
import { ProtocolError } from './errors.ts'

export type DeltaOp = readonly [offset: number, length: number] | Uint8Array

/**
 * A delta from `base` to `target`, matching the pieces of `target` (header, each entry, tail;
 * `targetOffsets` says where entries start) against the same pieces of `base`. Unchanged
 * entries become copies; runs of them that sit together in `base` become one copy. A changed
 * piece copies the bytes it shares at its start and end with the base piece in its place.
 */
export function encodeDelta(
  base: Uint8Array,
  baseOffsets: readonly number[],
  target: Uint8Array,
  targetOffsets: readonly number[],
): DeltaOp[] {
  const baseStarts = pieceStarts(base, baseOffsets)
  const targetStarts = pieceStarts(target, targetOffsets)
  // Base pieces by a hash of their bytes, built only if a piece is not where it was.
  let where: Map<number, number[]> | undefined
  const find = (start: number, length: number): number | undefined => {
    if (where === undefined) {
      where = new Map()
      for (let j = 0; j + 1 < baseStarts.length; j++) {
        const h = hash(base, baseStarts[j], baseStarts[j + 1])
        const starts = where.get(h)
        if (starts === undefined) where.set(h, [baseStarts[j]])
        else starts.push(baseStarts[j])
      }
    }
    return where
      .get(hash(target, start, start + length))
      ?.find((at) => at + length <= base.length && same(base, at, target, start, length))
  }
  const ops: DeltaOp[] = []
  // Pieces usually sit where they were: try the base piece after the last match first.
  let cursor = 0
  for (let i = 0; i + 1 < targetStarts.length; i++) {
    const start = targetStarts[i]
    const length = targetStarts[i + 1] - start
    let from: number | undefined
    if (
      cursor + 1 < baseStarts.length &&
      baseStarts[cursor + 1] - baseStarts[cursor] === length &&
      same(base, baseStarts[cursor], target, start, length)
    ) {
      from = baseStarts[cursor]
    } else {
      from = find(start, length)
    }
    if (from !== undefined) {
      cursor = baseStarts.indexOf(from, cursor) + 1 || cursor
      copy(ops, from, length)
    } else if (cursor + 1 < baseStarts.length) {
      // A changed entry (or tail) mostly keeps the bytes of the one it replaces: a new subtree
      // link or value between the same key and fields. Copy its ends from there.
      const at = baseStarts[cursor]
      const end = Math.min(length, baseStarts[cursor + 1] - at)
      let head = 0
      while (head < end && base[at + head] === target[start + head]) head++
      let tail = 0
      while (tail < end - head && base[baseStarts[cursor + 1] - 1 - tail] === target[start + length - 1 - tail]) tail++
      cursor++
      if (head + tail < MIN_SAVED) insert(ops, target.subarray(start, start + length))
      else {
        if (head > 0) copy(ops, at, head)
        if (head + tail < length) insert(ops, target.subarray(start + head, start + length - tail))
        if (tail > 0) copy(ops, baseStarts[cursor] - tail, tail)
      }
    } else {
      insert(ops, target.subarray(start, start + length))
    }
  }
  return ops
}

/**
 * Bytes of a piece that must match its base piece's ends to be copied from there: below this,
 * the two copy ops (about four bytes each) and the split literal cost about what they save.
 */
const MIN_SAVED = 12

/** Appends a copy of base bytes [from, from + length), joined to a copy that ends at `from`. */
function copy(ops: DeltaOp[], from: number, length: number): void {
  const last = ops[ops.length - 1]
  if (last !== undefined && !(last instanceof Uint8Array) && last[0] + last[1] === from)
    ops[ops.length - 1] = [last[0], last[1] + length]
  else ops.push([from, length])
}

/**
 * Appends literal bytes, joined to a literal before them. Literals are views of the target, and
 * one that follows the last in it widens that view: a node of new entries is one slice, not
 * copied again for each entry.
 */
function insert(ops: DeltaOp[], bytes: Uint8Array): void {
  const last = ops[ops.length - 1]
  if (!(last instanceof Uint8Array)) ops.push(bytes)
  else if (last.buffer === bytes.buffer && last.byteOffset + last.length === bytes.byteOffset)
    ops[ops.length - 1] = new Uint8Array(last.buffer, last.byteOffset, last.length + bytes.length)
  else {
    const joined = new Uint8Array(last.length + bytes.length)
    joined.set(last)
    joined.set(bytes, last.length)
    ops[ops.length - 1] = joined
  }
}

/** Where the pieces start: the header at 0, each entry, the tail; and the end. */
function pieceStarts(bytes: Uint8Array, offsets: readonly number[]): number[] {
  return [0, ...offsets, bytes.length]
}

/** FNV-1a over a range, mixed with its length. */
function hash(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start)
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193)
  return h >>> 0
}

function same(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false
  return true
}

/** Rebuilds a block from its base and a delta; throws ProtocolError on an op out of bounds. */
export function applyDelta(base: Uint8Array, ops: readonly unknown[]): Uint8Array {
  let length = 0
  for (const op of ops) {
    if (op instanceof Uint8Array) {
      length += op.length
    } else if (
      Array.isArray(op) &&
      op.length === 2 &&
      Number.isSafeInteger(op[0]) &&
      Number.isSafeInteger(op[1]) &&
      op[0] >= 0 &&
      op[1] > 0 &&
      op[0] + op[1] <= base.length
    ) {
      length += op[1]
    } else {
      throw new ProtocolError('delta op is neither bytes nor a copy within the base block')
    }
    if (length > MAX_BLOCK_BYTES) throw new ProtocolError('delta rebuilds a block over 1 MiB')
  }
  const out = new Uint8Array(length)
  let at = 0
  for (const op of ops) {
    if (op instanceof Uint8Array) {
      out.set(op, at)
      at += op.length
    } else {
      const [offset, n] = op as [number, number]
      out.set(base.subarray(offset, offset + n), at)
      at += n
    }
  }
  return out
}

/** Bytes a delta takes on the wire, roughly (for stats): literals plus a few bytes per copy. */
export function deltaSize(ops: readonly DeltaOp[]): number {
  let n = 0
  for (const op of ops) n += op instanceof Uint8Array ? op.length + 3 : 7
  return n
}

/** The size of the block `ops` rebuild: what a reader counts against its receive limits. */
export function rebuiltSize(ops: readonly DeltaOp[]): number {
  let n = 0
  for (const op of ops) n += op instanceof Uint8Array ? op.length : op[1]
  return n
}
