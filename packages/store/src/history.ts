// A store's history: its commits from the head back, and a past version by seq or commit CID.
import type { MerkleSearchTree } from '@dagsync/tree'
import { CID } from 'multiformats/cid'
import type { Commit } from './commit.ts'
import { CommitNotFoundError } from './errors.ts'
import { StoreView } from './view.ts'

/** Reads a commit, or undefined if storage no longer holds it (collected history). */
export type LoadCommit = (cid: CID) => Promise<Commit | undefined>

/** Commits from `head` back, newest first, at most `limit`, as far as history is retained. */
export async function* commitLog(
  head: Commit | null,
  load: LoadCommit,
  limit = Number.POSITIVE_INFINITY,
): AsyncGenerator<Commit> {
  let remaining = limit
  let commit = head
  while (commit !== null && remaining-- > 0) {
    yield commit
    if (commit.prev === null) return
    const prev = await load(commit.prev)
    if (prev === undefined) return // older history was collected
    commit = prev
  }
}

/** The version `version` (a seq, or a commit CID) of the store whose head is `head`. */
export async function versionAt(
  tree: MerkleSearchTree,
  head: Commit | null,
  load: LoadCommit,
  version: number | CID,
): Promise<StoreView> {
  const cid = CID.asCID(version)
  if (cid !== null) {
    const commit = await load(cid)
    if (commit === undefined) throw new CommitNotFoundError(`commit ${cid} is not in this store's storage`)
    return new StoreView(tree, commit)
  }
  if (version === 0) return new StoreView(tree, null)
  for await (const commit of commitLog(head, load)) {
    if (commit.seq === version) return new StoreView(tree, commit)
    if (commit.seq < (version as number)) break
  }
  throw new CommitNotFoundError(`no retained commit has seq ${String(version)} (the head is ${head?.seq ?? 0})`)
}
