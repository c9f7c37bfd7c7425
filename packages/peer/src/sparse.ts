import { blockKey } from '@dagsync/store'
import { BaseBlockstore } from 'blockstore-core'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'

/**
 * A sparse replica's blocks: those its reads fetched, in memory (bounded, oldest dropped first),
 * in front of the node's storage; a block in neither is fetched from the network on demand.
 * They never go to the node's storage, which only holds complete versions.
 */
export class SparseBlockstore extends BaseBlockstore {
  readonly #storage: Blockstore
  readonly #fetch: (cid: CID) => Promise<Uint8Array>
  readonly #cache = new Map<string, Uint8Array>()
  readonly #maxBytes: number
  #bytes = 0

  constructor(storage: Blockstore, fetch: (cid: CID) => Promise<Uint8Array>, maxBytes = 32 * 1024 * 1024) {
    super()
    this.#storage = storage
    this.#fetch = fetch
    this.#maxBytes = maxBytes
  }

  override put(cid: CID, bytes: Uint8Array): CID {
    this.#remember(cid, bytes)
    return cid
  }

  override async *get(cid: CID): AsyncGenerator<Uint8Array> {
    const cached = this.#cache.get(blockKey(cid))
    if (cached !== undefined) {
      yield cached
      return
    }
    if (await this.#storage.has(cid)) {
      yield* this.#storage.get(cid)
      return
    }
    const bytes = await this.#fetch(cid)
    this.#remember(cid, bytes)
    yield bytes
  }

  override async has(cid: CID): Promise<boolean> {
    return this.#cache.has(blockKey(cid)) || (await this.#storage.has(cid))
  }

  #remember(cid: CID, bytes: Uint8Array): void {
    const key = blockKey(cid)
    if (this.#cache.has(key)) return
    this.#cache.set(key, bytes)
    this.#bytes += bytes.length
    for (const [oldest, old] of this.#cache) {
      if (this.#bytes <= this.#maxBytes) break
      this.#cache.delete(oldest)
      this.#bytes -= old.length
    }
  }
}
