// Names: publishing a store's head over IPNS, and resolving a store's name to its head.
import { decodeCommit } from '@dagsync/store'
import type { CID } from 'multiformats/cid'
import { ApiError, type NameRecord } from '../api.ts'
import { toApiError } from '../convert.ts'
import type { LocalContext } from './context.ts'

export async function namePublish(ctx: LocalContext, { store }: { store: string }): Promise<NameRecord> {
  const handle = await ctx.handle(store)
  if (handle.role !== 'writer')
    throw new ApiError('conflict', `store ${handle.id} is written elsewhere; only its writer publishes it`)
  const node = ctx.needNode('publishing a name')
  try {
    const { commit, seq } = await node.publishName(handle.id)
    return { name: handle.id, value: commit, seq }
  } catch (err) {
    throw toApiError(err)
  }
}

export async function nameResolve(ctx: LocalContext, { name }: { name: string }): Promise<NameRecord> {
  const id = await ctx.resolve(name)
  const node = ctx.needNode('resolving a name')
  let commit: CID
  try {
    commit = await node.resolveName(id, { signal: AbortSignal.timeout(10_000) })
  } catch (err) {
    throw new ApiError('not-found', `could not resolve ${id} through IPNS: ${(err as Error).message}`, { cause: err })
  }
  try {
    const bytes = await node.getBlock(commit)
    return { name: id, value: commit, seq: decodeCommit(commit, bytes, true).seq }
  } catch (err) {
    throw new ApiError('not-found', `${id} resolves to ${commit}, which no peer provided: ${(err as Error).message}`)
  }
}
