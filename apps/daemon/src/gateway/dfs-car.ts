// The CAR a gateway streams for `/ipfs/<cid>?format=car`: CARv1, blocks in depth-first order,
// each once (`order=dfs; dups=n`), read from this repo only. `dag-scope=block` is the root
// alone; `all` is every block it reaches the way this repo keeps DAGs (`dagLinks`: a commit's
// tree and values, not the commits before it, which gc may have dropped).
import { blockKey, dagLinks, readBlock } from '@dagsync/store'
import { CarWriter } from '@ipld/car'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'

export type DagScope = 'all' | 'block'

/** A block the walk reached that this repo does not hold: the stream ends there, incomplete. */
export class MissingBlockError extends Error {
  override readonly name = 'MissingBlockError'
}

/** The blocks of the CAR, depth first (each block's links in order, before its later siblings). */
async function* depthFirst(blockstore: Blockstore, root: CID, rootBytes: Uint8Array, scope: DagScope) {
  yield { cid: root, bytes: rootBytes }
  if (scope === 'block') return
  const seen = new Set([blockKey(root)])
  // A stack of link lists, each consumed from the front: pre-order without recursion.
  const stack: CID[][] = [dagLinks(root, rootBytes, true)]
  while (stack.length > 0) {
    const links = stack[stack.length - 1] as CID[]
    const cid = links.shift()
    if (cid === undefined) {
      stack.pop()
      continue
    }
    const key = blockKey(cid)
    if (seen.has(key)) continue
    seen.add(key)
    const bytes = await readBlock(blockstore, cid)
    if (bytes === undefined) throw new MissingBlockError(`block ${cid} of ${root} is not in this repo`)
    yield { cid, bytes }
    stack.push(dagLinks(cid, bytes, false))
  }
}

/**
 * Streams the CAR. The caller has read the root (a missing root is a 404 before any byte is
 * sent); a block missing below it ends the stream early, as the specification says, and the
 * client finds the CAR incomplete.
 */
export function dfsCar(
  blockstore: Blockstore,
  root: CID,
  rootBytes: Uint8Array,
  scope: DagScope,
): ReadableStream<Uint8Array> {
  const { writer, out } = CarWriter.create([root])
  const producing = (async () => {
    try {
      for await (const block of depthFirst(blockstore, root, rootBytes, scope)) await writer.put(block)
    } finally {
      await writer.close()
    }
  })()
  // Awaited at the end of the stream; a client that hangs up before then must not make it unhandled.
  producing.catch(() => {})
  const chunks = out[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next()
      if (next.done === true) {
        try {
          await producing
          controller.close()
        } catch (err) {
          controller.error(err)
        }
        return
      }
      controller.enqueue(next.value)
    },
    async cancel() {
      await chunks.return?.()
    },
  })
}
