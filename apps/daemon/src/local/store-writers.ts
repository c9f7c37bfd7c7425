// Who may write a store this repo writes: the lists set with `store allow`/`store deny`, and the
// config's.
import { type AllowMode, ApiError, type WritersInfo } from '../api.ts'
import type { WritersChange } from '../writers.ts'
import type { Handle, LocalContext } from './context.ts'

/** The peers allowed to write a store: those set with `store allow`, and the config's. */
export async function writersOf(ctx: LocalContext, id: string): Promise<string[]> {
  return [...(await ctx.writerLists.of(id, await ctx.namesOf(id))).writers]
}

/** A store this repo writes, for a change to (or a look at) who else may write it. */
async function writerHandle(ctx: LocalContext, store: string): Promise<Handle> {
  const handle = await ctx.handle(store)
  if (handle.role !== 'writer')
    throw new ApiError('conflict', `store ${handle.id} is written elsewhere; only its writer decides who may write`)
  return handle
}

async function changeWriters(ctx: LocalContext, store: string, change: WritersChange): Promise<WritersInfo> {
  const handle = await writerHandle(ctx, store)
  const result = await ctx.writerLists.change(handle.id, await ctx.namesOf(handle.id), change)
  handle.served?.allowWriters(result.writers)
  return result
}

export async function storeWriters(ctx: LocalContext, { store }: { store: string }): Promise<WritersInfo> {
  const handle = await writerHandle(ctx, store)
  return ctx.writerLists.of(handle.id, await ctx.namesOf(handle.id))
}

export function storeAllow(
  ctx: LocalContext,
  { store, peers, mode = 'replace' }: { store: string; peers: readonly string[]; mode?: AllowMode },
): Promise<WritersInfo> {
  if (mode !== 'add' && mode !== 'replace')
    return Promise.reject(new ApiError('bad-request', `mode must be "add" or "replace", not ${JSON.stringify(mode)}`))
  return changeWriters(ctx, store, { allow: peers, mode })
}

export function storeDeny(
  ctx: LocalContext,
  { store, peers }: { store: string; peers: readonly string[] },
): Promise<WritersInfo> {
  return changeWriters(ctx, store, { deny: peers })
}
