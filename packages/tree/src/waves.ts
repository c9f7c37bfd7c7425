// The wave-by-wave walk every DAG walk shares (the tree's walk.ts, the store's dag.ts): each
// wave's new blocks are read many at a time, and the links they hold make the next wave, so a
// walk reading from the network keeps many requests in flight.
import type { CID } from 'multiformats/cid'
import { isInlineCid } from './hash.ts'

export interface WaveWalk<T, B, R> {
  /** The block an item names. */
  readonly cid: (item: T) => CID
  /** A block's identity for "seen already" (its CID's bytes, or its multihash's). */
  readonly key: (cid: CID) => string
  /** Blocks seen already: neither read nor followed again (shared between walks if given). */
  readonly seen?: Set<string>
  /** Blocks read at once. @default 64 */
  readonly concurrency?: number
  /** Narrows a wave's new items to those to read (e.g. to those not held already). @default all */
  readonly select?: (items: T[]) => T[] | Promise<T[]>
  readonly read: (item: T) => Promise<B>
  /**
   * What to yield for an item read (undefined: nothing), after pushing the items its links
   * lead to onto `next`.
   */
  readonly expand: (item: T, bytes: B, next: T[]) => R | undefined
}

export async function* walkWaves<T, B, R>(start: readonly T[], walk: WaveWalk<T, B, R>): AsyncGenerator<R> {
  const { cid, key, seen = new Set<string>(), concurrency = 64, select, read, expand } = walk
  let wave = [...start]
  while (wave.length > 0) {
    const fresh = wave.filter((item) => {
      // Identity CIDs carry their bytes inline: nothing to read or keep.
      if (isInlineCid(cid(item))) return false
      const id = key(cid(item))
      if (seen.has(id)) return false
      seen.add(id)
      return true
    })
    const wanted = select === undefined ? fresh : await select(fresh)
    const next: T[] = []
    for (let i = 0; i < wanted.length; i += concurrency) {
      const batch = wanted.slice(i, i + concurrency)
      const blocks = await Promise.all(batch.map(read))
      for (let j = 0; j < batch.length; j++) {
        const out = expand(batch[j], blocks[j], next)
        if (out !== undefined) yield out
      }
    }
    wave = next
  }
}
