// Writing DAGs that arrive in pieces (a CAR, a pin's fetches) so that storage keeps holding only
// whole DAGs: a sync skips any subtree whose root is stored, so a stored block whose links are
// not would let a reader adopt a head it cannot read.
import { type Block, isInlineCid } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import { blockKey, type Storage } from './storage.ts'

export interface WholeDagWriterOptions {
  /** Blocks per storage commit. @default 256 */
  batchSize?: number
}

/**
 * Takes blocks in any order and writes each only once every block it links to is stored or
 * written before it; until then it waits in memory. Blocks whose DAG never completes are left
 * out and reported by `finish`. The caller holds the storage's gc lock (shared) throughout, so
 * what it found stored stays there.
 */
export class WholeDagWriter {
  readonly #storage: Storage
  readonly #batchSize: number
  /** Blocks written or queued to be, by `blockKey`. */
  readonly #whole = new Set<string>()
  readonly #waiting = new Map<string, { block: Block; missing: number }>()
  /** For each block not yet here: the waiting blocks that link to it. */
  readonly #waiters = new Map<string, string[]>()
  #batch: Block[] = []
  #written = 0

  constructor(storage: Storage, options: WholeDagWriterOptions = {}) {
    this.#storage = storage
    this.#batchSize = options.batchSize ?? 256
  }

  /** Blocks written so far. */
  get written(): number {
    return this.#written
  }

  /** Takes a block with its links (see `dagLinks`); writes it, and what waited on it, once whole. */
  async add(block: Block, links: readonly CID[]): Promise<void> {
    const key = blockKey(block.cid)
    if (this.#whole.has(key) || this.#waiting.has(key)) return
    const unknown = new Map<string, CID>()
    for (const link of links) {
      const linkKey = blockKey(link)
      if (!isInlineCid(link) && !this.#whole.has(linkKey)) unknown.set(linkKey, link)
    }
    const stored = await Promise.all([...unknown.values()].map((cid) => this.#storage.blockstore.has(cid)))
    let missing = 0
    let i = 0
    for (const linkKey of unknown.keys()) {
      if (!stored[i++] && !this.#whole.has(linkKey)) {
        missing++
        this.#waiters.set(linkKey, [...(this.#waiters.get(linkKey) ?? []), key])
      }
    }
    if (missing > 0) this.#waiting.set(key, { block, missing })
    else await this.#complete(block)
  }

  /** Writes what is queued; returns the blocks left out because their DAG is not whole. */
  async finish(): Promise<CID[]> {
    await this.#flush()
    return [...this.#waiting.values()].map(({ block }) => block.cid)
  }

  async #complete(block: Block): Promise<void> {
    const stack = [block]
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      const key = blockKey(next.cid)
      this.#whole.add(key)
      this.#batch.push(next)
      for (const parent of this.#waiters.get(key) ?? []) {
        const waiting = this.#waiting.get(parent)
        if (waiting !== undefined && --waiting.missing === 0) {
          this.#waiting.delete(parent)
          stack.push(waiting.block)
        }
      }
      this.#waiters.delete(key)
    }
    if (this.#batch.length >= this.#batchSize) await this.#flush()
  }

  /** Batches go out in order, children before parents, so each write leaves whole DAGs. */
  async #flush(): Promise<void> {
    if (this.#batch.length === 0) return
    const batch = this.#batch
    this.#batch = []
    await this.#storage.commit(batch, new Map())
    this.#written += batch.length
  }
}
