// Pins: adding (a DAG by CID, or a store), listing and removing them.
import { ApiError, type OnProgress, type PinAddResult, type PinInfo } from '../api.ts'
import type { LocalContext } from './context.ts'
import { pinDag } from './pin-dag.ts'
import { pinStore } from './pin-store.ts'
import { pinTarget } from './refs.ts'
import { storeList, storeUnfollow } from './stores.ts'

export async function pinAdd(
  ctx: LocalContext,
  { target, name }: { target: string; name?: string },
  onProgress?: OnProgress,
): Promise<PinAddResult> {
  const what = await pinTarget(ctx, target)
  if ('store' in what) return pinStore(ctx, what.store, name, onProgress)
  return pinDag(ctx, what.cid, name, onProgress)
}

export async function pinList(ctx: LocalContext): Promise<PinInfo[]> {
  const out: PinInfo[] = []
  for await (const pin of ctx.repo.storage.pins())
    out.push({
      cid: pin.cid,
      type: 'recursive',
      ...(pin.name === undefined ? {} : { name: pin.name }),
      time: pin.time,
    })
  for (const info of await storeList(ctx)) {
    if (info.role === 'sparse' || info.head === null) continue
    out.push({
      cid: info.head,
      type: 'store',
      store: info.id,
      ...(info.names[0] === undefined ? {} : { name: info.names[0] }),
    })
  }
  return out
}

export async function pinRemove(ctx: LocalContext, { target }: { target: string }): Promise<PinInfo> {
  const what = await pinTarget(ctx, target)
  if ('store' in what) {
    if ((await ctx.writable()).has(what.store))
      throw new ApiError('conflict', `store ${what.store} is written here: its head is always kept`)
    const handle = await ctx.handle(what.store)
    const pin: PinInfo = {
      cid: handle.store.head?.cid ?? handle.store.tree.emptyRoot,
      type: 'store',
      store: what.store,
    }
    await storeUnfollow(ctx, { store: what.store })
    return pin
  }
  for await (const pin of ctx.repo.storage.pins()) {
    if (pin.cid.equals(what.cid)) {
      await ctx.repo.storage.unpin(pin.cid)
      return {
        cid: pin.cid,
        type: 'recursive',
        ...(pin.name === undefined ? {} : { name: pin.name }),
        time: pin.time,
      }
    }
  }
  throw new ApiError('not-found', `${what.cid} is not pinned (see \`dagsync pin ls\`)`)
}
