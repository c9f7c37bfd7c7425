// The Merkle Search Tree's public surface: the class callers hold, with its reads, diffs, walks
// and writes. Each method hands the work to the module that does it:
//   loader.ts      nodes from the cache or the blockstore, checked (validate.ts) as decoded
//   read.ts        lookups, ranges and proofs (search.ts: a key's place in one node)
//   write.ts       batches of puts and deletes, and encoding the nodes they make
//   build.ts       a whole tree from sorted entries
//   diff.ts        the aligned walk of two trees, and the entries that differ
//   new-blocks.ts  the blocks a holder of one root lacks to read another (for sync)
//   walk.ts        every block reachable from a root, wave by wave (waves.ts)
// types.ts holds the types these take and give; ref.ts the moves between a node and its subtrees.
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { build } from './build.ts'
import { countRange, SubtreeCounts } from './count.ts'
import { decodeValidated } from './dag-cbor.ts'
import { diffEntries } from './diff.ts'
import type { KeyInput } from './keys.ts'
import { type TreeLimits, treeLimits } from './limits.ts'
import { NodeLoader } from './loader.ts'
import { type NewBlock, newBlocks } from './new-blocks.ts'
import type { StoredValue } from './node.ts'
import { bounds } from './range-bounds.ts'
import { keys, lookup, proof, storedEntry } from './read.ts'
import type { Change, EntryInput, Meta, Op, Range, StoredChange, StoredEntry, ValueEntry } from './types.ts'
import type { CheckedNode } from './validate.ts'
import { type Block, readByteStream, readValue } from './value.ts'
import { blockLinks, decodedNodeLinks, type WalkOptions, walkBlocks } from './walk.ts'
import { batch } from './write.ts'

export interface TreeInit {
  /**
   * Bits of sha256(key) per level; the fanout is 2 ** bitsPerLevel. It is part of the tree's
   * format: every reader of a tree must use the writer's value.
   * @default 4 (fanout 16)
   */
  bitsPerLevel?: number
  /**
   * How much of the decoded nodes to keep in memory, so hot reads do not decode again, counted
   * as their blocks' bytes plus 256 per node (their decoded form takes more: see docs/tree.md).
   * The default holds every node of a 1,000,000-key tree of small values (48 MiB of blocks).
   * @default 64 MiB
   */
  cacheBytes?: number
  /**
   * The highest level a tree may reach; deeper trees are refused with TreeTooDeepError. A
   * reader of untrusted trees can lower it to bound the work of each lookup.
   * @default ceil(64 / bitsPerLevel), the level 2^64 keys would reach
   */
  maxLevel?: number
}

export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024

/**
 * A Merkle Search Tree over a blockstore. It holds no root of its own: every operation takes
 * the root CID to read and writes return the new root, so any past root stays a readable,
 * immutable version for as long as its blocks are kept.
 */
export class MerkleSearchTree {
  readonly limits: TreeLimits
  /** The root of the tree with no entries. */
  readonly emptyRoot: CID
  readonly #loader: NodeLoader
  readonly #counts = new SubtreeCounts()

  constructor(blockstore: Blockstore, init: TreeInit = {}) {
    this.limits = treeLimits(init.bitsPerLevel, init.maxLevel)
    this.#loader = new NodeLoader(blockstore, this.limits, init.cacheBytes ?? DEFAULT_CACHE_BYTES)
    this.emptyRoot = this.#loader.emptyRoot
  }

  // --- reads ---------------------------------------------------------------------------------

  /** The value at `key`, or undefined. Values stored out of line are read from their blocks. */
  get(root: CID, key: KeyInput): Promise<unknown> {
    return lookup(this.#loader, root, key, (entry) => (entry === undefined ? undefined : this.readValue(entry.value)))
  }

  has(root: CID, key: KeyInput): Promise<boolean> {
    return lookup(this.#loader, root, key, (entry) => entry !== undefined)
  }

  /** The entry at `key` without reading its value (metadata and where the value lives). */
  getEntry(root: CID, key: KeyInput): Promise<StoredEntry | undefined> {
    return lookup(this.#loader, root, key, (entry) => (entry === undefined ? undefined : storedEntry(entry)))
  }

  /**
   * The links of a tree node: its subtrees, its out-of-line values and the CIDs inside its inline
   * values; from the decoded node if it is cached, else from its block (`bytes`, if the caller
   * has read it, else read).
   */
  async nodeLinks(cid: CID, bytes?: Uint8Array): Promise<CID[]> {
    const node = this.#loader.cache.get(cid)?.node
    const links = node === undefined ? undefined : decodedNodeLinks(node)
    return links ?? blockLinks(cid, bytes ?? (await this.blockBytes(cid)))
  }

  /** A block's bytes: a cached node's own block, without a blockstore read, or the blockstore's. */
  async blockBytes(cid: CID): Promise<Uint8Array> {
    const encoding = this.#loader.cache.get(cid)?.node.encoding
    return encoding === undefined ? this.#loader.bytes(cid) : encoding.bytes
  }

  /** Reads a stored value. */
  readValue(stored: StoredValue): Promise<unknown> {
    return stored.kind === 'inline'
      ? Promise.resolve(decodeValidated(stored.bytes))
      : readValue(stored, this.#loader.getBlock)
  }

  /** Streams a byte-string value without holding a chunked value in memory. */
  readBytes(stored: StoredValue): AsyncGenerator<Uint8Array> {
    return readByteStream(stored, this.#loader.getBlock)
  }

  /** Entries in key order (or reverse), with their values read. */
  async *entries(root: CID, range: Range = {}): AsyncGenerator<ValueEntry> {
    for await (const entry of this.keys(root, range)) {
      yield { key: entry.key, value: await this.readValue(entry.stored), meta: entry.meta }
    }
  }

  /** Entries in key order (or reverse), without reading values. */
  keys(root: CID, range: Range = {}): AsyncGenerator<StoredEntry> {
    return keys(this.#loader, root, range)
  }

  /**
   * Number of entries (in a range, if given). Each stored subtree's count is kept (up to
   * MAX_KEPT_COUNTS of them), so counting again after a commit opens only the nodes it changed,
   * and a subtree wholly inside the range is not opened again.
   */
  async count(root: CID, range: Omit<Range, 'reverse' | 'limit'> = {}): Promise<number> {
    const { lower, upper } = bounds(range)
    const top = await this.#loader.root(root)
    return countRange(this.#loader, this.#counts, top.ref, top.level, lower, upper)
  }

  /** The nodes from the root down to where `key` is or would be: a proof of its presence or absence. */
  proof(root: CID, key: KeyInput): Promise<Block[]> {
    return proof(this.#loader, root, key)
  }

  /**
   * Every block reachable from `root`: nodes, value blocks, chunks and the blocks that values
   * link to, each once. With `has`, a block it reports present is not descended into (its
   * subtree is taken as complete), so the walk lists exactly what a holder of those blocks
   * lacks. With `getBlock`, blocks come from elsewhere (the network) instead of this blockstore.
   */
  walk(root: CID, options: WalkOptions = {}): AsyncGenerator<Block> {
    const loader = this.#loader
    return walkBlocks(root, {
      ...options,
      getBlock: options.getBlock ?? loader.getBlock,
      checkNode: (cid, bytes, level) => loader.placeWalked(cid, bytes, level, options.checked?.(cid)),
    })
  }

  /**
   * Decodes and checks a block that is likely a node, as far as that can be done without knowing
   * where it is linked: a sync does this as blocks arrive, and its walk (`checked`) then only
   * places them. `base` is the node a delta rebuilt it from, if any. Undefined if the block is
   * not a valid node (the walk, which knows what it expects, says why).
   */
  precheck(bytes: Uint8Array, base?: CID): CheckedNode | undefined {
    return this.#loader.precheck(bytes, base)
  }

  // --- diff ----------------------------------------------------------------------------------

  /** The keys that differ between two roots, in key order, with values read. Identical subtrees are skipped by CID. */
  async *diff(from: CID, to: CID): AsyncGenerator<Change> {
    for await (const change of this.diffEntries(from, to)) {
      const read = async (entry: StoredEntry | undefined): Promise<ValueEntry | undefined> =>
        entry === undefined
          ? undefined
          : { key: entry.key, value: await this.readValue(entry.stored), meta: entry.meta }
      yield { key: change.key, before: await read(change.before), after: await read(change.after) }
    }
  }

  /** As diff, without reading values. */
  diffEntries(from: CID, to: CID): AsyncGenerator<StoredChange> {
    return diffEntries(this.#loader, from, to)
  }

  /**
   * The blocks `to` reaches that `from` does not, for a holder of `from` to catch up: new
   * nodes (each with the node it replaces, when there is one, to send as a delta against),
   * new value blocks and chunks, and the blocks new values link to. Found by the same aligned
   * walk as diff, so it opens only the changed paths. A block `from` holds elsewhere in its
   * tree may be included; one `to` needs is never left out.
   */
  newBlocks(from: CID, to: CID): AsyncGenerator<NewBlock> {
    return newBlocks(this.#loader, from, to)
  }

  // --- writes --------------------------------------------------------------------------------

  async put(root: CID, key: KeyInput, value: unknown, meta?: Meta): Promise<CID> {
    return this.batch(root, [{ type: 'put', key, value, meta }])
  }

  async delete(root: CID, key: KeyInput): Promise<CID> {
    return this.batch(root, [{ type: 'delete', key }])
  }

  /**
   * Applies many puts and deletes in one pass and returns the new root. Later ops on the same
   * key win. Every value is checked and encoded before anything is written, and the root
   * returned is only reachable once all its blocks are in the blockstore.
   */
  batch(root: CID, ops: Iterable<Op>): Promise<CID> {
    return batch(this.#loader, root, ops)
  }

  /**
   * Builds a tree from entries in strictly increasing key order in one pass, O(n), writing each
   * node once as soon as it is complete. Returns the same root as any sequence of puts would.
   */
  build(source: Iterable<EntryInput> | AsyncIterable<EntryInput>): Promise<CID> {
    return build(this.#loader, source)
  }
}
