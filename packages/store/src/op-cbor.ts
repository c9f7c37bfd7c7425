// A bulk write's op as DAG-CBOR, as the daemon's clients send them (see CheckedOps.addCbor). A
// put's value is kept as the bytes it came in when they are what encodeValue would write for it:
// decoding each value only to encode it again was most of the daemon's work in an import.
import { decodeCbor, decodeValidated, encodedValueLinks, type KeyInput, startsWith, toKey } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import type { WriteOp } from './ops.ts'

/** `{"op": "put", "key": ` in canonical DAG-CBOR: a map of three, its keys ordered by length. */
const PUT_HEAD = Uint8Array.of(0xa3, 0x62, 0x6f, 0x70, 0x63, 0x70, 0x75, 0x74, 0x63, 0x6b, 0x65, 0x79)
/** `"value"`: the map's last key, after the op's key. */
const VALUE_FIELD = Uint8Array.of(0x65, 0x76, 0x61, 0x6c, 0x75, 0x65)

/** A put op whose value is held as its encoding (and the links in it), not decoded. */
export class EncodedPut {
  readonly op = 'put'
  readonly key: KeyInput
  readonly encoding: Uint8Array
  readonly links: readonly CID[]

  constructor(key: KeyInput, encoding: Uint8Array, links: readonly CID[]) {
    this.key = key
    this.encoding = encoding
    this.links = links
  }

  /** The op as plain data, its value decoded. */
  toOp(): WriteOp {
    return { op: 'put', key: this.key, value: decodeValidated(this.encoding) }
  }
}

/**
 * `bytes` as a put op whose value can be stored as it came (see encodedValueLinks), or undefined
 * if they are anything else (another op, a bad key, a value to decode and check whole), for the
 * caller to decode and check as any op, which names what is wrong.
 */
export function splitPut(bytes: Uint8Array): EncodedPut | undefined {
  if (!startsWith(bytes, PUT_HEAD, 0)) return undefined
  const keyEnd = stringEnd(bytes, PUT_HEAD.length)
  if (keyEnd === undefined || !startsWith(bytes, VALUE_FIELD, keyEnd)) return undefined
  let key: unknown
  try {
    key = decodeCbor(bytes.subarray(PUT_HEAD.length, keyEnd))
    if (typeof key !== 'string' && !(key instanceof Uint8Array)) return undefined
    toKey(key)
  } catch {
    return undefined
  }
  const encoding = bytes.subarray(keyEnd + VALUE_FIELD.length)
  const links = encodedValueLinks(encoding)
  // A copy, and a plain Uint8Array (the body may come as Buffers): the body's buffer, which the
  // subarray holds, must not live as long as the value.
  return links === undefined ? undefined : new EncodedPut(key, new Uint8Array(encoding), links)
}

/** Where the text or byte string at `at` ends (by its header alone), or undefined. */
function stringEnd(bytes: Uint8Array, at: number): number | undefined {
  const first = bytes[at]
  if (first === undefined || (first >> 5 !== 2 && first >> 5 !== 3)) return undefined
  const info = first & 0x1f
  const width = info < 24 ? 0 : info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : -1
  if (width < 0 || at + 1 + width > bytes.length) return undefined
  let length = info < 24 ? info : 0
  for (let i = 1; i <= width; i++) length = length * 256 + (bytes[at + i] as number)
  const end = at + 1 + width + length
  return end <= bytes.length ? end : undefined
}
