// Pinning a store: keeping a full replica that follows its head, waiting for it to sync.
import type { Follower } from '@dagsync/peer'
import { checkDag } from '@dagsync/store'
import { ApiError, type OnProgress, type PinAddResult } from '../api.ts'
import type { LocalContext } from './context.ts'

/** How long a sync may make no progress before a store pin gives up on it. */
const STALL_MS = 60_000

/** Pins a store: keeps a full replica that follows its head (a writer's own stores always are). */
export async function pinStore(
  ctx: LocalContext,
  id: string,
  name: string | undefined,
  onProgress?: OnProgress,
): Promise<PinAddResult> {
  if (name !== undefined) await ctx.repo.setName(name, id)
  const writable = (await ctx.writable()).has(id)
  if (!writable) {
    const node = ctx.needNode('pinning a store written elsewhere')
    const current = node.followed(id)
    if (current?.sparse === true) await node.unfollow(id)
    const follower = await node.follow(id, { sparse: false })
    await ctx.repo.checkStores()
    await awaitSynced(follower, ctx.init.discoverTimeoutMs ?? 15_000, onProgress)
  }
  const handle = await ctx.handle(id)
  const head = handle.store.head
  const check =
    head === null
      ? { blocks: 0, bytes: 0 }
      : await checkDag(ctx.repo.storage.blockstore, [head.cid], (p) =>
          onProgress?.({ blocks: p.blocks, bytes: p.bytes, phase: 'checking' }),
        )
  return {
    pin: {
      cid: head?.cid ?? handle.store.tree.emptyRoot,
      type: 'store',
      store: id,
      ...(name === undefined ? {} : { name }),
    },
    blocks: check.blocks,
    bytes: check.bytes,
    fetched: handle.follower?.status().lastSync?.blocks ?? 0,
  }
}

/** Waits until a follower holds the newest head it knows of, reporting progress; fails if none is found or it stalls. */
async function awaitSynced(follower: Follower, discoverMs: number, onProgress?: OnProgress): Promise<void> {
  const started = Date.now()
  let lastMove = Date.now()
  let lastBytes = -1
  for (;;) {
    const status = follower.status()
    if (status.newest !== null && (status.synced?.seq ?? 0) >= status.newest.seq && !status.syncing) return
    const progress = status.progress
    if (progress !== undefined) {
      onProgress?.({ ...progress, phase: 'syncing' })
      if (progress.bytes !== lastBytes) {
        lastBytes = progress.bytes
        lastMove = Date.now()
      }
    }
    if (status.newest === null && Date.now() - started > discoverMs)
      throw new ApiError(
        'unavailable',
        `no connected peer announced store ${follower.id} within ${discoverMs / 1000} s; it stays followed and syncs when one does`,
      )
    if (status.newest !== null && Date.now() - lastMove > STALL_MS)
      throw new ApiError(
        'unavailable',
        `sync of store ${follower.id} stalled: ${status.lastError ?? 'no progress for 60 s'}`,
      )
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
