// The sync side of a diff: the blocks a holder of one root lacks to read another. New nodes
// come each with the node it replaces (a base its holder has, to send a delta against), then the
// blocks new values need; found by diff's aligned walk, so only changed paths are opened.
import type { CID } from 'multiformats/cid'
import { CborReader } from './cbor.ts'
import { alignEntries, openPair } from './diff.ts'
import { cidKey } from './hash.ts'
import { compareBytes } from './keys.ts'
import type { NodeLoader } from './loader.ts'
import type { Entry, Ref, TreeNode } from './node.ts'
import { isCid, lift, sameRef } from './ref.ts'
import { blockLinks } from './walk.ts'

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
 * MerkleSearchTree.newBlocks: the aligned walk from both roots (lifted to one level), so it opens
 * only the changed paths.
 */
export async function* newBlocks(loader: NodeLoader, from: CID, to: CID): AsyncGenerator<NewBlock> {
  // (Not `from.equals(to)`: multiformats types it as a guard that narrows `to` away.)
  if (from.toString() === to.toString()) return
  const a = await loader.root(from)
  const b = await loader.root(to)
  const level = Math.max(a.level, b.level)
  const [x, y] = [lift(a.ref, a.level, level), lift(b.ref, b.level, level)]
  const sent = new Set<string>()
  if (!sameRef(x, y)) yield* newBlocksBelow(loader, x, y, level, null, null, sent)
  // A root that is the empty node is written as a block too.
  if (b.ref === null && !sent.has(cidKey(to))) yield { cid: to, bytes: await loader.bytes(to) }
}

/**
 * The aligned walk of diff, yielding per node pair rather than per entry (a cold sync sends
 * every node, and a generator step per entry and level costs more than the rest).
 */
async function* newBlocksBelow(
  loader: NodeLoader,
  a: Ref,
  b: Ref,
  level: number,
  lo: Uint8Array | null,
  hi: Uint8Array | null,
  sent: Set<string>,
): AsyncGenerator<NewBlock> {
  const [A, B] = await openPair(loader, a, b, level)
  if (b !== null && isCid(b) && B.encoding !== undefined && !sent.has(cidKey(b))) {
    sent.add(cidKey(b))
    const base =
      a !== null && isCid(a) && A.encoding !== undefined && keysOverlap(A, B) ? { cid: a, ...A.encoding } : undefined
    yield { cid: b, ...B.encoding, ...(base === undefined ? {} : { base }) }
  }
  const links: CID[] = []
  for (const step of alignEntries(A, B, lo, hi)) {
    if (step.kind === 'subtrees') yield* newBlocksBelow(loader, step.a, step.b, level - 1, step.lo, step.hi, sent)
    else if (step.after !== undefined) valueLinks(B, step.after, step.before, links)
  }
  // The blocks new values need, their chunks, and whatever their DAGs link to, each once.
  while (links.length > 0) {
    const cid = links.pop() as CID
    const id = cidKey(cid)
    if (sent.has(id) || cid.multihash.code === 0) continue
    sent.add(id)
    const bytes = await loader.bytes(cid)
    yield { cid, bytes }
    links.push(...blockLinks(cid, bytes))
  }
}

/**
 * Whether two nodes' keys overlap: a node whose keys all sit beside the old node's (a new
 * subtree, as appended keys make) shares no entry with it, so the old node is no base for it.
 */
function keysOverlap(a: TreeNode, b: TreeNode): boolean {
  const [aFirst, aLast] = [a.entries[0], a.entries.at(-1)]
  const [bFirst, bLast] = [b.entries[0], b.entries.at(-1)]
  if (aFirst === undefined || aLast === undefined || bFirst === undefined || bLast === undefined) return false
  return compareBytes(bFirst.key, aLast.key) <= 0 && compareBytes(aFirst.key, bLast.key) <= 0
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
