import { MemoryBlockstore } from 'blockstore-core'
import fc from 'fast-check'
import type { CID } from 'multiformats/cid'
import { MerkleSearchTree, type TreeInit } from '../src/index.ts'

export function newTree(init: TreeInit = {}): { tree: MerkleSearchTree; blockstore: MemoryBlockstore } {
  const blockstore = new MemoryBlockstore()
  return { tree: new MerkleSearchTree(blockstore, init), blockstore }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
export const bytes = (s: string): Uint8Array => encoder.encode(s)
export const text = (b: Uint8Array): string => decoder.decode(b)

/** Keys as latin1 strings, so a Map model orders and compares them exactly as bytes. */
export const hexKey = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

export async function blockCount(blockstore: MemoryBlockstore): Promise<number> {
  let n = 0
  for await (const _ of blockstore.getAll()) n++
  return n
}

/** Byte keys from a small alphabet, so random ops hit the same keys often and share prefixes. */
export const keyArb = fc.uint8Array({ minLength: 0, maxLength: 4, min: 0x61, max: 0x63 })

/** IPLD values, some too large to inline (a long string goes out of line). */
export const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 8 }),
  // fast-check builds records without a prototype; decoded values are plain objects.
  fc.record({ n: fc.integer(), tags: fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }) }).map((r) => ({ ...r })),
  fc.string({ minLength: 300, maxLength: 400 }),
)

export function sortedEntries<V>(model: Map<string, { key: Uint8Array; value: V }>): { key: Uint8Array; value: V }[] {
  return [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e)
}

export function rootString(cid: CID): string {
  return cid.toString()
}
