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
 * entries become copies; runs of them that sit together in `base` become one copy.
 */
export function encodeDelta(
  base: Uint8Array,
  baseOffsets: Uint32Array,
  target: Uint8Array,
  targetOffsets: Uint32Array,
): DeltaOp[] {
  const where = new Map<string, number>()
  for (const [start, end] of pieces(base, baseOffsets)) where.set(key(base, start, end), start)
  const ops: (readonly [number, number] | Uint8Array)[] = []
  for (const [start, end] of pieces(target, targetOffsets)) {
    const from = where.get(key(target, start, end))
    const last = ops[ops.length - 1]
    if (from !== undefined) {
      if (last !== undefined && !(last instanceof Uint8Array) && last[0] + last[1] === from)
        ops[ops.length - 1] = [last[0], last[1] + end - start]
      else ops.push([from, end - start])
    } else if (last instanceof Uint8Array) {
      const joined = new Uint8Array(last.length + end - start)
      joined.set(last)
      joined.set(target.subarray(start, end), last.length)
      ops[ops.length - 1] = joined
    } else {
      ops.push(target.subarray(start, end))
    }
  }
  return ops
}

/** The header (up to the first entry), each entry, and the tail (after the last). */
function* pieces(bytes: Uint8Array, offsets: Uint32Array): Generator<[number, number]> {
  const n = offsets.length - 1
  yield [0, offsets[0]]
  for (let i = 0; i < n; i++) yield [offsets[i], offsets[i + 1]]
  yield [offsets[n], bytes.length]
}

function key(bytes: Uint8Array, start: number, end: number): string {
  let s = ''
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i])
  return s
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
