// The body of a `transact` call: the ops, in one of two encodings (by Content-Type).
//   application/x-ndjson (the default)  one op per line in DAG-JSON: {"op": "put", "key": "a",
//                                       "value": 1}; bytes as {"/": {"bytes": "<base64>"}}, a CID
//                                       as {"/": "bafy..."}. For people and curl.
//   application/vnd.dagsync.ops+cbor    each op in DAG-CBOR, after its length as an unsigned
//                                       varint (the framing of the remote-write protocol). What
//                                       the client sends: it decodes many times faster.
// The body is parsed as it arrives, an op at a time, and each op is checked and counted against
// the store's bulk limits at once: memory holds one op's text and the ops so far (at most
// MAX_BULK_OPS, MAX_BULK_BYTES), and a body past a limit is refused at the op that passes it,
// not after it has all been read.

import { CheckedOps, MAX_BULK_BYTES } from '@dagsync/store'
import { MalformedNodeError } from '@dagsync/tree'
import { ApiError } from './api.ts'
import { dropRest } from './body.ts'
import { toApiError } from './convert.ts'
import { decodeWire, MAX_JSON_BODY_BYTES, OPS_CBOR } from './wire.ts'

/**
 * The longest NDJSON line: a JSON call's limit (64 KiB), for the same reason (DAG-JSON is decoded
 * on the event loop in one go, and slowly). A larger binary value is sent as DAG-CBOR, or staged
 * (`stageBytes`) and placed by `put-ref`.
 */
export const MAX_OP_LINE_BYTES = MAX_JSON_BODY_BYTES

/** The longest DAG-CBOR op: one op alone may carry a whole list's bytes, and its fields. */
export const MAX_OP_CBOR_BYTES = MAX_BULK_BYTES + 64 * 1024

/**
 * The most a body may hold in all, blank lines and JSON's verbosity included: the ops' limits
 * bound what they carry, this bounds what is read to find them.
 */
export const MAX_OPS_BODY_BYTES = 8 * 1024 * 1024

/** Decoding between yields to the event loop: other requests wait at most about this long. */
const SLICE_MS = 10

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Splits a body into ops' encodings: each is decoded and checked as soon as it is whole. */
interface Framing {
  /** Takes the next piece of the body; returns the ops' encodings it completes. */
  push(bytes: Uint8Array): Iterable<Item>
  /** The body has ended: what is left. */
  end(): Iterable<Item>
}

interface Item {
  /** How errors name it: `line 3`, or `op 3`. */
  readonly where: string
  /** Decodes the op and adds it to the list, checked; throws ApiError if it cannot be decoded. */
  addTo(ops: CheckedOps): void
}

/**
 * The ops of a transact body, checked. A bad op fails the call with ApiError('bad-request')
 * naming its line (or place), with `index` its place among the ops; what is left of the body is
 * read and dropped first, so the client gets the answer. NDJSON's blank lines are skipped.
 */
export async function readOpsBody(
  body: ReadableStream<Uint8Array> | null,
  contentType: string | undefined = undefined,
): Promise<CheckedOps> {
  const ops = new CheckedOps()
  if (body === null) return ops
  const reader = body.getReader()
  const framing = contentType?.split(';')[0]?.trim() === OPS_CBOR ? cborFraming(ops) : ndjsonFraming(ops)
  let read = 0
  let slice = performance.now()
  const take = (item: Item): void => {
    const index = ops.length
    try {
      item.addTo(ops)
    } catch (err) {
      throw new ApiError('bad-request', `${item.where}: ${toApiError(err).message}`, { index, cause: err })
    }
  }
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      read += value.length
      if (read > MAX_OPS_BODY_BYTES)
        throw new ApiError(
          'bad-request',
          `the body is over ${MAX_OPS_BODY_BYTES / 1024 / 1024} MiB, the most one transact call reads: send fewer ops per call`,
          { index: ops.length },
        )
      for (const item of framing.push(value)) {
        take(item)
        if (performance.now() - slice > SLICE_MS) {
          await yieldToLoop()
          slice = performance.now()
        }
      }
    }
    for (const item of framing.end()) take(item)
  } catch (err) {
    await dropRest(reader, read)
    throw err
  } finally {
    reader.releaseLock()
  }
  return ops
}

/** One DAG-JSON op per line. */
function ndjsonFraming(ops: CheckedOps): Framing {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let line = 0
  // The line in progress, in the pieces it came in: joined once it ends, so that a body sent in
  // small pieces costs no more than one sent whole.
  let pieces: string[] = []
  let length = 0
  const item = (text: string): Item[] => {
    line++
    if (text.trim() === '') return []
    const where = `line ${line}`
    if (Buffer.byteLength(text) > MAX_OP_LINE_BYTES) tooLong(where, ops.length)
    return [{ where, addTo: (ops) => ops.add(decodeWire(text)) }]
  }
  const decode = (bytes?: Uint8Array): string => {
    try {
      return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true })
    } catch {
      throw new ApiError('bad-request', `line ${line + 1}: not UTF-8 text`, { index: ops.length })
    }
  }
  function* take(text: string): Generator<Item> {
    let start = 0
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      const rest = text.slice(start, end)
      yield* item(pieces.length === 0 ? rest : pieces.join('') + rest)
      pieces = []
      length = 0
      start = end + 1
    }
    if (start < text.length) {
      pieces.push(text.slice(start))
      length += text.length - start
      // A line that has not ended is held: refuse it once it cannot fit.
      if (length > MAX_OP_LINE_BYTES) tooLong(`line ${line + 1}`, ops.length)
    }
  }
  return {
    push: (bytes) => take(decode(bytes)),
    *end() {
      yield* take(decode())
      if (pieces.length > 0) yield* item(pieces.join(''))
    },
  }
}

function tooLong(where: string, index: number): never {
  throw new ApiError(
    'bad-request',
    `${where}: over ${MAX_OP_LINE_BYTES / 1024} KiB, the longest op line: send a large binary value as DAG-CBOR (${OPS_CBOR}), or stage it (stageBytes) and place it with a put-ref op`,
    { index },
  )
}

/** Each op in DAG-CBOR after its length (an unsigned varint). */
function cborFraming(ops: CheckedOps): Framing {
  // The bytes not yet used, and pieces that came after them: joined only once the op in progress
  // is whole (`wanted` bytes from the start of `pending`), so small pieces cost no more than large.
  let pending: Uint8Array = new Uint8Array(0)
  let parts: Uint8Array[] = []
  let partBytes = 0
  let wanted = 0
  const where = () => `op ${ops.length + 1}`
  return {
    *push(bytes) {
      parts.push(bytes)
      partBytes += bytes.length
      if (pending.length + partBytes < wanted) return
      pending = parts.length === 1 && pending.length === 0 ? bytes : Buffer.concat([pending, ...parts])
      parts = []
      partBytes = 0
      let at = 0
      for (;;) {
        const length = readVarint(pending, at)
        if (length === undefined) {
          wanted = 0
          break
        }
        if (length.value > MAX_OP_CBOR_BYTES)
          throw new ApiError(
            'bad-request',
            `${where()}: ${length.value} bytes, over the ${MAX_OP_CBOR_BYTES} one op may be`,
            { index: ops.length },
          )
        const end = length.next + length.value
        if (end > pending.length) {
          wanted = end - at
          break
        }
        const encoded = pending.subarray(length.next, end)
        at = end
        yield { where: where(), addTo: (ops) => addCborOp(ops, encoded) }
      }
      pending = pending.subarray(at)
    },
    end() {
      if (pending.length + partBytes > 0)
        throw new ApiError('bad-request', `${where()}: the body ends inside it`, { index: ops.length })
      return []
    },
  }
}

/** An unsigned varint at `at`, and where its data starts; undefined if the bytes end before it does. */
function readVarint(bytes: Uint8Array, at: number): { value: number; next: number } | undefined {
  let value = 0
  for (let i = 0; i < 5; i++) {
    if (at + i >= bytes.length) return undefined
    const byte = bytes[at + i] as number
    value += (byte & 0x7f) * 2 ** (7 * i)
    if ((byte & 0x80) === 0) return { value, next: at + i + 1 }
  }
  throw new ApiError('bad-request', 'an op length is longer than a varint of 5 bytes')
}

/** An op's DAG-CBOR, checked and decoded as the store reads values (a leading U+FEFF kept). */
function addCborOp(ops: CheckedOps, bytes: Uint8Array): void {
  try {
    ops.addCbor(bytes)
  } catch (err) {
    if (!(err instanceof MalformedNodeError)) throw err
    throw new ApiError('bad-request', `not valid DAG-CBOR: ${err.message}`)
  }
}
