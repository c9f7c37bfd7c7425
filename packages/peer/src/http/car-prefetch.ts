// A cold replica's first sync over HTTP: the head's whole DAG as one CAR from a gateway, rather
// than a request per block. Each block is checked as a fast-path reply's is: hashed against its
// CID, and kept only if the commit reaches it through blocks kept before it (an honest CAR, depth
// first, sends each block after one that links to it), within the receive limits. The CAR is cut
// at the first block that fails; what it did not bring is then fetched block by block.
import { dagLinks } from '@dagsync/store'
import { cidKey, verifyBlock } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import type { ReceiveLimits } from '../received.ts'

export interface Prefetched {
  /** The blocks kept, by `cidKey`. */
  readonly blocks: Map<string, Uint8Array>
  /** Why the CAR was cut, if it was. */
  readonly cut?: string
}

/** Takes what `car` holds of `commit`'s DAG (see above). */
export async function prefetchCar(
  car: AsyncIterable<{ cid: CID; bytes: Uint8Array }>,
  commit: CID,
  limits: ReceiveLimits,
): Promise<Prefetched> {
  const blocks = new Map<string, Uint8Array>()
  const reachable = new Set([cidKey(commit)])
  let bytes = 0
  let count = 0
  try {
    for await (const block of car) {
      const key = cidKey(block.cid)
      if (!reachable.has(key)) return { blocks, cut: `block ${block.cid} is not reached by the blocks before it` }
      if (++count > limits.maxBlocks) return { blocks, cut: `more than ${limits.maxBlocks} blocks` }
      if (blocks.has(key)) continue
      if (bytes + block.bytes.length > limits.maxBytes) return { blocks, cut: `more than ${limits.maxBytes} bytes` }
      verifyBlock(block.cid, block.bytes)
      blocks.set(key, block.bytes)
      bytes += block.bytes.length
      for (const link of dagLinks(block.cid, block.bytes, block.cid.equals(commit))) reachable.add(cidKey(link))
    }
  } catch (err) {
    return { blocks, cut: (err as Error).message }
  }
  return { blocks }
}
