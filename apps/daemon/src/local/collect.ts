// Keeping the repo sound: verifying every pinned DAG and head, and collecting garbage.
import { checkDag, collectGarbage } from '@dagsync/store'
import type { CID } from 'multiformats/cid'
import { ApiError, type GcReport, type GcRequest, type OnProgress, type VerifyResult } from '../api.ts'
import { toApiError } from '../convert.ts'
import type { LocalContext } from './context.ts'

export async function pinVerify(ctx: LocalContext, onProgress?: OnProgress): Promise<VerifyResult> {
  const storage = ctx.repo.storage
  const roots: { cid: CID; name?: string }[] = []
  for await (const pin of storage.pins())
    roots.push({ cid: pin.cid, ...(pin.name === undefined ? {} : { name: pin.name }) })
  const names = new Map([...(await ctx.repo.names())].map(([name, id]) => [id, name]))
  for (const [store, head] of await storage.heads()) roots.push({ cid: head, name: names.get(store) ?? store })
  let blocks = 0
  let bytes = 0
  const results: VerifyResult['roots'][number][] = []
  for (const root of roots) {
    const check = await checkDag(storage.blockstore, [root.cid], (p) =>
      onProgress?.({ blocks: blocks + p.blocks, bytes: bytes + p.bytes, phase: 'verifying' }),
    )
    blocks += check.blocks
    bytes += check.bytes
    results.push({ ...root, blocks: check.blocks, missing: check.missing, corrupt: check.corrupt })
  }
  const problems = await ctx.repo.checkStores()
  const intact = results.every((r) => r.missing.length === 0 && r.corrupt.length === 0)
  return { roots: results, blocks, bytes, problems, ok: intact && problems.length === 0 }
}

export async function gc(ctx: LocalContext, request: GcRequest, onProgress?: OnProgress): Promise<GcReport> {
  const keep: { last?: number; since?: number } = {}
  if (request.keepLast !== undefined) {
    if (!Number.isInteger(request.keepLast) || request.keepLast < 1)
      throw new ApiError('bad-request', 'keepLast must be a whole number of at least 1')
    keep.last = request.keepLast
  }
  if (request.keepSince !== undefined) keep.since = request.keepSince
  onProgress?.({ blocks: 0, bytes: 0, phase: 'collecting' })
  try {
    return await collectGarbage(ctx.repo.storage, Object.keys(keep).length === 0 ? {} : { keep })
  } catch (err) {
    if ((err as Error).name === 'GcAbortedError')
      throw new ApiError(
        'internal',
        `${(err as Error).message} (\`dagsync pin verify\` lists what is missing or corrupt)`,
        {
          cause: err,
        },
      )
    throw toApiError(err)
  }
}
