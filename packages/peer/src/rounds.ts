// A sync larger than the reader's receive limits, in rounds: of what one reply brought, the whole
// subtrees are checked and written to storage (which only ever holds whole subtrees) and let go,
// and the next round asks for the blocks still missing below the rest.
import type { Store } from '@dagsync/store'
import { type Block, cidKey } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import { SyncFailedError } from './errors.ts'
import type { ReceivedBlocks } from './received.ts'
import { MAX_FRONTIER } from './sync.ts'

export interface Settled {
  /** Blocks written to storage. */
  readonly written: number
  /** Blocks still missing below what is held, to ask for next (at most MAX_FRONTIER). */
  readonly frontier: CID[]
}

/**
 * Writes to storage every whole subtree below the tree nodes `got` holds that are not whole
 * themselves, each walked and checked (levels, encoding, limits) as the sync's final walk would,
 * and lets go of their blocks. `held(cid)` says whether storage holds a block `got` does not;
 * `settled` gets the keys written, held from then on. Nothing reached from `commit` is written
 * before all below it is.
 */
export async function settleSubtrees(
  store: Store,
  got: ReceivedBlocks,
  commit: CID,
  held: (cid: CID) => boolean | Promise<boolean>,
  settled: Set<string>,
): Promise<Settled> {
  const whole = new Map<string, boolean>()
  const frontier: CID[] = []
  const isWhole = async (cid: CID): Promise<boolean> => {
    const key = cidKey(cid)
    const known = whole.get(key)
    if (known !== undefined) return known
    const block = got.blocks.get(key)
    if (block === undefined) {
      const stored = settled.has(key) || (await held(cid))
      if (!stored) frontier.push(cid)
      whole.set(key, stored)
      return stored
    }
    let all = true
    for (const link of block.links) if (!(await isWhole(link))) all = false
    whole.set(key, all)
    return all
  }
  if (await isWhole(commit)) return { written: 0, frontier: [] }

  const blocks: Block[] = []
  for (const [key, checked] of got.checked) {
    if (whole.get(key) !== false || checked.level === undefined) continue
    const { left, entries } = checked.node
    const children = [left, ...entries.map((entry) => entry.right)]
    for (const child of children) {
      if (child === null) continue
      const cid = child as CID
      const childKey = cidKey(cid)
      if (whole.get(childKey) !== true || !got.blocks.has(childKey)) continue
      for await (const block of store.tree.walk(cid, {
        level: checked.level - 1,
        has: (link) => settled.has(cidKey(link)) || (!got.blocks.has(cidKey(link)) && held(link)),
        getBlock: async (link) => {
          const sent = got.blocks.get(cidKey(link))
          if (sent === undefined) throw new SyncFailedError(`block ${link} of a whole subtree is not at hand`)
          return sent.bytes
        },
        checked: (link) => got.checked.get(cidKey(link)),
      })) {
        blocks.push(block)
      }
    }
  }
  if (blocks.length > 0) {
    await store.storage.commit(blocks, new Map())
    const keys = blocks.map((block) => cidKey(block.cid))
    for (const key of keys) settled.add(key)
    got.release(keys)
  }
  return { written: blocks.length, frontier: frontier.slice(0, MAX_FRONTIER) }
}
