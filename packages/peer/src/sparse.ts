import { BaseBlockstore } from 'blockstore-core'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { MemoryBlocks } from './memory-blocks.ts'

/**
 * A sparse replica's blocks: those its reads fetched, in memory (bounded, oldest dropped first),
 * in front of the node's storage; a block in neither is fetched from the network on demand.
 * They never go to the node's storage, which only holds complete versions.
 */
export class SparseBlockstore extends BaseBlockstore {
  readonly #storage: Blockstore
  readonly #fetch: (cid: CID) => Promise<Uint8Array>
  readonly #cache: MemoryBlocks

  constructor(storage: Blockstore, fetch: (cid: CID) => Promise<Uint8Array>, maxBytes = 32 * 1024 * 1024) {
    super()
    this.#storage = storage
    this.#fetch = fetch
    this.#cache = new MemoryBlocks(maxBytes)
  }

  override put(cid: CID, bytes: Uint8Array): CID {
    this.#cache.add(cid, bytes)
    return cid
  }

  override async *get(cid: CID): AsyncGenerator<Uint8Array> {
    const cached = this.#cache.get(cid)
    if (cached !== undefined) {
      yield cached
      return
    }
    if (await this.#storage.has(cid)) {
      yield* this.#storage.get(cid)
      return
    }
    const bytes = await this.#fetch(cid)
    this.#cache.add(cid, bytes)
    yield bytes
  }

  override async has(cid: CID): Promise<boolean> {
    return this.#cache.has(cid) || (await this.#storage.has(cid))
  }
}
