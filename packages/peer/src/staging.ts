import { blockKey } from '@dagsync/store'
import { BaseBlockstore } from 'blockstore-core'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'

/**
 * The blockstore helia (and so bitswap) works on. Reads come from the node's storage, so peers
 * can fetch every block it holds. Blocks fetched from the network land here, in memory, not in
 * storage: a sync writes a new version to storage only once all of it is fetched and verified,
 * in one batch, so storage only ever holds complete subtrees (which walks with `has` rely on).
 * Staged blocks past `maxBytes` are dropped, oldest first.
 */
export class StagingBlockstore extends BaseBlockstore {
  readonly #storage: Blockstore
  readonly #staged = new Map<string, Uint8Array>()
  readonly #maxBytes: number
  #bytes = 0

  constructor(storage: Blockstore, maxBytes = 64 * 1024 * 1024) {
    super()
    this.#storage = storage
    this.#maxBytes = maxBytes
  }

  override async put(cid: CID, bytes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<CID> {
    const block = bytes instanceof Uint8Array ? bytes : await collect(bytes)
    const key = blockKey(cid)
    if (!this.#staged.has(key)) {
      this.#staged.set(key, block)
      this.#bytes += block.length
      for (const [oldest, old] of this.#staged) {
        if (this.#bytes <= this.#maxBytes) break
        this.#staged.delete(oldest)
        this.#bytes -= old.length
      }
    }
    return cid
  }

  override async *get(cid: CID): AsyncGenerator<Uint8Array> {
    const staged = this.#staged.get(blockKey(cid))
    if (staged !== undefined) yield staged
    else yield* this.#storage.get(cid)
  }

  override async has(cid: CID): Promise<boolean> {
    return this.#staged.has(blockKey(cid)) || (await this.#storage.has(cid))
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
    for (const cid of cids) {
      const key = blockKey(cid)
      const staged = this.#staged.get(key)
      if (staged !== undefined) {
        this.#staged.delete(key)
        this.#bytes -= staged.length
      }
    }
  }
}

async function collect(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
