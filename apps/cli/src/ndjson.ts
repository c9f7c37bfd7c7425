// The file format of `dagsync import` and `dagsync export`: NDJSON, one key per line, in DAG-JSON.
//
//   {"key": "todo/1", "value": {"title": "Write docs"}}   a value (DAG-JSON: {"/": "bafy..."} is a
//                                                         link, {"/": {"bytes": "<base64>"}} bytes)
//   {"key": "logo.png", "bytes": "iVBORw0KGgo="}          a binary value: its bytes in base64 (RFC 4648,
//                                                         padded or not); `bytes` is the type marker
//   {"key": "video", "ref": {"/": "bafy..."}}             a binary value by reference, to bytes the
//                                                         writer's repo holds (a raw block, a staged upload)
//   {"key": "todo/3", "delete": true}                     a delete
//
// A key is a string, or bytes as {"/": {"bytes": "<base64>"}}. `export` writes values and binary
// values; `import` reads all four, and also one JSON object of keys and values (`{"a": 1, ...}`).

import { decodeWire, encodeWire, MAX_JSON_BODY_BYTES } from '@dagsync/daemon/client'
import type { WriteOp } from '@dagsync/store/ops'
import { CID } from 'multiformats/cid'

/** A line that is not an entry of the format, with its line number. */
export class LineError extends Error {
  override name = 'LineError'
  readonly line: number

  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`)
    this.line = line
  }
}

/** Base64 (RFC 4648), padded or not: checked, since Buffer's decoder skips what it does not know. */
function isBase64(text: string): boolean {
  const body = text.replace(/={1,2}$/, '')
  if (/[^A-Za-z0-9+/]/.test(body) || body.length % 4 === 1) return false
  return body.length === text.length || text.length % 4 === 0
}

const KINDS = ['value', 'bytes', 'ref', 'delete'] as const

function isMap(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    CID.asCID(value) === null
  )
}

/** Whether a decoded line looks like an entry of this format (for telling NDJSON from one JSON object). */
export function isEntry(value: unknown): boolean {
  return isMap(value) && 'key' in value && KINDS.some((kind) => kind in value)
}

/** The most a value line may be: the API's limit for a JSON value, as for `put`. */
export const MAX_VALUE_LINE_BYTES = MAX_JSON_BODY_BYTES

/**
 * The op a line of the format stands for; throws LineError naming what is wrong with it. A line
 * of up to 64 KiB is read as DAG-JSON (links, bytes, large integers). A longer one can only be a
 * binary value (a value line is held to 64 KiB): DAG-JSON's decoder takes seconds over a string
 * of megabytes, so it is read as JSON, and its key and ref, which may be DAG-JSON's {"/": ...},
 * decoded as such.
 */
export function lineToOp(text: string, line: number): WriteOp {
  if (text.length * 3 <= MAX_VALUE_LINE_BYTES || Buffer.byteLength(text) <= MAX_VALUE_LINE_BYTES) {
    let entry: unknown
    try {
      entry = readDagJson(text)
    } catch (err) {
      throw new LineError(line, `not JSON (${(err as Error).message.replace(/^not valid DAG-JSON: /, '')})`)
    }
    if (!isMap(entry)) throw new LineError(line, 'not an object like {"key": "k", "value": ...}')
    return entryToOp(entry, line)
  }
  let entry: unknown
  try {
    entry = JSON.parse(text)
  } catch (err) {
    throw new LineError(line, `not JSON (${(err as Error).message})`)
  }
  if (!isMap(entry)) throw new LineError(line, 'not an object like {"key": "k", "value": ...}')
  if ('value' in entry)
    throw new LineError(
      line,
      `the value is over ${MAX_VALUE_LINE_BYTES / 1024} KiB, the limit for JSON values: store it as bytes (a "bytes" line)`,
    )
  for (const field of ['key', 'ref']) {
    const value = entry[field]
    if (isMap(value) && '/' in value) {
      try {
        entry[field] = decodeWire(JSON.stringify(value))
      } catch (err) {
        throw new LineError(line, `"${field}": ${(err as Error).message}`)
      }
    }
  }
  return entryToOp(entry, line)
}

/** Every JSON string, and whether a colon follows it (then it is a map key). */
const STRING = /"(?:[^"\\]|\\.)*"(\s*:)?/g

/**
 * DAG-JSON, decoded as `decodeWire` decodes it, but by JSON.parse where that gives the same: a
 * line with no {"/": ...} form (links, bytes), no -0 and no integer of 16 digits or more (which
 * DAG-JSON reads as a bigint), and no map with a repeated key (which DAG-JSON refuses; JSON.parse
 * would keep the last). Anything else goes to `decodeWire`. JSON.parse is native and several
 * times faster: an import reads 100,000 lines.
 */
export function readDagJson(text: string): unknown {
  if (text.includes('"/"') || text.includes('-0') || /\d{16}/.test(text)) return decodeWire(text)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return decodeWire(text)
  }
  // A repeated key leaves fewer keys in the result than in the text: DAG-JSON's decoder says where.
  // Every key in the text is followed by a colon, so as many colons as keys in the result means
  // none repeats (the usual line, with no colon inside a string: no need to scan its strings).
  const found = countKeys(value)
  let colons = 0
  for (let at = text.indexOf(':'); at >= 0 && colons <= found; at = text.indexOf(':', at + 1)) colons++
  if (colons === found) return value
  let keys = 0
  STRING.lastIndex = 0
  for (let m = STRING.exec(text); m !== null; m = STRING.exec(text)) if (m[1] !== undefined) keys++
  return keys === found ? value : decodeWire(text)
}

function countKeys(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0
  let n = 0
  if (Array.isArray(value)) {
    for (const item of value) n += countKeys(item)
    return n
  }
  for (const key in value) n += 1 + countKeys((value as Record<string, unknown>)[key])
  return n
}

/** The op of one decoded entry; throws LineError naming its `position` (a line, or an entry's place). */
export function entryToOp(entry: Record<string, unknown>, position: number): WriteOp {
  const { key } = entry
  if (typeof key !== 'string' && !(key instanceof Uint8Array))
    throw new LineError(position, '"key" must be a string or bytes')
  const kinds = KINDS.filter((kind) => kind in entry)
  if (kinds.length !== 1)
    throw new LineError(position, 'give exactly one of "value", "bytes", "ref" or "delete" with the key')
  for (const field of Object.keys(entry)) {
    if (field !== 'key' && field !== kinds[0]) throw new LineError(position, `unknown field "${field}"`)
  }
  switch (kinds[0]) {
    case 'value':
      return { op: 'put', key, value: entry.value }
    case 'delete':
      if (entry.delete !== true) throw new LineError(position, '"delete" must be true')
      return { op: 'delete', key }
    case 'bytes': {
      const text = entry.bytes
      if (typeof text !== 'string' || !isBase64(text)) throw new LineError(position, '"bytes" must be base64 text')
      return { op: 'put-bytes', key, bytes: new Uint8Array(Buffer.from(text, 'base64')) }
    }
    default: {
      const ref = CID.asCID(entry.ref)
      if (ref === null) throw new LineError(position, '"ref" must be a CID: {"/": "bafy..."}')
      return { op: 'put-ref', key, ref }
    }
  }
}

/** A key as the format writes it: a JSON string, or DAG-JSON bytes. */
export function keyJson(key: string | Uint8Array): string {
  return encodeWire(key)
}

/** The line of a value. */
export function valueLine(key: string | Uint8Array, value: unknown): string {
  return `{"key":${keyJson(key)},"value":${encodeWire(value)}}\n`
}

/** The line of a binary value held in memory. */
export function bytesLine(key: string | Uint8Array, bytes: Uint8Array): string {
  return `{"key":${keyJson(key)},"bytes":"${Buffer.from(bytes).toString('base64')}"}\n`
}

/**
 * The line of a binary value read as a stream, in pieces: base64 is written 3 bytes to 4
 * characters, so a value of any size is never held whole.
 */
export async function* streamedBytesLine(
  key: string | Uint8Array,
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<string> {
  yield `{"key":${keyJson(key)},"bytes":"`
  let carry = Buffer.alloc(0)
  for await (const chunk of chunks) {
    const all = Buffer.concat([carry, chunk])
    const whole = all.length - (all.length % 3)
    yield all.subarray(0, whole).toString('base64')
    carry = all.subarray(whole)
  }
  yield `${carry.toString('base64')}"}\n`
}

/** The lines of a stream of UTF-8 text, without their line ends (\n or \r\n); `onBytes` counts what is read. */
export async function* readLines(
  source: AsyncIterable<Uint8Array>,
  onBytes: (n: number) => void = () => {},
): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  // A byte-order mark is dropped at the start of the input only: elsewhere U+FEFF is text.
  const first = new TextDecoder('utf-8', { fatal: true })
  let line = 0
  // Split on the byte \n (never inside a UTF-8 sequence), then decode each line: bad UTF-8 is named by its line.
  const text = (bytes: Uint8Array): string => {
    line++
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length
    try {
      return (line === 1 ? first : decoder).decode(bytes.subarray(0, end))
    } catch {
      throw new LineError(line, 'not UTF-8 text')
    }
  }
  let partial: Uint8Array[] = []
  for await (const chunk of source) {
    onBytes(chunk.length)
    let start = 0
    for (let end = chunk.indexOf(0x0a); end >= 0; end = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, end)
      yield text(partial.length === 0 ? piece : Buffer.concat([...partial, piece]))
      partial = []
      start = end + 1
    }
    if (start < chunk.length) partial.push(chunk.subarray(start))
  }
  if (partial.length > 0) yield text(Buffer.concat(partial))
}
