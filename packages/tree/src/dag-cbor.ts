// DAG-CBOR for values on the hot path. Encoding and decoding a small value through cborg costs
// a few microseconds, which is most of the cost of a bulk load or a cached read, so the common
// shapes are written and read here directly. @ipld/dag-cbor remains the reference: anything
// unusual (bigints, non-ASCII map keys) is handed to it, and tests check both directions against
// it byte for byte on random values. Either way a value is held to the limits readers enforce
// (assertIpldValue), so nothing is written that a reader would refuse.
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { InvalidValueError } from './errors.ts'
import { assertIpldValue, linkProblem } from './ipld.ts'
import { MAX_VALUE_DEPTH } from './limits.ts'

let buffer = new Uint8Array(4096)
let pos = 0
const view = (): DataView => new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
let dataView = view()

/**
 * Thrown inside the encoder for a value it leaves to @ipld/dag-cbor, or one that breaks a limit:
 * assertIpldValue then refuses it, naming where.
 */
const FALLBACK = Symbol('fallback')

/**
 * Encodes a value in the IPLD data model, byte-identical to @ipld/dag-cbor; refuses anything
 * else, and anything a reader would refuse (see assertIpldValue). `path` names the value in errors.
 */
export function encodeValue(value: unknown, path = 'value'): Uint8Array {
  pos = 0
  try {
    write(value, 0)
  } catch (err) {
    if (err !== FALLBACK) {
      // Name the offending part of the value; assertIpldValue throws with its path.
      assertIpldValue(value, path)
      throw err
    }
    assertIpldValue(value, path)
    try {
      return dagCbor.encode(value)
    } catch (cause) {
      throw new InvalidValueError(`value cannot be encoded as DAG-CBOR: ${(cause as Error).message}`, { cause })
    }
  }
  const out = buffer.slice(0, pos)
  // Do not keep a huge scratch buffer alive after one huge value.
  if (buffer.length > 1 << 20) {
    buffer = new Uint8Array(4096)
    dataView = view()
  }
  return out
}

function reserve(n: number): void {
  if (pos + n <= buffer.length) return
  const next = new Uint8Array(Math.max(buffer.length * 2, pos + n))
  next.set(buffer.subarray(0, pos))
  buffer = next
  dataView = view()
}

function header(major: number, n: number): void {
  reserve(9)
  const b = buffer
  const m = major << 5
  if (n < 24) {
    b[pos++] = m | n
  } else if (n < 0x100) {
    b[pos++] = m | 24
    b[pos++] = n
  } else if (n < 0x10000) {
    b[pos++] = m | 25
    b[pos++] = n >>> 8
    b[pos++] = n & 0xff
  } else if (n < 0x100000000) {
    b[pos++] = m | 26
    dataView.setUint32(pos, n)
    pos += 4
  } else {
    b[pos++] = m | 27
    dataView.setUint32(pos, Math.floor(n / 0x100000000))
    dataView.setUint32(pos + 4, n >>> 0)
    pos += 8
  }
}

/** Writes a string; returns false (writing nothing) if it is not all ASCII. */
function asciiString(s: string): boolean {
  const n = s.length
  reserve(n + 9)
  const start = pos
  header(3, n)
  const b = buffer
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) {
      pos = start
      return false
    }
    b[pos++] = c
  }
  return true
}

const encoder = new TextEncoder()

function string(s: string): void {
  if (asciiString(s)) return
  // TextEncoder would turn a lone surrogate into U+FFFD: a different value.
  if (!s.isWellFormed()) throw FALLBACK
  const bytes = encoder.encode(s)
  header(3, bytes.length)
  raw(bytes)
}

function raw(bytes: Uint8Array): void {
  reserve(bytes.length)
  buffer.set(bytes, pos)
  pos += bytes.length
}

function write(value: unknown, depth: number): void {
  // Readers refuse deeper values; so does assertIpldValue.
  if (depth > MAX_VALUE_DEPTH) throw FALLBACK
  switch (typeof value) {
    case 'string':
      string(value)
      return
    case 'number':
      if (Number.isSafeInteger(value)) {
        if (value >= 0) header(0, value)
        else header(1, -1 - value)
      } else if (Number.isFinite(value)) {
        reserve(9)
        buffer[pos++] = 0xfb
        dataView.setFloat64(pos, value)
        pos += 8
      } else {
        throw new InvalidValueError(`value contains ${value}, which IPLD cannot represent`)
      }
      return
    case 'boolean':
      reserve(1)
      buffer[pos++] = value ? 0xf5 : 0xf4
      return
    case 'object': {
      if (value === null) {
        reserve(1)
        buffer[pos++] = 0xf6
        return
      }
      if (Array.isArray(value)) {
        header(4, value.length)
        for (let i = 0; i < value.length; i++) write(value[i], depth + 1)
        return
      }
      if (value instanceof Uint8Array) {
        header(2, value.length)
        raw(value)
        return
      }
      const cid = CID.asCID(value)
      if (cid !== null) {
        if (linkProblem(cid.bytes) !== undefined) throw FALLBACK
        reserve(2)
        buffer[pos++] = 0xd8
        buffer[pos++] = 42
        header(2, cid.bytes.length + 1)
        reserve(1)
        buffer[pos++] = 0
        raw(cid.bytes)
        return
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) throw FALLBACK
      map(value as Record<string, unknown>, depth)
      return
    }
    default:
      // bigint goes to the reference encoder; undefined, functions and symbols are refused there.
      throw FALLBACK
  }
}

function map(value: Record<string, unknown>, depth: number): void {
  let keys = Object.keys(value)
  // DAG-CBOR orders keys by encoded length, then bytewise; for ASCII keys that is length, then
  // string order. Most objects are written in that order already, so check before sorting.
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]
    for (let j = 0; j < k.length; j++) if (k.charCodeAt(j) >= 0x80) throw FALLBACK
    if (i > 0 && !keyBefore(keys[i - 1], k)) {
      keys = [...keys].sort((a, b) => (keyBefore(a, b) ? -1 : 1))
      break
    }
  }
  header(5, keys.length)
  for (const k of keys) {
    const v = value[k]
    if (v === undefined) throw new InvalidValueError('value contains undefined, which IPLD cannot represent')
    // The order check above stops at the first key out of order, before it has seen them all.
    if (!asciiString(k)) throw FALLBACK
    write(v, depth + 1)
  }
}

function keyBefore(a: string, b: string): boolean {
  return a.length !== b.length ? a.length < b.length : a < b
}

// A leading U+FEFF is a character of the string, not a byte-order mark to drop: dropping it
// would read "\ufeffa" as "a", and a map with keys "\ufeff" and "" as one with a repeated key.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })

/**
 * Decodes DAG-CBOR that the node reader has already validated (canonical, well-formed), so it
 * needs no checks of its own. Gives the same values as @ipld/dag-cbor's decoder.
 */
export function decodeValidated(bytes: Uint8Array): unknown {
  const saved = [input, at]
  input = bytes
  at = 0
  try {
    return read()
  } finally {
    // Decoding does not re-enter, but restore anyway so a nested call could never corrupt state.
    input = saved[0] as Uint8Array
    at = saved[1] as number
  }
}

let input: Uint8Array = new Uint8Array(0)
let at = 0

function viewAt(n: number): DataView {
  return new DataView(input.buffer, input.byteOffset + at, n)
}

function argument(info: number): number | bigint {
  if (info < 24) return info
  const b = input
  if (info === 24) return b[at++]
  if (info === 25) {
    const n = (b[at] << 8) | b[at + 1]
    at += 2
    return n
  }
  if (info === 26) {
    const n = b[at] * 0x1000000 + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3])
    at += 4
    return n
  }
  const n = viewAt(8).getBigUint64(0)
  at += 8
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n
}

function read(): unknown {
  const first = input[at++]
  const major = first >> 5
  const info = first & 0x1f
  switch (major) {
    case 0:
      return argument(info)
    case 1: {
      const n = argument(info)
      if (typeof n === 'bigint') return -1n - n
      // As cborg does: a result beyond the safe integers is a bigint.
      return n < Number.MAX_SAFE_INTEGER ? -1 - n : -1n - BigInt(n)
    }
    case 2: {
      const n = argument(info) as number
      // A copy, and always a plain Uint8Array (slicing a Buffer would give a Buffer).
      const out = new Uint8Array(n)
      out.set(input.subarray(at, at + n))
      at += n
      return out
    }
    case 3: {
      const n = argument(info) as number
      const s = text(input, at, n)
      at += n
      return s
    }
    case 4: {
      const n = argument(info) as number
      const out = new Array(n)
      for (let i = 0; i < n; i++) out[i] = read()
      return out
    }
    case 5: {
      const n = argument(info) as number
      const out: Record<string, unknown> = {}
      for (let i = 0; i < n; i++) {
        const k = read() as string
        const v = read()
        // A plain assignment to __proto__ would set the prototype instead of a key.
        if (k === '__proto__')
          Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true })
        else out[k] = v
      }
      return out
    }
    case 6: {
      // Tag 42 (validation allowed no other tag): skip the tag's argument byte, then the byte string.
      at++
      const n = argument(input[at++] & 0x1f) as number
      const cid = CID.decode(input.subarray(at + 1, at + n))
      at += n
      return cid
    }
    default: {
      if (first === 0xf4) return false
      if (first === 0xf5) return true
      if (first === 0xf6) return null
      const f = viewAt(8).getFloat64(0)
      at += 8
      return f
    }
  }
}

function text(bytes: Uint8Array, start: number, n: number): string {
  if (n > 64) return utf8.decode(bytes.subarray(start, start + n))
  let s = ''
  for (let i = start; i < start + n; i++) {
    const c = bytes[i]
    if (c >= 0x80) return utf8.decode(bytes.subarray(start, start + n))
    s += String.fromCharCode(c)
  }
  return s
}
