// The blockstore helia and bitswap work on: the node's storage for reads, memory for what arrives.
import { collectBytes } from '@dagsync/tree'
import { BaseBlockstore } from 'blockstore-core'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { MemoryBlocks } from './memory-blocks.ts'

/**
 * The blockstore helia (and so bitswap) works on. Reads come from the node's storage, so peers
 * can fetch every block it holds. Blocks fetched from the network land here, in memory, not in
 * storage: a sync writes a new version to storage only once all of it is fetched and verified,
 * in one batch, so storage only ever holds complete subtrees (which walks with `has` rely on).
 * Staged blocks past `maxBytes` are dropped, oldest first.
 */
export class StagingBlockstore extends BaseBlockstore {
  readonly #storage: Blockstore
  readonly #staged: MemoryBlocks

  constructor(storage: Blockstore, maxBytes = 64 * 1024 * 1024) {
    super()
    this.#storage = storage
    this.#staged = new MemoryBlocks(maxBytes)
  }

  override async put(cid: CID, bytes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<CID> {
    this.#staged.add(cid, await collectBytes(bytes))
    return cid
  }

  override async *get(cid: CID): AsyncGenerator<Uint8Array> {
    const staged = this.#staged.get(cid)
    if (staged !== undefined) yield staged
    else yield* this.#storage.get(cid)
  }

  override async has(cid: CID): Promise<boolean> {
    return this.#staged.has(cid) || (await this.#storage.has(cid))
  }

  /** Forgets a staged block (storage is untouched: garbage collection owns that). */
  override async delete(cid: CID): Promise<void> {
    this.forget([cid])
  }

  override getAll(): ReturnType<Blockstore['getAll']> {
    return this.#storage.getAll()
  }

  /** Drops staged blocks, e.g. once a sync has written them to storage. */
  forget(cids: Iterable<CID>): void {
    for (const cid of cids) this.#staged.delete(cid)
  }
}
