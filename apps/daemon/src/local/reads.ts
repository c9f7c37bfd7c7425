// Reads: values, bytes, key ranges, history and diffs, at the head or at an older commit.
import { keyHistory, type StoreView } from '@dagsync/store'
import type { CID } from 'multiformats/cid'
import {
  ApiError,
  type ChangeData,
  type CommitInfo,
  type EntryData,
  type GetResult,
  type KeyInfoData,
  type KeysQuery,
  type Segment,
} from '../api.ts'
import { commitInfo, keyInfoData, toApiError } from '../convert.ts'
import type { Handle, LocalContext } from './context.ts'

/** The store as of `at` (a seq or a commit CID), or its head. */
export async function viewAt(handle: Handle, at: number | CID | undefined): Promise<StoreView> {
  try {
    return at === undefined ? handle.store.snapshot() : await handle.store.at(at)
  } catch (err) {
    throw toApiError(err)
  }
}

export async function get(
  ctx: LocalContext,
  { store, key, path, at }: { store: string; key: string; path?: readonly Segment[]; at?: number | CID },
): Promise<GetResult> {
  const view = await viewAt(await ctx.handle(store), at)
  try {
    const info = await view.getMeta(key)
    if (info === undefined) throw new ApiError('not-found', `key "${key}" is not in store ${store}`)
    if (info.type === 'binary') return { info: keyInfoData(info) }
    const value = path === undefined || path.length === 0 ? await view.get(key) : await view.getIn([key, ...path])
    if (value === undefined) throw new ApiError('not-found', `path ${path?.join('/')} is not in the value of "${key}"`)
    return { info: keyInfoData(info), value }
  } catch (err) {
    throw toApiError(err)
  }
}

export async function getBytes(
  ctx: LocalContext,
  { store, key, at }: { store: string; key: string | Uint8Array; at?: number | CID },
): Promise<AsyncIterable<Uint8Array>> {
  const view = await viewAt(await ctx.handle(store), at)
  try {
    const info = await view.getMeta(key)
    if (info === undefined) throw new ApiError('not-found', `key "${key}" is not in store ${store}`)
    if (info.type !== 'binary')
      throw new ApiError('bad-request', `key "${key}" holds a structured value, not bytes (use get)`)
    const binary = await view.bget(key)
    if (binary === undefined) throw new ApiError('not-found', `key "${key}" is not in store ${store}`)
    return binary.stream()
  } catch (err) {
    throw toApiError(err)
  }
}

export async function* keys(ctx: LocalContext, query: KeysQuery): AsyncGenerator<KeyInfoData> {
  const view = await viewAt(await ctx.handle(query.store), query.at)
  const { store: _, at: __, ...range } = query
  try {
    for await (const info of view.keys(range)) yield keyInfoData(info)
  } catch (err) {
    throw toApiError(err)
  }
}

export async function* entries(
  ctx: LocalContext,
  query: KeysQuery & { inlineBytes?: number },
): AsyncGenerator<EntryData> {
  const view = await viewAt(await ctx.handle(query.store), query.at)
  const { store: _, at: __, inlineBytes = 0, ...range } = query
  try {
    for await (const info of view.keys(range)) {
      if (info.type === 'value') yield { info: keyInfoData(info), value: await view.get(info.key) }
      else if (info.size > inlineBytes) yield { info: keyInfoData(info) }
      else yield { info: keyInfoData(info), bytes: await (await view.bget(info.key))!.bytes() }
    }
  } catch (err) {
    throw toApiError(err)
  }
}

export async function* log(
  ctx: LocalContext,
  { store, limit, key }: { store: string; limit?: number; key?: string },
): AsyncGenerator<CommitInfo> {
  const handle = await ctx.handle(store)
  if (key !== undefined) {
    for await (const { commit, change } of keyHistory(handle.store, key, limit)) yield { ...commitInfo(commit), change }
    return
  }
  for await (const commit of handle.store.log(limit === undefined ? {} : { limit })) yield commitInfo(commit)
}

export async function* diff(
  ctx: LocalContext,
  { store, from, to }: { store: string; from: number | CID; to?: number | CID },
): AsyncGenerator<ChangeData> {
  const handle = await ctx.handle(store)
  try {
    for await (const change of handle.store.diff(from, to)) {
      yield {
        key: change.key,
        ...(change.before === undefined ? {} : { before: change.before }),
        ...(change.after === undefined ? {} : { after: change.after }),
      }
    }
  } catch (err) {
    throw toApiError(err)
  }
}
