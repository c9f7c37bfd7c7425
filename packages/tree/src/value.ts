// Values: checked against the IPLD data model, encoded once with @ipld/dag-cbor, and stored
// inline, as one block, or as fixed-size raw chunks under an index, by encoded length alone.
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { concatBytes } from './bytes.ts'
import { CborReader, MAJOR_BYTES } from './cbor.ts'
import { decodeValidated, encodeValue } from './dag-cbor.ts'
import { InvalidValueError, MalformedValueError } from './errors.ts'
import { cidOf, RAW } from './hash.ts'
import { CHUNK_BYTES, MAX_BLOCK_BYTES, MAX_BLOCK_DEPTH, MAX_INLINE_VALUE_BYTES, MAX_META_BYTES } from './limits.ts'
import type { StoredValue } from './node.ts'

export interface Block {
  readonly cid: CID
  readonly bytes: Uint8Array
}

/** A value ready to go into an entry, with the blocks (if any) that must be written with it. */
export interface PreparedValue {
  readonly stored: StoredValue
  readonly blocks: readonly Block[]
  /** The length of the value's DAG-CBOR encoding. */
  readonly size: number
}

/** Reads a block's bytes; throws if the block cannot be had. */
export type GetBlock = (cid: CID) => Promise<Uint8Array>

/** What a chunk index block holds: `{c: [raw chunk CIDs], k: what the chunks hold, s: total bytes}`. */
interface ChunkIndex {
  /** 'bytes': the chunks are a byte-string value's own bytes; 'dag-cbor': they are a value's encoding. */
  readonly kind: 'bytes' | 'dag-cbor'
  readonly size: number
  readonly chunks: readonly CID[]
}

/** Biggest value: as many chunks as a 1 MiB index can list (about 6.4 GiB). */
const MAX_CHUNKS = Math.floor((MAX_BLOCK_BYTES - 32) / 41)

/** Encodes metadata: a plain object whose encoding fits in MAX_META_BYTES, or nothing. */
export function encodeMeta(meta: Record<string, unknown>): Uint8Array
export function encodeMeta(meta: Record<string, unknown> | null | undefined): Uint8Array | null
export function encodeMeta(meta: Record<string, unknown> | null | undefined): Uint8Array | null {
  if (meta === null || meta === undefined) return null
  if (typeof meta !== 'object' || Array.isArray(meta) || meta instanceof Uint8Array) {
    throw new InvalidValueError('metadata must be a plain object')
  }
  const bytes = encodeValue(meta, 'meta')
  if (bytes.length > MAX_META_BYTES) {
    throw new InvalidValueError(`metadata encodes to ${bytes.length} bytes, the limit is ${MAX_META_BYTES}`)
  }
  return bytes
}

/** Prepares a value for an entry: encodes it and picks its form by encoded length. */
export function prepareValue(value: unknown): PreparedValue {
  // A large byte string is chunked as it is: no need to build its encoding first.
  if (value instanceof Uint8Array && byteStringEncodedLength(value.length) > MAX_BLOCK_BYTES)
    return chunk(value, 'bytes')
  return prepareEncoded(encodeValue(value))
}

/**
 * Picks the form of a value already encoded (by encodeValue, or bytes encodedValueLinks vouched
 * for), as prepareValue would for the value: a byte string too large for one block is chunked
 * as its own bytes, any other large encoding as it is.
 */
export function prepareEncoded(encoding: Uint8Array): PreparedValue {
  const size = encoding.length
  if (size <= MAX_INLINE_VALUE_BYTES) return { stored: { kind: 'inline', bytes: encoding }, blocks: NO_BLOCKS, size }
  if (size <= MAX_BLOCK_BYTES) {
    const cid = cidOf(encoding)
    return { stored: { kind: 'block', cid }, blocks: [{ cid, bytes: encoding }], size }
  }
  const info = encoding[0] & 0x1f
  if (encoding[0] >> 5 === MAJOR_BYTES) return chunk(encoding.subarray(info === 26 ? 5 : 9), 'bytes')
  return chunk(encoding, 'dag-cbor')
}

function chunk(content: Uint8Array, kind: ChunkIndex['kind']): PreparedValue {
  const blocks: Block[] = []
  for (let offset = 0; offset < content.length; offset += CHUNK_BYTES) {
    const bytes = content.subarray(offset, offset + CHUNK_BYTES)
    blocks.push({ cid: cidOf(bytes, RAW), bytes })
  }
  const index = indexBlock(
    blocks.map((b) => b.cid),
    kind,
    content.length,
  )
  const size = kind === 'bytes' ? byteStringEncodedLength(content.length) : content.length
  return { stored: { kind: 'chunked', cid: index.cid }, blocks: [...blocks, index], size }
}

const NO_BLOCKS: readonly Block[] = Object.freeze([])

function indexBlock(chunks: CID[], kind: ChunkIndex['kind'], size: number): Block {
  if (chunks.length > MAX_CHUNKS) {
    throw new InvalidValueError(`value is ${size} bytes, the limit is ${MAX_CHUNKS * CHUNK_BYTES}`)
  }
  const bytes = dagCbor.encode({ c: chunks, k: kind, s: size })
  return { cid: cidOf(bytes), bytes }
}

/**
 * Prepares a byte-string value from a stream without holding more than one block in memory
 * once it is known to be large: the first 1 MiB decides the form, later chunks go straight to
 * `put`. The result is identical to prepareValue(the whole byte string).
 */
export async function prepareByteStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  put: (block: Block) => Promise<void>,
): Promise<StoredValue> {
  let pending: Uint8Array = new Uint8Array(0)
  const chunks: CID[] = []
  let size = 0
  let streaming = false
  for await (const piece of source) {
    if (!(piece instanceof Uint8Array)) throw new InvalidValueError('a byte stream must yield Uint8Array chunks')
    size += piece.length
    pending = pending.length === 0 ? piece : concatBytes([pending, piece])
    // Until the encoding is known to exceed one block, keep it whole: it may still fit inline or in one block.
    if (!streaming && byteStringEncodedLength(size) <= MAX_BLOCK_BYTES) continue
    streaming = true
    while (pending.length >= CHUNK_BYTES) {
      const bytes = pending.slice(0, CHUNK_BYTES)
      pending = pending.subarray(CHUNK_BYTES)
      await putChunk(bytes)
    }
  }
  if (!streaming) {
    const prepared = prepareValue(pending)
    for (const block of prepared.blocks) await put(block)
    return prepared.stored
  }
  if (pending.length > 0) await putChunk(pending)
  const index = indexBlock(chunks, 'bytes', size)
  await put(index)
  return { kind: 'chunked', cid: index.cid }

  async function putChunk(bytes: Uint8Array): Promise<void> {
    if (chunks.length === MAX_CHUNKS) throw new InvalidValueError(`value exceeds ${MAX_CHUNKS * CHUNK_BYTES} bytes`)
    const cid = cidOf(bytes, RAW)
    await put({ cid, bytes })
    chunks.push(cid)
  }
}

function byteStringEncodedLength(n: number): number {
  return n + (n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9)
}

/** Decodes a stored value, reading its blocks as needed. */
export async function readValue(stored: StoredValue, getBlock: GetBlock): Promise<unknown> {
  if (stored.kind === 'inline') return decodeValidated(stored.bytes)
  if (stored.kind === 'block') return decodeValueBlock(stored.cid, await getBlock(stored.cid))
  const index = decodeChunkIndex(stored.cid, await getBlock(stored.cid))
  const content = new Uint8Array(index.size)
  let offset = 0
  for await (const piece of readChunks(index, stored.cid, getBlock)) {
    content.set(piece, offset)
    offset += piece.length
  }
  return index.kind === 'bytes' ? content : decodeValueBlock(stored.cid, content)
}

/** Streams a byte-string value chunk by chunk; throws InvalidValueError if the value is not bytes. */
export async function* readByteStream(stored: StoredValue, getBlock: GetBlock): AsyncGenerator<Uint8Array> {
  if (stored.kind === 'chunked') {
    const index = decodeChunkIndex(stored.cid, await getBlock(stored.cid))
    if (index.kind === 'bytes') {
      yield* readChunks(index, stored.cid, getBlock)
      return
    }
  }
  const value = await readValue(stored, getBlock)
  if (!(value instanceof Uint8Array)) throw new InvalidValueError('value is not a byte string')
  yield value
}

async function* readChunks(index: ChunkIndex, indexCid: CID, getBlock: GetBlock): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < index.chunks.length; i++) {
    const bytes = await getBlock(index.chunks[i])
    const want = i < index.chunks.length - 1 ? CHUNK_BYTES : index.size - CHUNK_BYTES * (index.chunks.length - 1)
    if (bytes.length !== want) throw malformed(indexCid, `chunk ${i} is ${bytes.length} bytes, expected ${want}`)
    yield bytes
  }
}

/**
 * Decodes an out-of-line value block: validated as any block a walk reads, then decoded as an
 * inline value is (not by @ipld/dag-cbor, whose decoder drops a string's leading U+FEFF).
 */
export function decodeValueBlock(cid: CID, bytes: Uint8Array): unknown {
  try {
    const reader = new CborReader(bytes, MAX_BLOCK_DEPTH)
    reader.item()
    if (!reader.done) reader.fail('trailing bytes after value')
  } catch (err) {
    throw malformed(cid, `value block is not valid DAG-CBOR: ${(err as Error).message}`)
  }
  return decodeValidated(bytes)
}

/**
 * Decodes DAG-CBOR that comes from outside (a request, an upload): checked first as a block is
 * (well-formed, canonical, nested at most `maxDepth` deep), then decoded as values are, keeping a
 * string's leading U+FEFF, which @ipld/dag-cbor's decoder drops. Throws MalformedNodeError.
 */
export function decodeCbor(bytes: Uint8Array, maxDepth: number = MAX_BLOCK_DEPTH): unknown {
  const reader = new CborReader(bytes, maxDepth)
  reader.item()
  if (!reader.done) reader.fail('trailing bytes after the item')
  return decodeValidated(bytes)
}

/** Decodes and validates a chunk index. */
export function decodeChunkIndex(cid: CID, bytes: Uint8Array): ChunkIndex {
  let data: unknown
  try {
    data = dagCbor.decode(bytes)
  } catch (err) {
    throw malformed(cid, `chunk index is not valid DAG-CBOR: ${(err as Error).message}`)
  }
  const { c, k, s, ...rest } = (data ?? {}) as { c?: unknown; k?: unknown; s?: unknown }
  if (typeof data !== 'object' || Object.keys(rest).length > 0) throw malformed(cid, 'chunk index must be {c, k, s}')
  if (k !== 'bytes' && k !== 'dag-cbor') throw malformed(cid, 'chunk index kind must be "bytes" or "dag-cbor"')
  if (typeof s !== 'number' || !Number.isSafeInteger(s)) throw malformed(cid, 'chunk index size must be an integer')
  if (!Array.isArray(c) || c.length === 0) throw malformed(cid, 'chunk index must list its chunks')
  const chunks = c.map((link) => CID.asCID(link))
  if (chunks.some((link) => link === null || link.code !== RAW)) throw malformed(cid, 'chunks must be raw-codec CIDs')
  if (c.length !== Math.ceil(s / CHUNK_BYTES))
    throw malformed(cid, `a ${s}-byte value has ${Math.ceil(s / CHUNK_BYTES)} chunks, not ${c.length}`)
  const encodedLength = k === 'bytes' ? byteStringEncodedLength(s) : s
  if (encodedLength <= MAX_BLOCK_BYTES) throw malformed(cid, 'a value that fits in one block must not be chunked')
  return { kind: k, size: s, chunks: chunks as CID[] }
}

function malformed(cid: CID, message: string): MalformedValueError {
  const err = new MalformedValueError(message)
  err.cid = cid
  return err
}
