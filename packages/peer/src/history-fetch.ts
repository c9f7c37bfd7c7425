// A replica's older history, fetched on demand. A follower syncs only the tree of each head it
// moves to, so the commits before the first it synced, and those between two syncs, are not held:
// its log (and a key's history) stops there. Each older commit is fetched by its CID, the `prev`
// of the oldest commit of the held chain (so the chain vouches for it), then the blocks of its
// tree that storage lacks: the old versions of what the next commit changed, usually a few nodes.
// Every block is verified as it arrives (bitswap, or a gateway), every node checked by the walk.
import { type Commit, decodeCommit, type Store } from '@dagsync/store'
import type { Block } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'

export interface HistoryFetchContext {
  /** One block from the network, verified; fails after `timeoutMs`. */
  fetch(cid: CID, timeoutMs: number): Promise<Uint8Array>
  readonly fetchTimeoutMs: number
}

/** The oldest commit of the chain held from `commit` back. */
async function oldestOfChain(store: Store, commit: Commit): Promise<Commit> {
  let oldest = commit
  for await (const held of store.log({ from: commit })) oldest = held
  return oldest
}

/**
 * Fetches up to `count` commits older than those the replica's log reaches, each with the
 * blocks its tree needs, and adds them to its history (the head does not move). Resolves with
 * how many it added: fewer when the log reaches the store's first commit.
 */
export async function fetchOlderCommits(
  ctx: HistoryFetchContext,
  store: Store,
  count: number,
  signal?: AbortSignal,
): Promise<number> {
  if (store.head === null) return 0
  let child = await oldestOfChain(store, store.head)
  let added = 0
  while (child.prev !== null && added < count) {
    signal?.throwIfAborted()
    const cid = child.prev
    const bytes = await ctx.fetch(cid, ctx.fetchTimeoutMs)
    const commit = decodeCommit(cid, bytes, true)
    const blocks: Block[] = [{ cid, bytes }]
    const newer = child
    // What the walk finds stored must stay until the blocks are written: gc waits.
    await store.storage.gcLock.shared(async () => {
      for await (const block of store.tree.walk(commit.tree, {
        has: (c) => store.storage.blockstore.has(c),
        getBlock: (c) => ctx.fetch(c, ctx.fetchTimeoutMs),
        concurrency: 16,
      })) {
        blocks.push(block)
      }
      await store.addHistory(newer, commit, blocks)
    })
    added++
    // The commit before it may be held already (the head of an earlier sync): the chain goes on there.
    child = await oldestOfChain(store, commit)
  }
  return added
}
