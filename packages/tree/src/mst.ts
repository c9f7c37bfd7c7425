import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { build } from './build.ts'
import { CborReader } from './cbor.ts'
import { decodeValidated } from './dag-cbor.ts'
import { cidKey } from './hash.ts'
import { compareBytes, equalBytes, type KeyInput } from './keys.ts'
import { type TreeLimits, treeLimits } from './limits.ts'
import { NodeLoader } from './loader.ts'
import { EMPTY_NODE, type Entry, type Ref, type StoredValue, sameStoredValue, type TreeNode } from './node.ts'
import { keys, lookup, proof, storedEntry } from './read.ts'
import { childBefore, isCid, lift, sameRef } from './ref.ts'
import { lowerBound, upperBound } from './search.ts'
import type { Change, EntryInput, Meta, Op, Range, StoredChange, StoredEntry, ValueEntry } from './types.ts'
import type { CheckedNode } from './validate.ts'
import { type Block, readByteStream, readValue } from './value.ts'
import { blockLinks, type WalkOptions, walkBlocks } from './walk.ts'
import { batch } from './write.ts'

export interface TreeInit {
  /**
   * Bits of sha256(key) per level; the fanout is 2 ** bitsPerLevel. It is part of the tree's
   * format: every reader of a tree must use the writer's value.
   * @default 4 (fanout 16)
   */
  bitsPerLevel?: number
  /**
   * How many decoded nodes to keep in memory, so hot reads do not decode again.
   * @default 10_000
   */
  cacheSize?: number
  /**
   * The highest level a tree may reach; deeper trees are refused with TreeTooDeepError. A
   * reader of untrusted trees can lower it to bound the work of each lookup.
   * @default ceil(64 / bitsPerLevel), the level 2^64 keys would reach
   */
  maxLevel?: number
}

/** A block one root reaches and another does not; for a node, the node it replaces, if any. */
export interface NewBlock {
  readonly cid: CID
  readonly bytes: Uint8Array
  /** For a node: where each entry starts in `bytes` (`offsets[n]` is where the entries end). */
  readonly offsets?: readonly number[]
  /** The node at the same place in the older tree, which its holder has: a base for a delta. */
  readonly base?: { readonly cid: CID; readonly bytes: Uint8Array; readonly offsets: readonly number[] }
}

/**
 * The links a new or changed entry adds: its value block or chunk index if that changed, and
 * the CIDs inside its inline value and metadata (none, for a decoded node that found none).
 */
function valueLinks(node: TreeNode, after: Entry, before: Entry | undefined, out: CID[]): void {
  const { value } = after
  if (value.kind !== 'inline') {
    if (before?.value.kind !== value.kind || !before.value.cid.equals(value.cid)) out.push(value.cid)
  }
  if (node.valueLinks !== undefined && node.valueLinks.length === 0) return
  if (value.kind === 'inline' && mayHaveLinks(value.bytes)) new CborReader(value.bytes).item(out)
  if (after.meta !== null && mayHaveLinks(after.meta)) new CborReader(after.meta).item(out)
}

/** False when DAG-CBOR bytes cannot hold a CID (no tag 42 header anywhere): most values. */
function mayHaveLinks(bytes: Uint8Array): boolean {
  for (let at = bytes.indexOf(0xd8); at >= 0; at = bytes.indexOf(0xd8, at + 1)) if (bytes[at + 1] === 42) return true
  return false
}

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

  constructor(blockstore: Blockstore, init: TreeInit = {}) {
    this.limits = treeLimits(init.bitsPerLevel, init.maxLevel)
    this.#loader = new NodeLoader(blockstore, this.limits, init.cacheSize ?? 10_000)
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
   * values; from the decoded node if it is cached, else from its block.
   */
  async nodeLinks(cid: CID): Promise<CID[]> {
    const node = this.#loader.cache.get(cid)?.node
    if (node === undefined || node.valueLinks === undefined) return blockLinks(cid, await this.blockBytes(cid))
    const links: CID[] = []
    if (node.left !== null) links.push(node.left as CID)
    for (const entry of node.entries) {
      if (entry.right !== null) links.push(entry.right as CID)
      if (entry.value.kind !== 'inline') links.push(entry.value.cid)
    }
    links.push(...node.valueLinks)
    return links
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

  /** Number of entries (in a range, if given): visits every node in it. */
  async count(root: CID, range: Omit<Range, 'reverse' | 'limit'> = {}): Promise<number> {
    let n = 0
    for await (const _ of this.keys(root, range)) n++
    return n
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
  async *diffEntries(from: CID, to: CID): AsyncGenerator<StoredChange> {
    if (from.equals(to)) return
    const a = await this.#loader.root(from)
    const b = await this.#loader.root(to)
    const level = Math.max(a.level, b.level)
    const [x, y] = [lift(a.ref, a.level, level), lift(b.ref, b.level, level)]
    if (!sameRef(x, y)) yield* this.#diff(x, y, level, null, null)
  }

  async *#diff(
    a: Ref,
    b: Ref,
    level: number,
    lo: Uint8Array | null,
    hi: Uint8Array | null,
  ): AsyncGenerator<StoredChange> {
    const [A, B] = await this.#openPair(a, b, level)
    for (const step of alignEntries(A, B, lo, hi)) {
      if (step.kind === 'subtrees') yield* this.#diff(step.a, step.b, level - 1, step.lo, step.hi)
      else {
        const { key, before, after } = step
        yield {
          key,
          ...(before === undefined ? {} : { before: storedEntry(before) }),
          ...(after === undefined ? {} : { after: storedEntry(after) }),
        }
      }
    }
  }

  /** Opens the two nodes an aligned walk compares (a missing one is the empty node), and prefetches below them. */
  async #openPair(a: Ref, b: Ref, level: number): Promise<[TreeNode, TreeNode]> {
    let A = a === null ? EMPTY_NODE : this.#loader.resolve(a, level)
    if (A instanceof Promise) A = await A
    let B = b === null ? EMPTY_NODE : this.#loader.resolve(b, level)
    if (B instanceof Promise) B = await B
    this.#prefetchChildren(A, B, level - 1)
    return [A, B]
  }

  /**
   * The blocks `to` reaches that `from` does not, for a holder of `from` to catch up: new
   * nodes (each with the node it replaces, when there is one, to send as a delta against),
   * new value blocks and chunks, and the blocks new values link to. Found by the same aligned
   * walk as diff, so it opens only the changed paths. A block `from` holds elsewhere in its
   * tree may be included; one `to` needs is never left out.
   */
  async *newBlocks(from: CID, to: CID): AsyncGenerator<NewBlock> {
    // (Not `from.equals(to)`: multiformats types it as a guard that narrows `to` away.)
    if (from.toString() === to.toString()) return
    const a = await this.#loader.root(from)
    const b = await this.#loader.root(to)
    const level = Math.max(a.level, b.level)
    const [x, y] = [lift(a.ref, a.level, level), lift(b.ref, b.level, level)]
    const sent = new Set<string>()
    if (!sameRef(x, y)) yield* this.#newBlocks(x, y, level, null, null, sent)
    // A root that is the empty node is written as a block too.
    if (b.ref === null && !sent.has(cidKey(to))) yield { cid: to, bytes: await this.#loader.bytes(to) }
  }

  /**
   * The aligned walk of diff, yielding per node pair rather than per entry (a cold sync sends
   * every node, and a generator step per entry and level costs more than the rest).
   */
  async *#newBlocks(
    a: Ref,
    b: Ref,
    level: number,
    lo: Uint8Array | null,
    hi: Uint8Array | null,
    sent: Set<string>,
  ): AsyncGenerator<NewBlock> {
    const [A, B] = await this.#openPair(a, b, level)
    if (b !== null && isCid(b) && B.encoding !== undefined && !sent.has(cidKey(b))) {
      sent.add(cidKey(b))
      const base = a !== null && isCid(a) && A.encoding !== undefined ? { cid: a, ...A.encoding } : undefined
      yield { cid: b, ...B.encoding, ...(base === undefined ? {} : { base }) }
    }
    const links: CID[] = []
    for (const step of alignEntries(A, B, lo, hi)) {
      if (step.kind === 'subtrees') yield* this.#newBlocks(step.a, step.b, level - 1, step.lo, step.hi, sent)
      else if (step.after !== undefined) valueLinks(B, step.after, step.before, links)
    }
    // The blocks new values need, their chunks, and whatever their DAGs link to, each once.
    while (links.length > 0) {
      const cid = links.pop() as CID
      const id = cidKey(cid)
      if (sent.has(id) || cid.multihash.code === 0) continue
      sent.add(id)
      const bytes = await this.#loader.bytes(cid)
      yield { cid, bytes }
      links.push(...blockLinks(cid, bytes))
    }
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

  // --- loading -------------------------------------------------------------------------------

  /**
   * Starts loading the subtrees of `B` that `A` does not share, which an aligned walk of the two
   * is about to open one by one: reads from storage then overlap instead of queueing.
   */
  #prefetchChildren(A: TreeNode, B: TreeNode, level: number): void {
    if (level < 0) return
    let uncached: CID[] | undefined
    for (let i = 0; i <= B.entries.length; i++) {
      const ref = childBefore(B, i)
      if (ref !== null && isCid(ref) && this.#loader.cache.get(ref) === undefined) (uncached ??= []).push(ref)
    }
    // Usually all cached (a warm tree): then there is nothing to compare or start.
    if (uncached === undefined) return
    const shared = new Set<string>()
    for (let i = 0; i <= A.entries.length; i++) {
      const ref = childBefore(A, i)
      if (ref !== null && isCid(ref)) shared.add(cidKey(ref))
    }
    for (const ref of uncached) {
      // A failure surfaces when the walk itself opens the node.
      if (!shared.has(cidKey(ref))) this.#loader.load(ref, level).catch(() => {})
    }
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
}

/** One step of an aligned walk of two nodes: a pair of differing subtrees, or an entry that differs. */
type AlignedStep =
  | {
      readonly kind: 'subtrees'
      readonly a: Ref
      readonly b: Ref
      readonly lo: Uint8Array | null
      readonly hi: Uint8Array | null
    }
  | { readonly kind: 'entry'; readonly key: Uint8Array; readonly before?: Entry; readonly after?: Entry }

/**
 * Merges the entries of two nodes at the same level that lie strictly inside (lo, hi), in key
 * order: the entries that differ, and between them the pairs of subtrees that differ (cut to the
 * keys around them). What diff and newBlocks both walk.
 */
function alignEntries(A: TreeNode, B: TreeNode, lo: Uint8Array | null, hi: Uint8Array | null): AlignedStep[] {
  const steps: AlignedStep[] = []
  let i = lo === null ? 0 : upperBound(A.entries, lo)
  let j = lo === null ? 0 : upperBound(B.entries, lo)
  const iEnd = hi === null ? A.entries.length : lowerBound(A.entries, hi)
  const jEnd = hi === null ? B.entries.length : lowerBound(B.entries, hi)
  let from = lo
  const subtrees = (to: Uint8Array | null): void => {
    const a = childBefore(A, i)
    const b = childBefore(B, j)
    // Most neighbouring subtrees are shared: compare links before the caller opens them.
    if (!sameRef(a, b)) steps.push({ kind: 'subtrees', a, b, lo: from, hi: to })
  }
  while (i < iEnd || j < jEnd) {
    // Unchanged entries are shared objects between a node and the node made from it.
    const same = i < iEnd && j < jEnd && A.entries[i] === B.entries[j]
    const order = same ? 0 : i === iEnd ? 1 : j === jEnd ? -1 : compareBytes(A.entries[i].key, B.entries[j].key)
    const key = order <= 0 ? A.entries[i].key : B.entries[j].key
    subtrees(key)
    if (order < 0) steps.push({ kind: 'entry', key, before: A.entries[i] })
    else if (order > 0) steps.push({ kind: 'entry', key, after: B.entries[j] })
    else if (!same && !sameEntry(A.entries[i], B.entries[j]))
      steps.push({ kind: 'entry', key, before: A.entries[i], after: B.entries[j] })
    if (order <= 0) i++
    if (order >= 0) j++
    from = key
  }
  subtrees(hi)
  return steps
}

function sameEntry(a: Entry, b: Entry): boolean {
  if (a === b) return true
  if (!sameStoredValue(a.value, b.value)) return false
  if (a.meta === null || b.meta === null) return a.meta === b.meta
  return equalBytes(a.meta, b.meta)
}
