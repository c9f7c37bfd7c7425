// Where a tree's nodes come from: the cache of decoded nodes, else the blockstore, with one
// read per node however many walks want it at once, and every node validated for the level it
// is linked at as it is decoded. Also what the cache keeps: nodes loaded, nodes a sync's walk
// placed and nodes a write made (each of the last two in the slot of the node it replaces).
import type { Blockstore } from 'interface-blockstore'
import { CID } from 'multiformats/cid'
import { collectBytes } from './bytes.ts'
import { CidCache } from './cache.ts'
import { BlockNotFoundError, InvalidBlockError, MalformedNodeError, WrongLevelError } from './errors.ts'
import { cidKey, cidOf } from './hash.ts'
import type { TreeLimits } from './limits.ts'
import { EMPTY_NODE, encodeNode, type NodeEncoding, type Ref, type TreeNode } from './node.ts'
import { isCid } from './ref.ts'
import { type CheckedNode, decodeChecked, type Loaded, place } from './validate.ts'

/** A root as the walk from it starts: its subtree and level. */
export interface Top {
  readonly ref: Ref
  readonly level: number
}

const EMPTY_TOP: Top = { ref: null, level: 0 }

function topOf(cid: CID, { node, level }: Loaded): Top {
  // A node cached as an entry-less inner node is not a valid root.
  if (node.entries.length === 0 && node.left !== null) {
    const err = new MalformedNodeError('a root with no entries must have no subtree')
    err.cid = cid
    throw err
  }
  return { ref: node.entries.length === 0 ? null : cid, level }
}

/** What a cached node counts against the cache's bytes: its block, and an allowance for the rest. */
function nodeWeight(loaded: Loaded): number {
  return (loaded.node.encoding?.bytes.length ?? 1024) + 256
}

/** A tree's blockstore and node cache, which its reads, writes, diffs and walks share. */
export class NodeLoader {
  readonly limits: TreeLimits
  readonly blockstore: Blockstore
  /** Decoded nodes by CID. Reads look here directly; only this class adds to it. */
  readonly cache: CidCache<Loaded>
  /** The root of the tree with no entries, and its block. */
  readonly emptyRoot: CID
  readonly emptyBytes: Uint8Array
  readonly #loading = new Map<string, Promise<Loaded>>()

  constructor(blockstore: Blockstore, limits: TreeLimits, cacheBytes: number) {
    this.limits = limits
    this.blockstore = blockstore
    // Superseded versions kept apart: enough for a diff against the last few commits.
    this.cache = new CidCache(cacheBytes, nodeWeight, 2048)
    this.emptyBytes = encodeNode(EMPTY_NODE).bytes
    this.emptyRoot = cidOf(this.emptyBytes)
  }

  /** The root's node and level; the empty tree is level 0 with no node. */
  root(root: CID): Top | Promise<Top> {
    const cid = CID.asCID(root)
    if (cid === null) throw new TypeError('root must be a CID')
    if (cid.equals(this.emptyRoot)) return EMPTY_TOP
    const hit = this.cache.get(cid)
    if (hit !== undefined) return topOf(cid, hit)
    return this.load(cid, undefined).then((loaded) => topOf(cid, loaded))
  }

  /** A subtree's node, synchronously when it is in memory or cached. */
  resolve(ref: CID | TreeNode, level: number): TreeNode | Promise<TreeNode> {
    if (!isCid(ref)) return ref
    const hit = this.cache.get(ref)
    if (hit !== undefined && hit.level === level) return hit.node
    return this.load(ref, level).then((loaded) => loaded.node)
  }

  /** A stored node, checked against the level it is linked at (undefined for a root). */
  async load(cid: CID, level: number | undefined): Promise<Loaded> {
    let loaded = this.cache.get(cid)
    if (loaded === undefined) {
      // One read per node, however many walks (and prefetches) want it at once.
      const key = cidKey(cid)
      let pending = this.#loading.get(key)
      if (pending === undefined) {
        pending = this.bytes(cid)
          .then((bytes) => {
            const checked = this.#checkNode(bytes, level)
            this.cache.set(cid, checked)
            return checked
          })
          .catch((err) => {
            if (err instanceof InvalidBlockError) err.cid = cid
            throw err
          })
          .finally(() => this.#loading.delete(key))
        this.#loading.set(key, pending)
      }
      loaded = await pending
    }
    if (level !== undefined && loaded.level !== level) {
      const err = new WrongLevelError(`node ${cid} is at level ${loaded.level} but is linked at level ${level}`)
      err.cid = cid
      throw err
    }
    return loaded
  }

  readonly getBlock = (cid: CID): Promise<Uint8Array> => this.bytes(cid)

  /** A block's bytes from the blockstore (the empty tree's root without one). */
  async bytes(cid: CID): Promise<Uint8Array> {
    // The empty tree's root is a known block that a tree never written to has not stored.
    if (cid.equals(this.emptyRoot)) return this.emptyBytes
    try {
      return await collectBytes(this.blockstore.get(cid))
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') throw new BlockNotFoundError(cid, { cause: err })
      throw err
    }
  }

  /** Decodes a node and checks it against the level it is linked at (undefined for a root). */
  #checkNode(bytes: Uint8Array, expected: number | undefined): Loaded {
    return place(decodeChecked(bytes, this.limits), expected, this.limits)
  }

  /**
   * MerkleSearchTree.precheck. Keys the node shares with `base` (the node a delta rebuilt it
   * from, if cached here, so checked) are at the base's level without hashing them.
   */
  precheck(bytes: Uint8Array, base?: CID): CheckedNode | undefined {
    try {
      if (base === undefined) return decodeChecked(bytes, this.limits)
      return { ...decodeChecked(bytes, this.limits, this.cache.get(base)), base }
    } catch {
      return undefined
    }
  }

  /**
   * Checks a node a walk reached at `level` (from `checked`, if a sync prechecked it, else from
   * its bytes) and caches it: a node that passed validation is worth keeping decoded, as a sync
   * reads these nodes next. One a sync rebuilt from a delta replaces its base, as a write's new
   * node does.
   */
  placeWalked(cid: CID, bytes: Uint8Array, level: number | undefined, checked: CheckedNode | undefined): Loaded {
    const loaded = checked !== undefined ? place(checked, level, this.limits) : this.#checkNode(bytes, level)
    this.cache.set(cid, loaded, checked?.base)
    return loaded
  }

  /**
   * Caches a node a write made. It takes the cache slot of the node it replaces: a writer's cache
   * then holds its live tree, not the versions its own writes left behind.
   */
  placeWritten(cid: CID, node: TreeNode, encoding: NodeEncoding, level: number, replaces: CID | undefined): void {
    this.cache.set(cid, { node: { left: node.left, entries: node.entries, encoding }, level }, replaces)
  }
}
