// Values checked against the IPLD data model before they are encoded, and the links a value may hold.
import { CID } from 'multiformats/cid'
import { InvalidValueError } from './errors.ts'
import { isInlineCid } from './hash.ts'
import { LINK_CODECS, MAX_CBOR_INT, MAX_VALUE_DEPTH } from './limits.ts'

const SHA2_256 = 0x12

/**
 * Throws InvalidValueError, naming the path, if `value` is not in the IPLD data model as
 * JavaScript represents it (plain objects, arrays, strings, finite numbers, integers as bigints,
 * booleans, null, Uint8Array and CID), or breaks a limit that readers of its blocks enforce:
 * nesting past MAX_VALUE_DEPTH, text that is not well-formed Unicode, integers beyond 64 bits,
 * links that walks cannot follow. Class instances, other typed arrays, Maps, Dates, undefined
 * and functions are refused rather than silently encoded as something else.
 */
export function assertIpldValue(value: unknown, path = 'value', depth = 0): void {
  if (depth > MAX_VALUE_DEPTH) {
    throw new InvalidValueError(
      `${shortPath(path)} nests deeper than the limit of ${MAX_VALUE_DEPTH} lists and maps (MAX_VALUE_DEPTH)`,
    )
  }
  switch (typeof value) {
    case 'string':
      // UTF-8 cannot encode a lone surrogate: the encoder would store U+FFFD instead.
      if (!value.isWellFormed()) {
        throw new InvalidValueError(`${shortPath(path)} is not well-formed Unicode (it holds a lone surrogate)`)
      }
      return
    case 'boolean':
      return
    case 'bigint':
      if (value > MAX_CBOR_INT || value < -MAX_CBOR_INT - 1n) {
        throw new InvalidValueError(`${shortPath(path)} is ${value}, beyond the 64-bit integers DAG-CBOR can hold`)
      }
      return
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidValueError(`${path} is ${value}, which IPLD cannot represent`)
      return
    case 'object': {
      if (value === null || value instanceof Uint8Array) return
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) assertIpldValue(value[i], `${path}[${i}]`, depth + 1)
        return
      }
      const cid = CID.asCID(value)
      if (cid !== null) {
        const problem = linkProblem(cid.bytes)
        if (problem !== undefined) throw new InvalidValueError(`${shortPath(path)} ${problem}`)
        return
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) {
        const name = (value as object).constructor?.name ?? 'an object with a custom prototype'
        throw new InvalidValueError(
          `${path} is a ${name}; only plain objects, arrays, strings, numbers, booleans, null, bytes and CIDs can be stored`,
        )
      }
      for (const key of Object.keys(value)) {
        if (!key.isWellFormed()) {
          throw new InvalidValueError(
            `${shortPath(path)} has the key ${JSON.stringify(key)}, which is not well-formed Unicode (a lone surrogate)`,
          )
        }
        assertIpldValue((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1)
      }
      return
    }
    default:
      throw new InvalidValueError(
        `${path} is ${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`}, which IPLD cannot represent`,
      )
  }
}

/**
 * Why a CID, given by its bytes, cannot be stored in a value, or undefined if it can: readers
 * must decode exactly these bytes back to a CID, and unless its hash is identity (bytes carried
 * inline), every walk follows it, which needs a codec in LINK_CODECS and a sha2-256 digest to
 * verify the block by.
 */
export function linkProblem(bytes: Uint8Array): string | undefined {
  // The common link, a CIDv1 with a one-byte codec and a sha2-256 digest, as readers take it.
  if (bytes.length === 36 && bytes[0] === 1 && bytes[1] < 0x80 && bytes[2] === SHA2_256 && bytes[3] === 32) {
    return LINK_CODECS.has(bytes[1]) ? undefined : unfollowable(bytes[1])
  }
  let cid: CID
  try {
    cid = CID.decode(bytes)
  } catch (err) {
    return `is not a valid CID (${(err as Error).message})`
  }
  if (cid.bytes.length !== bytes.length) return 'is not a valid CID (trailing bytes)'
  if (isInlineCid(cid)) return undefined
  if (!LINK_CODECS.has(cid.code)) return unfollowable(cid.code)
  if (cid.multihash.code !== SHA2_256 || cid.multihash.size !== 32) {
    return `links with hash 0x${cid.multihash.code.toString(16)} (${cid.multihash.size} bytes); walks verify blocks by sha2-256 only`
  }
  return undefined
}

function unfollowable(codec: number): string {
  return `links to codec 0x${codec.toString(16)}, which walks cannot follow (raw, dag-pb, dag-cbor and dag-json only)`
}

/** A path short enough for a message: a value nested 129 deep has a path of 400 characters. */
function shortPath(path: string): string {
  return path.length <= 80 ? path : `${path.slice(0, 60)}…${path.slice(-16)}`
}
