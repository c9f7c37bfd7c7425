// Stores: creating, listing, following and naming them, and how each is doing.
import { createStoreKey, forgetFollow, recordFollow, saveStoreKey, storePublicKey } from '@dagsync/peer/local'
import { ApiError, type StoreInfo, type StoreStatus } from '../api.ts'
import { toApiError } from '../convert.ts'
import { checkStoreName } from '../names.ts'
import type { Handle, LocalContext } from './context.ts'
import { writersOf } from './store-writers.ts'

export async function storeInfo(ctx: LocalContext, handle: Handle): Promise<StoreInfo> {
  const names = await ctx.namesOf(handle.id)
  const head = handle.store.head
  return { id: handle.id, names, role: handle.role, seq: head?.seq ?? 0, head: head?.cid ?? null }
}

export async function storeCreate(ctx: LocalContext, { name }: { name?: string }): Promise<StoreInfo> {
  // Every check before the store exists: a refused name must not leave an unnamed store behind.
  if (name !== undefined) checkStoreName(name)
  if (name !== undefined && (await ctx.repo.names()).has(name))
    throw new ApiError('conflict', `the name "${name}" is already given to a store`)
  let id: string
  if (ctx.node !== undefined) {
    id = (await ctx.node.createStore()).id
  } else {
    id = await saveStoreKey(ctx.datastore, await createStoreKey())
  }
  if (name !== undefined) await ctx.repo.setName(name, id)
  await ctx.repo.checkStores()
  return storeInfo(ctx, await ctx.handle(id))
}

export async function storeList(ctx: LocalContext): Promise<StoreInfo[]> {
  const ids = new Set([...(await ctx.writable()), ...(await ctx.followed()).keys()])
  const out: StoreInfo[] = []
  for (const id of ids) {
    try {
      out.push(await storeInfo(ctx, await ctx.handle(id)))
    } catch (err) {
      const names = await ctx.namesOf(id)
      // A sparse store offline: listed, without a head.
      if (err instanceof ApiError && err.code === 'unavailable')
        out.push({ id, names, role: 'sparse', seq: 0, head: null })
      // A damaged store is not listed: `status` and `pin verify` report it.
      else if (ctx.repo.damageOf(id).length === 0) throw err
    }
  }
  return out.sort((a, b) => (a.names[0] ?? a.id).localeCompare(b.names[0] ?? b.id))
}

export async function storeFollow(
  ctx: LocalContext,
  { id, name, sparse = false }: { id: string; name?: string; sparse?: boolean },
): Promise<StoreInfo> {
  try {
    storePublicKey(id)
  } catch (err) {
    throw toApiError(err)
  }
  if ((await ctx.writable()).has(id))
    throw new ApiError('conflict', `store ${id} is written here; it cannot also be followed`)
  if (name !== undefined) await ctx.repo.setName(name, id)
  if (ctx.node !== undefined) {
    const current = ctx.node.followed(id)
    if (current !== undefined && current.sparse !== sparse) await ctx.node.unfollow(id)
    await ctx.node.follow(id, { sparse })
  } else {
    // Recorded here; the daemon follows it when it starts.
    await recordFollow(ctx.datastore, { id, sparse })
    if (sparse) {
      await ctx.repo.checkStores()
      const names = name === undefined ? [] : [name]
      return { id, names, role: 'sparse', seq: 0, head: null }
    }
  }
  await ctx.repo.checkStores()
  return storeInfo(ctx, await ctx.handle(id))
}

export async function storeUnfollow(ctx: LocalContext, { store }: { store: string }): Promise<void> {
  const id = await ctx.resolve(store)
  if ((await ctx.writable()).has(id)) throw new ApiError('conflict', `store ${id} is written here, not followed`)
  if (!(await ctx.followed()).has(id)) throw new ApiError('not-found', `store ${id} is not followed here`)
  await ctx.repo.forgetStore(id)
  if (ctx.node !== undefined) {
    await ctx.node.unfollow(id)
  } else {
    await ctx.closeOffline(id)
    await forgetFollow(ctx.datastore, id)
    await ctx.repo.storage.deleteHead(id)
  }
  await ctx.repo.deleteNames(id)
}

export async function storeStatus(ctx: LocalContext, { store }: { store: string }): Promise<StoreStatus> {
  const handle = await ctx.handle(store)
  const info = await storeInfo(ctx, handle)
  const status = handle.follower?.status()
  const writers = handle.served?.writers ?? (handle.role === 'writer' ? await writersOf(ctx, handle.id) : [])
  const pubsub = ctx.node?.libp2p.services.pubsub
  const last = status?.lastSync
  return {
    ...info,
    newest: status?.newest?.seq ?? info.seq,
    lag: status?.lag ?? 0,
    peers:
      status?.peers ??
      (handle.served === undefined ? undefined : pubsub?.getSubscribers(handle.served.topic).length) ??
      0,
    syncing: status?.syncing ?? false,
    keys: handle.role === 'sparse' ? -1 : await handle.store.count(),
    writers,
    ...(last === undefined
      ? {}
      : {
          lastSync: {
            seq: last.seq,
            ms: Math.round(last.ms),
            path: last.path,
            wireBytes: last.wireBytes,
            blocks: last.blocks,
          },
        }),
    ...(status?.lastError === undefined ? {} : { lastError: status.lastError }),
    online: ctx.node !== undefined,
  }
}

export async function storeName(
  ctx: LocalContext,
  { store, name }: { store: string; name: string },
): Promise<StoreInfo> {
  const handle = await ctx.handle(store)
  await ctx.repo.setName(name, handle.id)
  await ctx.repo.checkStores()
  return storeInfo(ctx, handle)
}
