// A sparse replica's blocks: the ones its reads fetched, kept in memory in front of the node's
// storage, and fetched from the network on demand.

import { BlockNotFoundError } from '@dagsync/tree'
import { BaseBlockstore } from 'blockstore-core'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { NotAvailableOfflineError } from './errors.ts'
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

/**
 * A sparse replica's blocks: memory first, then the node's storage, then the network, with a
 * timeout. What is not available anywhere fails with NotAvailableOfflineError.
 */
export function sparseFetcher(
  fetch: (cid: CID, timeoutMs: number) => Promise<Uint8Array>,
  timeoutMs: number,
): (cid: CID) => Promise<Uint8Array> {
  return async (cid) => {
    try {
      return await fetch(cid, timeoutMs)
    } catch (err) {
      if (
        err instanceof BlockNotFoundError ||
        (err as Error).name === 'LoadBlockFailedError' ||
        (err as Error).name === 'AbortError'
      ) {
        throw new NotAvailableOfflineError(
          `block ${cid} is not available: no connected peer provided it within ${timeoutMs} ms`,
          { cause: err },
        )
      }
      throw err
    }
  }
}
