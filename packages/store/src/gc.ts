// Garbage collection by mark and sweep over a whole storage. Written here rather than taken
// from helia, whose pin reference counts can drop blocks shared between roots: marking from
// every root on each run cannot.
//
// It marks from every store's retained commits and every pin without holding anything, so
// commits and syncs go on. Then it takes the gc lock exclusively, which waits for every commit,
// sync and pin in progress (each holds the shared side from its first look at storage to the
// write that makes what it saw live), marks again from the heads and pins as they are now (only
// what the first pass did not reach is read), and deletes the rest in one write. A block it
// needs and cannot read stops it before anything is deleted.
import type { CID } from 'multiformats/cid'
import { asCommit } from './commit.ts'
import { readBlock, walkDag } from './dag.ts'
import { GcAbortedError } from './errors.ts'
import { blockKey, type Storage } from './storage.ts'

/**
 * What gc is doing: 'marking' (nothing held), 'marked' (about to take the lock), 'waiting' (for
 * commits, syncs and pins in progress; told only if there are any), 'sweeping' (the lock held:
 * the last marking and the delete).
 */
export type GcPhase = 'marking' | 'marked' | 'waiting' | 'sweeping'

export interface GcOptions {
  /**
   * Which commits of each store keep their blocks: the `last` N from the head, and/or those
   * made `since` a time. A commit is kept if either says so; the head always is.
   * @default every commit (only blocks no commit or pin reaches are deleted)
   */
  keep?: { last?: number; since?: Date | number }
  /** More roots to keep for this run (a commit root keeps its tree, not its history). */
  roots?: readonly CID[]
  /** Told as each phase starts; gc waits for what it returns (for progress, and for tests to hold it). */
  onPhase?: (phase: GcPhase) => void | Promise<void>
}

export interface GcResult {
  /** Commits whose blocks were kept, over all stores. */
  readonly commits: number
  readonly keptBlocks: number
  readonly deletedBlocks: number
  readonly deletedBytes: number
}

/**
 * The commits of one store that `keep` retains, newest first; the head always. The walk back
 * stops where history was collected (a missing `prev`) or at a commit in `done`, a pass before
 * this one having kept it and what it retained.
 */
async function retainedCommits(
  storage: Storage,
  store: string,
  head: CID,
  keep: GcOptions['keep'],
  done: ReadonlySet<string>,
): Promise<CID[]> {
  const since = keep?.since === undefined ? undefined : new Date(keep.since).getTime()
  const last = keep?.last
  const retainsAll = last === undefined && since === undefined
  const out: CID[] = []
  let cid: CID | null = head
  while (cid !== null && !done.has(blockKey(cid))) {
    const bytes = await readBlock(storage.blockstore, cid)
    if (bytes === undefined) {
      // The head must be there; an older commit missing is history collected before.
      if (out.length === 0) throw new GcAbortedError(`store ${store}: its head commit ${cid} is missing`, cid)
      break
    }
    const commit = asCommit(cid, bytes)
    if (commit === undefined) throw new GcAbortedError(`store ${store}: block ${cid} is not a valid commit`, cid)
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

/** The roots to mark from: every store's retained commits, every pin, and the run's own. */
async function rootsOf(
  storage: Storage,
  options: GcOptions,
  done: ReadonlySet<string>,
): Promise<{ roots: CID[]; commits: number }> {
  const roots: CID[] = [...(options.roots ?? [])]
  let commits = 0
  for (const [store, head] of await storage.heads()) {
    const retained = await retainedCommits(storage, store, head, options.keep, done)
    commits += retained.length
    roots.push(...retained)
  }
  for await (const pin of storage.pins()) roots.push(pin.cid)
  return { roots, commits }
}

/** Adds to `marked` every block `roots` reach; a missing or undecodable block stops the run. */
async function mark(storage: Storage, roots: readonly CID[], marked: Set<string>): Promise<void> {
  try {
    const walk = walkDag(
      (cid) => readBlock(storage.blockstore, cid),
      roots,
      (cid, bytes) => {
        if (bytes === undefined)
          throw new GcAbortedError(`block ${cid}, which a kept commit or pin reaches, is missing`, cid)
        return true
      },
      marked,
    )
    for await (const _ of walk) {
      // marking is all
    }
  } catch (err) {
    if (err instanceof GcAbortedError) throw err
    const cid = (err as { cid?: CID }).cid
    throw new GcAbortedError(`a block it must keep cannot be read: ${(err as Error).message}`, cid, { cause: err })
  }
}

export async function collectGarbage(storage: Storage, options: GcOptions = {}): Promise<GcResult> {
  await options.onPhase?.('marking')
  const marked = new Set<string>()
  const first = await rootsOf(storage, options, marked)
  await mark(storage, first.roots, marked)

  // What no root reaches now. Blocks written from here on are not candidates.
  const candidates = new Map<string, { cid: CID; size: number }>()
  let keptBlocks = 0
  for await (const { cid, bytes } of storage.blockstore.getAll()) {
    const key = blockKey(cid)
    if (marked.has(key)) {
      keptBlocks++
      continue
    }
    let size = 0
    for await (const chunk of bytes) size += chunk.length
    candidates.set(key, { cid, size })
  }
  await options.onPhase?.('marked')

  return storage.gcLock.withExclusive(
    async () => {
      await options.onPhase?.('sweeping')
      // Heads and pins may have moved onto candidates (a head set back to an older value's
      // blocks, a sync that found them stored): mark again from them as they are now.
      const now = await rootsOf(storage, options, marked)
      await mark(storage, now.roots, marked)
      const doomed: CID[] = []
      let deletedBytes = 0
      for (const [key, { cid, size }] of candidates) {
        if (marked.has(key)) {
          keptBlocks++
          continue
        }
        doomed.push(cid)
        deletedBytes += size
      }
      // One write: a crash leaves all of them or none, so storage still holds only whole DAGs.
      if (doomed.length > 0) await storage.deleteBlocks(doomed)
      return { commits: first.commits + now.commits, keptBlocks, deletedBlocks: doomed.length, deletedBytes }
    },
    () => options.onPhase?.('waiting'),
  )
}
