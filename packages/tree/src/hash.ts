// sha2-256, synchronous in Node and browsers: hash-wasm's WebAssembly hasher once it has
// compiled (a few milliseconds after import), @noble/hashes until then or where WebAssembly is
// unavailable. Both give the same digests; WebAssembly is about twice as fast on small inputs,
// which matters because every key's level and every node's CID is a hash. In Node, blocks
// (inputs past NATIVE_FROM bytes) go to OpenSSL, twice as fast again there; the browser build
// never imports it (see `imports` in package.json).
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { createSHA256, type IHasher } from 'hash-wasm'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { nativeSha256 } from '#native-sha256'
import { bytesKey } from './bytes.ts'
import { HashMismatchError } from './errors.ts'
import { ONE_BLOCK_BYTES, sha256Block } from './sha256-block.ts'

export const DAG_CBOR = 0x71
export const RAW = 0x55
export const DAG_PB = 0x70
export const DAG_JSON = 0x0129
export const SHA2_256 = 0x12
const IDENTITY = 0x00

/** Whether a CID carries its bytes inline (an identity hash): there is no block to fetch, keep or check. */
export function isInlineCid(cid: CID): boolean {
  return cid.multihash.code === IDENTITY
}

let wasm: IHasher | undefined

/** Settles when the WebAssembly hasher is ready (or known to be unavailable). Hashing works before it, only slower. */
export const hasherReady: Promise<void> = createSHA256().then(
  (hasher) => {
    wasm = hasher
  },
  () => {},
)

/** Where native hashing starts to beat WebAssembly's cheaper call (measured: 12 B 2x slower, 1.7 KB 1.7x faster). */
const NATIVE_FROM = 256

export function sha256(bytes: Uint8Array): Uint8Array {
  if (nativeSha256 !== undefined && bytes.length >= NATIVE_FROM) return nativeSha256(bytes)
  if (wasm === undefined) return nobleSha256(bytes)
  wasm.init()
  wasm.update(bytes)
  return wasm.digest('binary')
}

/**
 * A CID as a string key for sets and maps: its bytes, one character each. Several times cheaper
 * than `toString()` (base32) the first time a CID object is turned into a string.
 */
export function cidKey(cid: CID): string {
  return bytesKey(cid.bytes)
}

// New CIDs are cut from small shared buffers. multiformats asks every CID and digest for its
// `.buffer`, and a small typed array of its own has none until asked: V8 then moves it off the
// heap, which cost more than the rest of making the CID. A slab of 14 CIDs bounds what one
// long-lived CID can keep alive to 512 bytes.
const SLAB_BYTES = 512
const CID_BYTES = 36
let slab = new Uint8Array(SLAB_BYTES)
let slabUsed = 0

/** The CIDv1 (sha2-256) of a block. */
export function cidOf(bytes: Uint8Array, codec = DAG_CBOR): CID {
  if (codec >= 0x80) return CID.createV1(codec, Digest.create(SHA2_256, sha256(bytes)))
  if (slabUsed + CID_BYTES > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES)
    slabUsed = 0
  }
  const cid = slab.subarray(slabUsed, slabUsed + CID_BYTES)
  slabUsed += CID_BYTES
  cid[0] = 1
  cid[1] = codec
  cid[2] = SHA2_256
  cid[3] = 32
  cid.set(sha256(bytes), 4)
  return new CID(1, codec, new Digest.Digest(SHA2_256, 32, cid.subarray(4), cid.subarray(2)), cid)
}

/** Throws HashMismatchError unless `bytes` hash to `cid` (sha2-256 only; other hashes are refused). */
export function verifyBlock(cid: CID, bytes: Uint8Array): void {
  if (cid.multihash.code !== SHA2_256) {
    throw new HashMismatchError(
      `cannot verify block ${cid}: hash function 0x${cid.multihash.code.toString(16)} is not sha2-256`,
    )
  }
  const digest = sha256(bytes)
  const expected = cid.multihash.digest
  let same = digest.length === expected.length
  for (let i = 0; same && i < digest.length; i++) same = digest[i] === expected[i]
  if (!same) {
    const err = new HashMismatchError(`block bytes do not hash to ${cid}`)
    err.cid = cid
    throw err
  }
}

/** A key's level: the leading zero bits of sha256(key), divided by bitsPerLevel and rounded down. */
export function keyLevel(key: Uint8Array, bitsPerLevel: number): number {
  if (key.length <= ONE_BLOCK_BYTES) {
    const words = sha256Block(key)
    let zeros = 0
    for (let i = 0; i < words.length; i++) {
      zeros += Math.clz32(words[i])
      if (words[i] !== 0) break
    }
    return Math.floor(zeros / bitsPerLevel)
  }
  const hash = sha256(key)
  let zeros = 0
  for (let i = 0; i < hash.length; i++) {
    if (hash[i] === 0) {
      zeros += 8
      continue
    }
    zeros += Math.clz32(hash[i]) - 24
    break
  }
  return Math.floor(zeros / bitsPerLevel)
}
