// The few DAG-CBOR primitives the node codec needs. Values are encoded and decoded by
// @ipld/dag-cbor; this module only writes node structure around pre-encoded value bytes and
// walks untrusted bytes to find (and validate) where an encoded value ends, so a node can be
// decoded without decoding its values and re-encoded without encoding them again.
import { CID } from 'multiformats/cid'
import { Digest } from 'multiformats/hashes/digest'
import { MalformedNodeError } from './errors.ts'
import { SHA2_256 } from './hash.ts'
import { MAX_VALUE_DEPTH } from './limits.ts'

export const MAJOR_UINT = 0
export const MAJOR_NEGINT = 1
export const MAJOR_BYTES = 2
export const MAJOR_TEXT = 3
export const MAJOR_ARRAY = 4
export const MAJOR_MAP = 5
export const MAJOR_TAG = 6
export const MAJOR_SIMPLE = 7

const CID_TAG = 42
const NULL = 0xf6
const FALSE = 0xf4
const TRUE = 0xf5
const FLOAT64 = 0xfb

/** Bytes taken by a header carrying `n` (lengths here never exceed 2^32). */
export function headerLength(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
}

/** Bytes taken by a CID written as tag 42 over a byte string with the 0x00 multibase prefix. */
export function cidLength(cid: CID): number {
  return 2 + headerLength(cid.bytes.length + 1) + 1 + cid.bytes.length
}

/** Writes CBOR into a buffer whose exact size the caller computed beforehand. */
export class CborWriter {
  readonly bytes: Uint8Array
  pos = 0

  constructor(size: number) {
    this.bytes = new Uint8Array(size)
  }

  header(major: number, n: number): void {
    const b = this.bytes
    const m = major << 5
    if (n < 24) {
      b[this.pos++] = m | n
    } else if (n < 0x100) {
      b[this.pos++] = m | 24
      b[this.pos++] = n
    } else if (n < 0x10000) {
      b[this.pos++] = m | 25
      b[this.pos++] = n >>> 8
      b[this.pos++] = n & 0xff
    } else {
      b[this.pos++] = m | 26
      b[this.pos++] = n >>> 24
      b[this.pos++] = (n >>> 16) & 0xff
      b[this.pos++] = (n >>> 8) & 0xff
      b[this.pos++] = n & 0xff
    }
  }

  /** Copies already-encoded CBOR. */
  raw(bytes: Uint8Array): void {
    this.bytes.set(bytes, this.pos)
    this.pos += bytes.length
  }

  byteString(bytes: Uint8Array): void {
    this.header(MAJOR_BYTES, bytes.length)
    this.raw(bytes)
  }

  /** A one-character map key (every node and entry field name is one ASCII letter). */
  key(char: number): void {
    this.bytes[this.pos++] = (MAJOR_TEXT << 5) | 1
    this.bytes[this.pos++] = char
  }

  nil(): void {
    this.bytes[this.pos++] = NULL
  }

  cid(cid: CID): void {
    this.bytes[this.pos++] = 0xd8
    this.bytes[this.pos++] = CID_TAG
    this.header(MAJOR_BYTES, cid.bytes.length + 1)
    this.bytes[this.pos++] = 0
    this.raw(cid.bytes)
  }

  nullableCid(cid: CID | null): void {
    if (cid === null) this.nil()
    else this.cid(cid)
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Reads canonical DAG-CBOR from untrusted bytes. Every read checks bounds and the minimal
 * encoding of its header, and throws MalformedNodeError with the offset when anything is off.
 */
export class CborReader {
  readonly bytes: Uint8Array
  /** How deep an item may nest below where `item` starts reading. */
  readonly maxDepth: number
  pos = 0
  /**
   * Set once `item` has read a float64 holding an integer (1.0, -0.0): JavaScript reads it as a
   * number that encodeValue writes as an integer, so its bytes are not the encoder's.
   */
  integralFloat = false

  constructor(bytes: Uint8Array, maxDepth = MAX_VALUE_DEPTH) {
    this.bytes = bytes
    this.maxDepth = maxDepth
  }

  fail(message: string): never {
    throw new MalformedNodeError(`${message} (at byte ${this.pos})`)
  }

  get done(): boolean {
    return this.pos >= this.bytes.length
  }

  peekMajor(): number {
    if (this.pos >= this.bytes.length) this.fail('unexpected end of block')
    return this.bytes[this.pos] >> 5
  }

  peekByte(): number {
    if (this.pos >= this.bytes.length) this.fail('unexpected end of block')
    return this.bytes[this.pos]
  }

  /** Reads a header of the expected major type and returns its argument. */
  header(expectedMajor: number, what: string): number {
    const major = this.peekMajor()
    if (major !== expectedMajor) this.fail(`${what}: expected CBOR major type ${expectedMajor}, found ${major}`)
    return this.argument()
  }

  /**
   * Reads the argument of the header at the current position (any major type). Arguments
   * above 2^53 lose precision, which is harmless: as lengths they fail the bounds check, and
   * integers are only skipped, never used.
   */
  argument(): number {
    const b = this.bytes
    const info = b[this.pos++] & 0x1f
    if (info < 24) return info
    let n: number
    if (info === 24) {
      this.need(1)
      n = b[this.pos++]
      if (n < 24) this.fail('non-minimal integer encoding')
    } else if (info === 25) {
      this.need(2)
      n = (b[this.pos] << 8) | b[this.pos + 1]
      this.pos += 2
      if (n < 0x100) this.fail('non-minimal integer encoding')
    } else if (info === 26) {
      this.need(4)
      n = b[this.pos] * 0x1000000 + ((b[this.pos + 1] << 16) | (b[this.pos + 2] << 8) | b[this.pos + 3])
      this.pos += 4
      if (n < 0x10000) this.fail('non-minimal integer encoding')
    } else if (info === 27) {
      this.need(8)
      const hi = b[this.pos] * 0x1000000 + ((b[this.pos + 1] << 16) | (b[this.pos + 2] << 8) | b[this.pos + 3])
      const lo = b[this.pos + 4] * 0x1000000 + ((b[this.pos + 5] << 16) | (b[this.pos + 6] << 8) | b[this.pos + 7])
      this.pos += 8
      if (hi === 0) this.fail('non-minimal integer encoding')
      n = hi * 0x100000000 + lo
    } else {
      this.fail(info === 31 ? 'indefinite-length items are not DAG-CBOR' : `reserved CBOR additional info ${info}`)
    }
    return n
  }

  need(n: number): void {
    if (this.pos + n > this.bytes.length) this.fail('unexpected end of block')
  }

  /** A length that must also fit in the remaining bytes. */
  length(major: number, what: string): number {
    const n = this.header(major, what)
    if (n > this.bytes.length - this.pos) this.fail(`${what}: length ${n} runs past the end of the block`)
    return n
  }

  byteString(what: string): Uint8Array {
    const n = this.length(MAJOR_BYTES, what)
    const out = this.bytes.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  /** Reads a one-character map key and returns its character code. */
  key(): number {
    const n = this.length(MAJOR_TEXT, 'map key')
    if (n !== 1) this.fail('unknown field')
    return this.bytes[this.pos++]
  }

  isNull(): boolean {
    if (this.peekByte() === NULL) {
      this.pos++
      return true
    }
    return false
  }

  cid(what: string): CID {
    if (this.peekByte() !== 0xd8 || this.bytes[this.pos + 1] !== CID_TAG) this.fail(`${what}: expected a CID (tag 42)`)
    this.pos += 2
    return this.cidBody(what)
  }

  nullableCid(what: string): CID | null {
    return this.isNull() ? null : this.cid(what)
  }

  /** The byte string after tag 42: a 0x00 prefix and a binary CID. */
  private cidBody(what: string): CID {
    const bytes = this.byteString(what)
    if (bytes.length < 2 || bytes[0] !== 0) this.fail(`${what}: CID bytes must start with 0x00`)
    // The common case, a CIDv1 with a one-byte codec and a sha2-256 digest, built in place: the
    // general decoder costs several times more, and a node holds many links.
    if (bytes.length === 37 && bytes[1] === 1 && bytes[2] < 0x80 && bytes[3] === SHA2_256 && bytes[4] === 32) {
      const cidBytes = bytes.subarray(1)
      return new CID(1, bytes[2], new Digest(SHA2_256, 32, cidBytes.subarray(4), cidBytes.subarray(2)), cidBytes)
    }
    try {
      const cid = CID.decode(bytes.subarray(1))
      // CIDv0 is only valid as a bare multihash; the bytes must round-trip exactly.
      if (cid.bytes.length !== bytes.length - 1) this.fail(`${what}: trailing bytes after CID`)
      return cid
    } catch (err) {
      if (err instanceof MalformedNodeError) throw err
      this.fail(`${what}: invalid CID (${(err as Error).message})`)
    }
  }

  /**
   * Skips one DAG-CBOR item, validating it as @ipld/dag-cbor's strict decoder would plus
   * canonical map-key order, and returns its bytes. CIDs found inside are pushed to `links`.
   */
  item(links?: CID[], depth = 0): Uint8Array {
    const start = this.pos
    this.skip(links, depth)
    return this.bytes.subarray(start, this.pos)
  }

  private skip(links: CID[] | undefined, depth: number): void {
    if (depth > this.maxDepth) this.fail(`value nested deeper than ${this.maxDepth}`)
    const first = this.peekByte()
    const major = first >> 5
    switch (major) {
      case MAJOR_UINT:
      case MAJOR_NEGINT:
        this.argument()
        return
      case MAJOR_BYTES: {
        const n = this.length(major, 'byte string')
        this.pos += n
        return
      }
      case MAJOR_TEXT: {
        const n = this.length(major, 'text string')
        this.checkUtf8(this.pos, n)
        this.pos += n
        return
      }
      case MAJOR_ARRAY: {
        const n = this.header(major, 'array')
        for (let i = 0; i < n; i++) this.skip(links, depth + 1)
        return
      }
      case MAJOR_MAP: {
        const n = this.header(major, 'map')
        let prevStart = -1
        let prevLength = 0
        for (let i = 0; i < n; i++) {
          const keyLength = this.length(MAJOR_TEXT, 'map key')
          const keyStart = this.pos
          this.checkUtf8(keyStart, keyLength)
          if (prevStart >= 0 && compareMapKeys(this.bytes, prevStart, prevLength, keyStart, keyLength) >= 0) {
            this.fail('map keys are not in canonical order or repeat')
          }
          this.pos += keyLength
          prevStart = keyStart
          prevLength = keyLength
          this.skip(links, depth + 1)
        }
        return
      }
      case MAJOR_TAG: {
        const tag = this.argument()
        if (tag !== CID_TAG) this.fail(`CBOR tag ${tag} is not allowed in DAG-CBOR`)
        const cid = this.cidBody('link')
        links?.push(cid)
        return
      }
      default: {
        this.pos++
        if (first === FALSE || first === TRUE || first === NULL) return
        if (first === FLOAT64) {
          this.need(8)
          const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8)
          const float = view.getFloat64(0)
          if (!Number.isFinite(float)) this.fail('NaN and Infinity are not allowed in DAG-CBOR')
          if (Number.isInteger(float)) this.integralFloat = true
          this.pos += 8
          return
        }
        this.pos--
        this.fail(`CBOR simple value 0x${first.toString(16)} is not allowed in DAG-CBOR`)
      }
    }
  }

  private checkUtf8(start: number, length: number): void {
    const b = this.bytes
    for (let i = start; i < start + length; i++) {
      if (b[i] >= 0x80) {
        try {
          utf8.decode(b.subarray(start, start + length))
        } catch {
          this.fail('text is not valid UTF-8')
        }
        return
      }
    }
  }
}

/** DAG-CBOR's canonical map key order: shorter keys first, then bytewise. */
function compareMapKeys(b: Uint8Array, aStart: number, aLength: number, bStart: number, bLength: number): number {
  if (aLength !== bLength) return aLength - bLength
  for (let i = 0; i < aLength; i++) {
    const d = b[aStart + i] - b[bStart + i]
    if (d !== 0) return d
  }
  return 0
}
