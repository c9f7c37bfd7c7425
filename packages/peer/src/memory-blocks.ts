// Blocks kept in memory by CID within a byte budget, oldest dropped first (staged and sparse blocks).
import { blockKey } from '@dagsync/store'
import type { CID } from 'multiformats/cid'

/** Blocks held in memory by CID up to a byte budget; past it, the oldest are dropped first. */
export class MemoryBlocks {
  readonly #blocks = new Map<string, Uint8Array>()
  readonly #maxBytes: number
  #bytes = 0

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  get(cid: CID): Uint8Array | undefined {
    return this.#blocks.get(blockKey(cid))
  }

  has(cid: CID): boolean {
    return this.#blocks.has(blockKey(cid))
  }

  /** Keeps a block (once: a block already held keeps its place in the order). */
  add(cid: CID, bytes: Uint8Array): void {
    const key = blockKey(cid)
    if (this.#blocks.has(key)) return
    this.#blocks.set(key, bytes)
    this.#bytes += bytes.length
    for (const [oldest, old] of this.#blocks) {
      if (this.#bytes <= this.#maxBytes) break
      this.#blocks.delete(oldest)
      this.#bytes -= old.length
    }
  }

  delete(cid: CID): void {
    const key = blockKey(cid)
    const bytes = this.#blocks.get(key)
    if (bytes === undefined) return
    this.#blocks.delete(key)
    this.#bytes -= bytes.length
  }
}
