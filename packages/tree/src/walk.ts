// Walks every block reachable from a root, wave by wave (one tree level per wave: waves.ts), so a
// caller fetching from the network can keep many requests in flight. Values' own links are followed
// into whatever blocks they point at (DAG-CBOR, DAG-JSON, DAG-PB or raw).
import * as dagJson from '@ipld/dag-json'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { CborReader } from './cbor.ts'
import { InvalidBlockError, MalformedValueError } from './errors.ts'
import { cidKey, DAG_CBOR, DAG_JSON, DAG_PB, RAW, verifyBlock } from './hash.ts'
import { MAX_BLOCK_DEPTH } from './limits.ts'
import type { TreeNode } from './node.ts'
import type { CheckedNode } from './validate.ts'
import { type Block, decodeChunkIndex, type GetBlock } from './value.ts'
import { walkWaves } from './waves.ts'

export interface WalkOptions {
  /** Blocks the caller already holds: neither returned nor descended into. */
  has?: (cid: CID) => boolean | Promise<boolean>
  /** Where blocks come from. Defaults to the tree's blockstore. */
  getBlock?: GetBlock
  /** Re-hash every block against its CID (for blocks from untrusted sources). @default false */
  verify?: boolean
  /** Blocks requested at once within a wave. @default 64 */
  concurrency?: number
  /** Called before each wave is fetched, with how many blocks it asks for. */
  onWave?: (blocks: readonly CID[]) => void
  /** Nodes already decoded and checked by the tree's `precheck` (as they arrived): placed, not decoded again. */
  checked?: (cid: CID) => CheckedNode | undefined
  /**
   * The level of `root`, for a walk of a subtree (its parent's level - 1): checked as a walk from
   * the tree's root would check it. @default the root's own
   */
  level?: number
}

interface WalkInit extends WalkOptions {
  getBlock: GetBlock
  checkNode: (cid: CID, bytes: Uint8Array, level: number | undefined) => { node: TreeNode; level: number }
}

/** What a reachable block is, which decides how it is decoded and which links it has. */
type Item =
  | { readonly cid: CID; readonly kind: 'node'; readonly level: number | undefined }
  | { readonly cid: CID; readonly kind: 'value' | 'index' | 'chunk' | 'linked' }

export function walkBlocks(root: CID, init: WalkInit): AsyncGenerator<Block> {
  const { has, getBlock, verify = false, concurrency = 64, checkNode, onWave, level } = init
  return walkWaves<Item, Uint8Array, Block>([{ cid: root, kind: 'node', level }], {
    cid: (item) => item.cid,
    key: cidKey,
    concurrency,
    select: async (fresh) => {
      const held = has === undefined ? [] : await Promise.all(fresh.map((item) => has(item.cid)))
      const wanted = has === undefined ? fresh : fresh.filter((_, i) => !held[i])
      if (wanted.length > 0) onWave?.(wanted.map((item) => item.cid))
      return wanted
    },
    read: (item) => getBlock(item.cid),
    expand: (item, bytes, next) => {
      if (verify) verifyBlock(item.cid, bytes)
      try {
        collectLinks(item, bytes, checkNode, next)
      } catch (err) {
        if (err instanceof InvalidBlockError) err.cid ??= item.cid
        throw err
      }
      return { cid: item.cid, bytes }
    },
  })
}

function collectLinks(item: Item, bytes: Uint8Array, checkNode: WalkInit['checkNode'], out: Item[]): void {
  switch (item.kind) {
    case 'node': {
      const { node, level } = checkNode(item.cid, bytes, item.level)
      const childLevel = level - 1
      if (node.left !== null) out.push({ cid: node.left as CID, kind: 'node', level: childLevel })
      for (const entry of node.entries) {
        if (entry.right !== null) out.push({ cid: entry.right as CID, kind: 'node', level: childLevel })
        if (entry.value.kind !== 'inline')
          out.push({ cid: entry.value.cid, kind: entry.value.kind === 'block' ? 'value' : 'index' })
        else if (node.valueLinks === undefined) pushLinked(cborLinks(entry.value.bytes), out)
        if (entry.meta !== null && node.valueLinks === undefined) pushLinked(cborLinks(entry.meta), out)
      }
      // A decoded node found the links in its inline values and metadata while validating them.
      if (node.valueLinks !== undefined) pushLinked(node.valueLinks as CID[], out)
      return
    }
    case 'index':
      for (const chunk of decodeChunkIndex(item.cid, bytes).chunks) out.push({ cid: chunk, kind: 'chunk' })
      return
    case 'chunk':
      return
    default:
      pushLinked(blockLinks(item.cid, bytes), out)
  }
}

function pushLinked(links: CID[], out: Item[]): void {
  for (const cid of links) out.push({ cid, kind: 'linked' })
}

function cborLinks(bytes: Uint8Array): CID[] {
  const links: CID[] = []
  // Any DAG-CBOR block, a tree node included: room for an inline value at its own limit.
  const reader: CborReader = new CborReader(bytes, MAX_BLOCK_DEPTH)
  reader.item(links)
  if (!reader.done) reader.fail('trailing bytes after value')
  return links
}

/**
 * The links of a decoded tree node, as `blockLinks` finds them in its block: its subtrees, its
 * out-of-line values and the CIDs inside its inline values and metadata. Undefined for a node
 * that does not know the last (one not decoded from its block).
 */
export function decodedNodeLinks(node: TreeNode): CID[] | undefined {
  if (node.valueLinks === undefined) return undefined
  const links: CID[] = []
  if (node.left !== null) links.push(node.left as CID)
  for (const entry of node.entries) {
    if (entry.right !== null) links.push(entry.right as CID)
    if (entry.value.kind !== 'inline') links.push(entry.value.cid)
  }
  links.push(...node.valueLinks)
  return links
}

/** The links held by a block of a codec a value may link to. Unknown codecs are refused, never skipped silently. */
export function blockLinks(cid: CID, bytes: Uint8Array): CID[] {
  try {
    switch (cid.code) {
      case RAW:
        return []
      case DAG_CBOR:
        return cborLinks(bytes)
      case DAG_PB:
        return dagPb.decode(bytes).Links.map((link) => link.Hash)
      case DAG_JSON: {
        const links: CID[] = []
        collectCids(dagJson.decode(bytes), links)
        return links
      }
    }
  } catch (err) {
    const error = new MalformedValueError(`linked block is not valid for its codec: ${(err as Error).message}`, {
      cause: err,
    })
    error.cid = cid
    throw error
  }
  const error = new MalformedValueError(`cannot follow links in codec 0x${cid.code.toString(16)}`)
  error.cid = cid
  throw error
}

/** The CIDs a decoded IPLD value holds, in order (a link's own target is not read). */
export function collectCids(value: unknown, out: CID[] = []): CID[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return out
  const cid = CID.asCID(value)
  if (cid !== null) out.push(cid)
  else for (const child of Array.isArray(value) ? value : Object.values(value)) collectCids(child, out)
  return out
}
