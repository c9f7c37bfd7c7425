// The floor of the tree workload's bulk load: DAG-CBOR-encode and sha2-256-hash every value once,
// what any content-addressed store must at least do, built from the fastest parts available here.
// Every encoder and hasher below is timed on the same values in this process (the best of a few
// passes, each after a warm-up pass) and the fastest encoder with the fastest hasher make the
// floor, so that it is not slower than the parts a library could pick. The floor itself is then
// timed as W1 is: one pass, encoding and hashing each value in turn, after a warm-up pass.
import { hash } from 'node:crypto'
import { encodeValue } from '@dagsync/tree'
import * as dagCbor from '@ipld/dag-cbor'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { createSHA256 } from 'hash-wasm'
import type { Value } from './subject.ts'

export interface Floor {
  /** Values encoded and hashed per second by the fastest encoder and the fastest hasher, in one pass. */
  perSec: number
  encoder: string
  hasher: string
  /** Every candidate's own rate (values per second), for the record. */
  rates: Record<string, number>
}

type Encode = (value: Value) => Uint8Array
type Hash = (bytes: Uint8Array) => Uint8Array

/** Seconds for the fastest of `passes` timed passes of `work`, after one untimed pass. */
function fastest(passes: number, work: () => void): number {
  work()
  let best = Number.POSITIVE_INFINITY
  for (let p = 0; p < passes; p++) {
    const start = performance.now()
    work()
    best = Math.min(best, (performance.now() - start) / 1000)
  }
  return best
}

export async function measureFloor(values: readonly Value[], passes = 3): Promise<Floor> {
  const wasm = await createSHA256()
  const encoders: Record<string, Encode> = {
    '@ipld/dag-cbor': (v) => dagCbor.encode(v),
    "dagsync's encodeValue": (v) => encodeValue(v),
  }
  const hashers: Record<string, Hash> = {
    'OpenSSL (node:crypto)': (b) => hash('sha256', b, 'buffer'),
    'hash-wasm': (b) => {
      wasm.init()
      wasm.update(b)
      return wasm.digest('binary')
    },
    '@noble/hashes': (b) => nobleSha256(b),
  }
  const rates: Record<string, number> = {}
  let encoder: { name: string; seconds: number; encode: Encode } | undefined
  let encoded: Uint8Array[] = []
  for (const [name, encode] of Object.entries(encoders)) {
    let out: Uint8Array[] = []
    const seconds = fastest(passes, () => {
      out = values.map(encode)
    })
    rates[name] = values.length / seconds
    if (encoder === undefined || seconds < encoder.seconds) {
      encoder = { name, seconds, encode }
      encoded = out
    }
  }
  let hasher: { name: string; seconds: number; digest: Hash } | undefined
  for (const [name, digest] of Object.entries(hashers)) {
    const seconds = fastest(passes, () => {
      for (const bytes of encoded) digest(bytes)
    })
    rates[name] = values.length / seconds
    if (hasher === undefined || seconds < hasher.seconds) hasher = { name, seconds, digest }
  }
  if (encoder === undefined || hasher === undefined) throw new Error('no encoder or hasher to measure')
  const { encode } = encoder
  const { digest } = hasher
  const seconds = fastest(1, () => {
    for (const v of values) digest(encode(v))
  })
  return {
    perSec: values.length / seconds,
    encoder: encoder.name,
    hasher: hasher.name,
    rates,
  }
}
