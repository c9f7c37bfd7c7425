// sha2-256 from @noble/hashes: synchronous and the same in Node and browsers, so encoding a
// node and computing a key's level need no awaits.
import { sha256 } from '@noble/hashes/sha2.js'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { HashMismatchError } from './errors.ts'

export const DAG_CBOR = 0x71
export const RAW = 0x55
export const SHA2_256 = 0x12

/** The CIDv1 (sha2-256) of a block. */
export function cidOf(bytes: Uint8Array, codec = DAG_CBOR): CID {
  return CID.createV1(codec, Digest.create(SHA2_256, sha256(bytes)))
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
