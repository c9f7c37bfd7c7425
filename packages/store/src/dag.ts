// Walking and checking whole DAGs in a blockstore: what gc marks, what verify checks, what a
// CAR export or a pin reads. Blocks are read 64 at a time, one level of the DAG after another.
import { type Block, blockLinks, collectBytes, verifyBlock, walkWaves } from '@dagsync/tree'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { asCommit, commitRoots } from './commit.ts'
import { blockKey } from './storage.ts'

/** A block's bytes from a blockstore, or undefined if it is not there. */
export async function readBlock(blockstore: Blockstore, cid: CID): Promise<Uint8Array | undefined> {
  try {
    return await collectBytes(blockstore.get(cid))
  } catch (err) {
    if ((err as Error).name === 'NotFoundError') return undefined
    throw err
  }
}

/**
 * The links of a block as DAG walks follow them. A root that is a commit links to its tree and
 * metadata but not to `prev`: keeping or copying a commit does not take the history before it.
 * Below the roots every link counts, so a value that merely looks like a commit keeps all it
 * links to.
 */
export function dagLinks(cid: CID, bytes: Uint8Array, isRoot: boolean): CID[] {
  const commit = isRoot ? asCommit(cid, bytes) : undefined
  return commit === undefined ? blockLinks(cid, bytes) : commitRoots(commit)
}

/**
 * Walks every block `roots` reach, each once, calling `visit` with its bytes (or undefined
 * when `read` has none): where `visit` returns true the block is yielded and its links (see
 * `dagLinks`) are followed (by default: wherever the block is present).
 */
export function walkDag(
  read: (cid: CID) => Promise<Uint8Array | undefined>,
  roots: readonly CID[],
  visit: (cid: CID, bytes: Uint8Array | undefined) => boolean = (_, bytes) => bytes !== undefined,
  seen: Set<string> = new Set(),
): AsyncGenerator<Block & { readonly links: readonly CID[] }> {
  const rootKeys = new Set(roots.map(blockKey))
  return walkWaves(roots, {
    cid: (cid) => cid,
    key: blockKey,
    seen,
    read,
    expand: (cid, bytes, next) => {
      if (!visit(cid, bytes) || bytes === undefined) return undefined
      const links = dagLinks(cid, bytes, rootKeys.has(blockKey(cid)))
      next.push(...links)
      return { cid, bytes, links }
    },
  })
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
