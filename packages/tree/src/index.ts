/**
 * @packageDocumentation
 *
 * `@dagsync/tree` is a Merkle Search Tree: a sorted map from byte keys to IPLD values (plus
 * optional per-key metadata) stored as DAG-CBOR blocks (CIDv1, sha2-256) in any
 * `interface-blockstore`. The tree's shape depends only on its keys, so the same entries give the
 * same root CID whatever order they were written in; diffs skip identical subtrees by CID, and an
 * update writes only the nodes on the paths to the changed keys.
 *
 * The node format is the AT Protocol MST's: with `bitsPerLevel: 2` and CID values, roots are
 * byte-identical to `@atproto/repo`'s. Blocks are untrusted input: every node is validated when
 * it is decoded, and errors are named classes (see `errors.ts`).
 *
 * @example
 * ```ts
 * import { MemoryBlockstore } from 'blockstore-core'
 * import { MerkleSearchTree } from '@dagsync/tree'
 *
 * const tree = new MerkleSearchTree(new MemoryBlockstore())
 * const v1 = await tree.put(tree.emptyRoot, 'alice', { age: 41 })
 * const v2 = await tree.batch(v1, [
 *   { type: 'put', key: 'bob', value: { age: 39 } },
 *   { type: 'delete', key: 'alice' },
 * ])
 * await tree.get(v1, 'alice') // { age: 41 } (v1 is still readable)
 * for await (const change of tree.diff(v1, v2)) console.log(change.key, change.before, change.after)
 * ```
 */

export { bytesKey, collectBytes, concatBytes, startsWith } from './bytes.ts'
export { decodeValidated, encodeValue } from './dag-cbor.ts'
export { encodedValueLinks, itemEnd } from './encoded-value.ts'
export * from './errors.ts'
export { cidKey, cidOf, DAG_CBOR, isInlineCid, keyLevel, RAW, SHA2_256, verifyBlock } from './hash.ts'
export { assertIpldValue, linkProblem } from './ipld.ts'
export { compareBytes, equalBytes, type KeyInput, toKey } from './keys.ts'
export {
  CHUNK_BYTES,
  DEFAULT_BITS_PER_LEVEL,
  LINK_CODECS,
  MAX_BLOCK_BYTES,
  MAX_BLOCK_DEPTH,
  MAX_CBOR_INT,
  MAX_INLINE_VALUE_BYTES,
  MAX_KEY_BYTES,
  MAX_META_BYTES,
  MAX_VALUE_DEPTH,
  type TreeLimits,
} from './limits.ts'
export { MerkleSearchTree, type TreeInit } from './mst.ts'
export { type StoredValue, sameStoredValue } from './node.ts'
export type {
  Change,
  EntryInput,
  KeepIf,
  Meta,
  Op,
  Range,
  StoredChange,
  StoredEntry,
  ValueEntry,
} from './types.ts'
export type { CheckedNode } from './validate.ts'
export {
  type Block,
  decodeCbor,
  decodeChunkIndex,
  decodeValueBlock,
  encodeMeta,
  type GetBlock,
  type PreparedValue,
  prepareByteStream,
  prepareEncoded,
  prepareValue,
} from './value.ts'
export { blockLinks, collectCids, decodedNodeLinks, type WalkOptions } from './walk.ts'
export { type WaveWalk, walkWaves } from './waves.ts'
