// A bulk write's op as DAG-CBOR, as the daemon's clients send them (see CheckedOps.addCbor). A
// put's value is kept as the bytes it came in when they are what encodeValue would write for it:
// decoding each value only to encode it again was most of the daemon's work in an import.
import { decodeValidated, encodedValueLinks, itemEnd, type KeyInput, startsWith, toKey } from '@dagsync/tree'
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
  /** What the op counts against MAX_BULK_BYTES (see opBytes): its key's bytes and its value's. */
  readonly bytes: number

  constructor(key: KeyInput, encoding: Uint8Array, links: readonly CID[], bytes: number) {
    this.key = key
    this.encoding = encoding
    this.links = links
    this.bytes = bytes
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
  const keyEnd = itemEnd(bytes, PUT_HEAD.length)
  if (keyEnd === undefined || !startsWith(bytes, VALUE_FIELD, keyEnd)) return undefined
  // Checked by itemEnd: decoded as it is.
  const key = decodeValidated(bytes.subarray(PUT_HEAD.length, keyEnd))
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) return undefined
  let keyBytes: Uint8Array
  try {
    keyBytes = toKey(key)
  } catch {
    return undefined
  }
  const encoding = bytes.subarray(keyEnd + VALUE_FIELD.length)
  const links = encodedValueLinks(encoding)
  if (links === undefined) return undefined
  // A copy, and a plain Uint8Array (the body may come as Buffers): the body's buffer, which the
  // subarray holds, must not live as long as the value.
  return new EncodedPut(key, new Uint8Array(encoding), links, keyBytes.length + encoding.length)
}
