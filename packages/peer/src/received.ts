// What one sync took from pushes and fast-path replies.

import type { CheckedNode } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'

/** The blocks one sync received, by `cidKey` of the CID computed from their bytes. */
export class ReceivedBlocks {
  /** Every block received. */
  readonly blocks = new Map<string, { readonly cid: CID; readonly bytes: Uint8Array }>()
  /** Blocks storage holds: the links of the nodes deltas were built on. */
  readonly present = new Set<string>()
  /** Blocks that decoded and checked as tree nodes on arrival, for the walk to place. */
  readonly checked = new Map<string, CheckedNode>()
  #messages = 0
  #wireBytes = 0

  /** Messages taken (blocks and deltas), repeats included. */
  get messages(): number {
    return this.#messages
  }

  /** Bytes on the wire, for stats. */
  get wireBytes(): number {
    return this.#wireBytes
  }

  addWireBytes(n: number): void {
    this.#wireBytes += n
  }

  countMessage(): void {
    this.#messages++
  }

  add(key: string, cid: CID, bytes: Uint8Array): void {
    this.blocks.set(key, { cid, bytes })
  }

  /** Drops everything (a push that did not check out). */
  clear(): void {
    this.blocks.clear()
    this.present.clear()
    this.checked.clear()
  }
}
