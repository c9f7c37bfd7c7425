// What a pin, CAR or remote pin may name: a store (by name or id), a CID, or `store@seq`.
import type { CID } from 'multiformats/cid'
import { ApiError } from '../api.ts'
import { parseCid } from '../convert.ts'
import type { LocalContext } from './context.ts'
import { viewAt } from './reads.ts'

/** A pin target: a store (name or id), or a CID. */
export async function pinTarget(ctx: LocalContext, target: string): Promise<{ store: string } | { cid: CID }> {
  if ((await ctx.repo.names()).has(target) || /^k51[a-z0-9]{50,}$/.test(target))
    return { store: await ctx.resolve(target) }
  return { cid: parseCid(target, 'CID or store') }
}

/** A commit or block CID from a CID, a store (its head), or `store@seq`. */
export async function rootOf(ctx: LocalContext, ref: string): Promise<CID> {
  const at = /^(.+)@(\d+)$/.exec(ref)
  if (at !== null) {
    const view = await viewAt(await ctx.handle(at[1]), Number(at[2]))
    if (view.commit === null) throw new ApiError('not-found', `store ${at[1]} has no commit ${at[2]}`)
    return view.commit.cid
  }
  const what = await pinTarget(ctx, ref)
  if ('cid' in what) return what.cid
  const head = (await ctx.handle(what.store)).store.head
  if (head === null) throw new ApiError('not-found', `store ${ref} has no commits yet`)
  return head.cid
}
