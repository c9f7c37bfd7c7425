// Garbage collection by mark and sweep over a whole storage. Written here rather than taken
// from helia, whose pin reference counts can drop blocks shared between roots: marking from
// every root on each run cannot.
import { type Block, blockLinks, collectBytes, verifyBlock } from '@dagsync/tree'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { type Commit, commitRoots, decodeCommit } from './commit.ts'
import { blockKey, type Storage } from './storage.ts'

export interface GcOptions {
  /**
   * Which commits of each store keep their blocks: the `last` N from the head, and/or those
   * made `since` a time. A commit is kept if either says so; the head always is.
   * @default every commit (only blocks no commit or pin reaches are deleted)
   */
  keep?: { last?: number; since?: Date | number }
  /** More roots to keep for this run (a commit root keeps its tree, not its history). */
  roots?: readonly CID[]
}

export interface GcResult {
  /** Commits whose blocks were kept, over all stores. */
  readonly commits: number
  readonly keptBlocks: number
  readonly deletedBlocks: number
  readonly deletedBytes: number
}

const IDENTITY = 0x00

/** A block's bytes from a blockstore, or undefined if it is not there. */
export async function readBlock(blockstore: Blockstore, cid: CID): Promise<Uint8Array | undefined> {
  try {
    return await collectBytes(blockstore.get(cid))
  } catch (err) {
    if ((err as Error).name === 'NotFoundError') return undefined
    throw err
  }
}

function isCommit(cid: CID, bytes: Uint8Array): Commit | undefined {
  if (cid.code !== 0x71) return undefined
  try {
    return decodeCommit(cid, bytes)
  } catch {
    return undefined
  }
}

/**
 * Walks every block `roots` reach, each once, calling `visit` with its bytes (or undefined
 * when `read` has none): where `visit` returns true the block is yielded and its links are
 * followed (by default: wherever the block is present). A root that is a commit is followed
 * into its tree and metadata but not to `prev`: keeping a commit does not keep the history
 * before it. Below the roots every link is followed, so a value that merely looks like a commit
 * keeps all it links to. Blocks are read 64 at a time, one level of the DAG after another.
 */
export async function* walkDag(
  read: (cid: CID) => Promise<Uint8Array | undefined>,
  roots: readonly CID[],
  visit: (cid: CID, bytes: Uint8Array | undefined) => boolean = (_, bytes) => bytes !== undefined,
  seen: Set<string> = new Set(),
): AsyncGenerator<Block> {
  const rootKeys = new Set(roots.map(blockKey))
  let wave = [...roots]
  while (wave.length > 0) {
    const next: CID[] = []
    const fresh = wave.filter((cid) => {
      if (cid.multihash.code === IDENTITY) return false
      const key = blockKey(cid)
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
    for (let i = 0; i < fresh.length; i += 64) {
      const batch = fresh.slice(i, i + 64)
      const blocks = await Promise.all(batch.map(read))
      for (let j = 0; j < batch.length; j++) {
        const cid = batch[j]
        const bytes = blocks[j]
        if (!visit(cid, bytes) || bytes === undefined) continue
        const commit = rootKeys.has(blockKey(cid)) ? isCommit(cid, bytes) : undefined
        next.push(...(commit === undefined ? blockLinks(cid, bytes) : commitRoots(commit)))
        yield { cid, bytes }
      }
    }
    wave = next
  }
}

export interface DagCheck {
  /** Blocks present and re-hashed, and their bytes. */
  blocks: number
  bytes: number
  missing: CID[]
  corrupt: CID[]
}

/**
 * Walks the DAGs under `roots`, re-hashing every block; reports what is missing or corrupt.
 * `onBlock` is called after each block checked, with the counts so far.
 */
export async function checkDag(
  blockstore: Blockstore,
  roots: readonly CID[],
  onBlock?: (progress: DagCheck) => void,
): Promise<DagCheck> {
  const result: DagCheck = { blocks: 0, bytes: 0, missing: [], corrupt: [] }
  const blocks = walkDag(
    (cid) => readBlock(blockstore, cid),
    roots,
    (cid, bytes) => {
      if (bytes === undefined) {
        result.missing.push(cid)
        return false
      }
      result.blocks++
      result.bytes += bytes.length
      onBlock?.(result)
      try {
        verifyBlock(cid, bytes)
        return true
      } catch {
        result.corrupt.push(cid)
        return false // its links cannot be trusted
      }
    },
  )
  for await (const _ of blocks) {
    // the checks are all
  }
  return result
}

/** The commits of one store that `keep` retains, newest first; the head always. */
async function retainedCommits(blockstore: Blockstore, head: CID, keep: GcOptions['keep']): Promise<CID[]> {
  const since = keep?.since === undefined ? undefined : new Date(keep.since).getTime()
  const last = keep?.last
  const retainsAll = last === undefined && since === undefined
  const out: CID[] = []
  let cid: CID | null = head
  while (cid !== null) {
    const bytes = await readBlock(blockstore, cid)
    const commit: Commit | undefined = bytes === undefined ? undefined : isCommit(cid, bytes)
    if (commit === undefined) break // history before this was collected already
    const kept =
      out.length === 0 ||
      retainsAll ||
      (last !== undefined && out.length < last) ||
      (since !== undefined && commit.time >= since)
    if (!kept) break
    out.push(cid)
    cid = commit.prev
  }
  return out
}

export async function collectGarbage(storage: Storage, options: GcOptions = {}): Promise<GcResult> {
  // Blocks committed from here on are kept whatever the marking finds.
  const record = storage.recordWrites()
  try {
    const roots: CID[] = [...(options.roots ?? [])]
    let commits = 0
    for (const head of (await storage.heads()).values()) {
      const retained = await retainedCommits(storage.blockstore, head, options.keep)
      commits += retained.length
      roots.push(...retained)
    }
    for await (const pin of storage.pins()) roots.push(pin.cid)

    // A block that cannot be read or decoded stops the run before anything is deleted.
    const marked = new Set<string>()
    for await (const _ of walkDag(
      (cid) => readBlock(storage.blockstore, cid),
      roots,
      () => true,
      marked,
    )) {
      // marking is all
    }

    const doomed: CID[] = []
    let deletedBytes = 0
    let keptBlocks = 0
    for await (const { cid, bytes } of storage.blockstore.getAll()) {
      const key = blockKey(cid)
      if (marked.has(key) || record.written.has(key)) {
        keptBlocks++
        continue
      }
      for await (const chunk of bytes) deletedBytes += chunk.length
      doomed.push(cid)
    }
    for (let i = 0; i < doomed.length; i += 1000) await storage.deleteBlocks(doomed.slice(i, i + 1000))
    return { commits, keptBlocks, deletedBlocks: doomed.length, deletedBytes }
  } finally {
    record.end()
  }
}
