// Pinning a DAG by its root CID: what is missing is fetched from peers and written only as
// whole DAGs, under the gc lock, then the pin is recorded.
import { blockKey, readBlock, WholeDagWriter, walkDag } from '@dagsync/store'
import type { CID } from 'multiformats/cid'
import { ApiError, type OnProgress, type PinAddResult } from '../api.ts'
import { plural } from '../plural.ts'
import type { LocalContext } from './context.ts'

/**
 * Pins a DAG: fetches what is missing from peers, 64 blocks at a time, writes each fetched
 * block once all it links to is stored (so a pin that fails part way leaves only whole DAGs),
 * then records the pin. It holds the gc lock (shared) from the first block read to the pin, so
 * a collection cannot sweep the blocks it has written before the pin keeps them.
 */
export function pinDag(
  ctx: LocalContext,
  root: CID,
  name: string | undefined,
  onProgress?: OnProgress,
): Promise<PinAddResult> {
  return ctx.repo.storage.gcLock.shared(() => fetchAndPin(ctx, root, name, onProgress))
}

async function fetchAndPin(
  ctx: LocalContext,
  root: CID,
  name: string | undefined,
  onProgress?: OnProgress,
): Promise<PinAddResult> {
  const storage = ctx.repo.storage
  const node = ctx.node
  const writer = new WholeDagWriter(storage)
  let blocks = 0
  let bytes = 0
  const fetched = new Set<string>()
  const missing: CID[] = []
  const walk = walkDag(
    async (cid) => {
      const local = await readBlock(storage.blockstore, cid)
      if (local !== undefined || node === undefined) return local
      try {
        const block = await node.getBlock(cid)
        fetched.add(blockKey(cid))
        return block
      } catch (err) {
        if (isUnavailable(err)) return undefined
        throw err
      }
    },
    [root],
    (cid, block) => {
      if (block === undefined) {
        missing.push(cid)
        return false
      }
      blocks++
      bytes += block.length
      onProgress?.({ blocks, bytes, phase: fetched.size > 0 ? 'fetching' : 'reading' })
      return true
    },
  )
  for await (const { cid, bytes: block, links } of walk) {
    if (!fetched.has(blockKey(cid))) continue
    await writer.add({ cid, bytes: block }, links)
    node?.forgetFetched([cid])
  }
  await writer.finish()
  if (missing.length > 0) {
    const where = node === undefined ? 'here, and the daemon is not running to fetch them' : 'here or from any peer'
    // Unavailable (exit 5), not "not found": the blocks may exist on a peer that is not connected now.
    throw new ApiError(
      'unavailable',
      `${plural(missing.length, 'block')} of ${root} ${missing.length === 1 ? 'is' : 'are'} not available ${where} (first: ${missing[0]}); nothing was pinned`,
    )
  }
  await storage.pin({ cid: root, ...(name === undefined ? {} : { name }), time: Date.now() })
  return {
    pin: { cid: root, type: 'recursive', ...(name === undefined ? {} : { name }) },
    blocks,
    bytes,
    fetched: fetched.size,
  }
}

/** Whether a fetch failed because no peer had the block in time (rather than something broken). */
function isUnavailable(err: unknown): boolean {
  const name = (err as Error).name
  return (
    name === 'BlockNotFoundError' || name === 'LoadBlockFailedError' || name === 'AbortError' || name === 'TimeoutError'
  )
}
