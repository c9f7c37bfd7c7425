// Binary values by reference: a CID that names bytes storage already holds, placed at a key
// without the bytes being sent again. A reference is
//   - a raw block (codec raw; an identity CID carries its bytes itself): its bytes;
//   - a byte string as dagsync stores one out of line: a DAG-CBOR block holding a byte string,
//     or the index of a chunked byte string ({c, k: 'bytes', s}, what values over 1 MiB are);
// and the entry written is exactly what `bassoc` of those bytes writes, so equal bytes still
// give equal trees. Where that form is the referenced block itself (an out-of-line byte string,
// a chunk index) nothing is copied; otherwise (a raw block, a short byte string) the bytes are
// read here and re-encoded.

import {
  type Block,
  DAG_CBOR,
  decodeChunkIndex,
  decodeValueBlock,
  equalBytes,
  InvalidValueError,
  isInlineCid,
  type PreparedValue,
  prepareValue,
  RAW,
  type StoredValue,
} from '@dagsync/tree'
import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from 'multiformats/cid'

export interface ResolvedRef {
  readonly stored: StoredValue
  /** The byte string's length (what `getMeta` reports as a binary value's size). */
  readonly size: number
  /** Blocks to write with the entry (none when the reference is used as it is). */
  readonly blocks: readonly Block[]
  /** The referenced block, when the entry links to it: it must still be held when the commit is written. */
  readonly link?: CID
}

/** Reads a block storage holds (or one pending in the transaction); undefined if there is none. */
export type ReadHeld = (cid: CID) => Promise<Uint8Array | undefined>

/** The entry `ref` stands for, and what must be written or kept for it; refuses what names no bytes. */
export async function resolveByteRef(ref: CID, read: ReadHeld): Promise<ResolvedRef> {
  const bytes = isInlineCid(ref) ? ref.multihash.digest : await read(ref)
  if (bytes === undefined)
    throw new InvalidValueError(
      `ref ${ref} names a block this storage does not hold: stage the bytes first (stageBytes), or import them (car import)`,
    )
  if (ref.code === RAW) return copied(prepareValue(bytes), bytes.length)
  if (ref.code !== DAG_CBOR) throw notBytes(ref, 'its codec is neither raw nor dag-cbor')
  let decoded: unknown
  try {
    decoded = dagCbor.decode(bytes)
  } catch (err) {
    throw notBytes(ref, `it is not valid DAG-CBOR (${(err as Error).message})`)
  }
  if (decoded instanceof Uint8Array) {
    const content = decodeValueBlock(ref, bytes) as Uint8Array
    const prepared = prepareValue(content)
    // An out-of-line byte string is its own stored form: link to it rather than copy it.
    if (prepared.stored.kind === 'block' && prepared.stored.cid.equals(ref) && !isInlineCid(ref))
      return { stored: prepared.stored, size: content.length, blocks: [], link: ref }
    return copied(prepared, content.length)
  }
  let index: ReturnType<typeof decodeChunkIndex>
  try {
    index = decodeChunkIndex(ref, bytes)
  } catch (err) {
    throw notBytes(ref, `it is neither a byte string nor a chunk index (${(err as Error).message})`)
  }
  if (index.kind !== 'bytes') throw notBytes(ref, 'it is the chunk index of a structured value, not of bytes')
  // The same bytes written by bassoc give this very index; another encoding of it would not.
  if (!equalBytes(dagCbor.encode({ c: index.chunks, k: index.kind, s: index.size }), bytes))
    throw notBytes(ref, 'its chunk index is not encoded as dagsync encodes one')
  if (isInlineCid(ref)) throw notBytes(ref, 'a chunk index is never inline')
  const stored: StoredValue = { kind: 'chunked', cid: ref }
  return { stored, size: index.size, blocks: [], link: ref }
}

function copied(prepared: PreparedValue, size: number): ResolvedRef {
  return { stored: prepared.stored, size, blocks: prepared.blocks }
}

function notBytes(ref: CID, why: string): InvalidValueError {
  return new InvalidValueError(`ref ${ref} does not name bytes: ${why}`)
}
