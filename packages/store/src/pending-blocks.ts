// The blocks of commits not yet durable, in front of storage, so reads see them before storage
// holds them.
import type { Block } from '@dagsync/tree'
import { BaseBlockstore } from 'blockstore-core'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { blockKey } from './storage.ts'

/**
 * The blocks of commits not yet durable, in front of storage: the tree writes here, and reads
 * see pending blocks first. `seal` closes the current group's blocks for one storage commit;
 * they stay readable until `release`, once that commit is done.
 */
export class PendingBlocks extends BaseBlockstore {
  readonly #base: Blockstore
  readonly #pending = new Map<string, Block>()
  #order: string[] = []

  constructor(base: Blockstore) {
    super()
    this.#base = base
  }

  override put(cid: CID, bytes: Uint8Array): CID {
    this.add({ cid, bytes })
    return cid
  }

  add(block: Block): void {
    const key = blockKey(block.cid)
    if (!this.#pending.has(key)) {
      this.#pending.set(key, block)
      this.#order.push(key)
    }
  }

  override async *get(cid: CID): AsyncGenerator<Uint8Array> {
    const block = this.#pending.get(blockKey(cid))
    if (block !== undefined) yield block.bytes
    else yield* this.#base.get(cid)
  }

  override async has(cid: CID): Promise<boolean> {
    return this.#pending.has(blockKey(cid)) || (await this.#base.has(cid))
  }

  mark(): number {
    return this.#order.length
  }

  /** Drops the blocks put since `mark` (a failed transaction's). */
  rollback(mark: number): void {
    for (const key of this.#order.splice(mark)) this.#pending.delete(key)
  }

  /** The current group's blocks, in the order they were put; later puts start a new group. */
  seal(): Block[] {
    const blocks = this.#order.map((key) => this.#pending.get(key) as Block)
    this.#order = []
    return blocks
  }

  /** Forgets blocks that storage now holds (or that will never be written). */
  release(blocks: readonly Block[]): void {
    for (const block of blocks) this.#pending.delete(blockKey(block.cid))
  }
}
