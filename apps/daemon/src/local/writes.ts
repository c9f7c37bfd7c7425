// Writes: a commit made here for a store this repo writes, or sent to the writer through the
// daemon for a store it follows; and bytes staged for a bulk write to place by reference.
import type { Follower } from '@dagsync/peer'
import { type CheckedOps, type Commit, type Store, stageBytes as stage, type WriteOp } from '@dagsync/store'
import { concatBytes } from '@dagsync/tree'
import { ApiError, type PutRequest, type StagedBytesInfo, type TransactRequest, type WriteResult } from '../api.ts'
import { commitInfo, toApiError } from '../convert.ts'
import type { LocalContext } from './context.ts'

/** A binary value written through another peer travels in one message, so it has this limit. */
const REMOTE_BYTES_LIMIT = 1024 * 1024

async function write(
  ctx: LocalContext,
  ref: string,
  local: (store: Store, options: { meta?: { by: string } }) => Promise<Commit | null>,
  remote: (follower: Follower) => Promise<Commit | null>,
): Promise<WriteResult> {
  const handle = await ctx.handle(ref)
  const started = performance.now()
  try {
    let commit: Commit | null
    if (handle.role === 'writer') {
      // Who wrote it, as a remote write records its peer (`log` shows it); unknown before the first daemon start.
      const by = ctx.node?.peerId.toString() ?? (await ctx.repo.peerId())
      commit = await local(handle.store, by === undefined ? {} : { meta: { by } })
      ctx.init.onCommit?.(performance.now() - started)
      if (commit !== null) await ctx.repo.noteHead(handle.id, commit.seq)
    } else if (handle.follower !== undefined) {
      commit = await remote(handle.follower)
    } else {
      throw new ApiError(
        'unavailable',
        `store ${handle.id} is written by another peer: writes go to it through the daemon (start it)`,
      )
    }
    return { commit: commit === null ? null : commitInfo(commit) }
  } catch (err) {
    if ((err as Error).name === 'UnauthorizedError' && ctx.node !== undefined) {
      // Say how to get access: the writer's operator runs one command with this node's id.
      const me = ctx.node.peerId.toString()
      throw new ApiError(
        'unauthorized',
        `the writer of store ${handle.id} does not allow this node (${me}) to write it: on the writer, run \`dagsync store allow ${handle.id} ${me}\``,
        { cause: err },
      )
    }
    throw toApiError(err)
  }
}

export function put(ctx: LocalContext, { store, key, path, value }: PutRequest): Promise<WriteResult> {
  if (value === undefined) return Promise.reject(new ApiError('bad-request', 'a put needs a value'))
  const inPath = path !== undefined && path.length > 0
  return write(
    ctx,
    store,
    async (s, options) =>
      (await s.transact((tx) => (inPath ? tx.assocIn([key, ...path], value) : tx.assoc(key, value)), options)).commit,
    (f) => (inPath ? f.assocIn([key, ...path], value) : f.assoc(key, value)),
  )
}

export function putBytes(
  ctx: LocalContext,
  { store, key }: { store: string; key: string },
  bytes: AsyncIterable<Uint8Array>,
): Promise<WriteResult> {
  return write(
    ctx,
    store,
    async (s, options) => (await s.transact((tx) => tx.bassoc(key, bytes), options)).commit,
    async (f) => {
      const parts: Uint8Array[] = []
      let size = 0
      for await (const part of bytes) {
        size += part.length
        if (size > REMOTE_BYTES_LIMIT)
          throw new ApiError('bad-request', 'binary values written through another peer are limited to 1 MiB')
        parts.push(part)
      }
      return f.bassoc(key, concatBytes(parts))
    },
  )
}

export function del(ctx: LocalContext, { store, key }: { store: string; key: string }): Promise<WriteResult> {
  return write(
    ctx,
    store,
    async (s, options) => (await s.transact((tx) => tx.dissoc(key), options)).commit,
    (f) => f.dissoc(key),
  )
}

export function transact(
  ctx: LocalContext,
  { store, meta }: TransactRequest,
  ops: readonly WriteOp[] | CheckedOps,
): Promise<WriteResult> {
  const options = meta === undefined ? {} : { meta }
  return write(
    ctx,
    store,
    async (s) => (await s.transact(ops, options)).commit,
    async (f) => (await f.transact(ops, options)).commit,
  )
}

export async function stageBytes(
  ctx: LocalContext,
  { store }: { store: string },
  bytes: AsyncIterable<Uint8Array>,
): Promise<StagedBytesInfo> {
  const handle = await ctx.handle(store)
  if (handle.role !== 'writer')
    throw new ApiError(
      'conflict',
      `store ${handle.id} is written by another peer: bytes placed by reference must be in its writer's repo (send them in a put-bytes op instead)`,
    )
  try {
    return await stage(ctx.repo.storage, bytes)
  } catch (err) {
    throw toApiError(err)
  }
}
