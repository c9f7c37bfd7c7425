// What one sync took from pushes and fast-path replies, within limits: a peer decides how much it
// sends, so the reader decides how much it keeps.

import type { CheckedNode } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import { ReceiveLimitError } from './errors.ts'

/**
 * How much one sync takes from a push and fast-path replies before it refuses the rest. What it
 * took up to the limit is still used as far as the commit reaches it; the rest comes over bitswap.
 */
export interface ReceiveLimits {
  /**
   * Bytes of blocks kept, as rebuilt (a delta of a few bytes can rebuild a 1 MiB block). The
   * benchmark's cold sync of 100,000 keys is 6.7 MiB of blocks: ten times that fits.
   * @default 67108864 (64 MiB)
   */
  readonly maxBytes: number
  /**
   * Messages (blocks and deltas, repeats included). The same cold sync is about 6,200 blocks;
   * this also bounds what a liar's many tiny blocks cost beyond their bytes.
   * @default 131072
   */
  readonly maxBlocks: number
}

export const DEFAULT_RECEIVE_LIMITS: ReceiveLimits = { maxBytes: 64 * 1024 * 1024, maxBlocks: 128 * 1024 }

/** The blocks one sync received, by `cidKey` of the CID computed from their bytes. */
export class ReceivedBlocks {
  readonly limits: ReceiveLimits
  /** Every block received. */
  readonly blocks = new Map<string, { readonly cid: CID; readonly bytes: Uint8Array }>()
  /** Blocks storage holds: the links of the nodes deltas were built on. */
  readonly present = new Set<string>()
  /** Blocks that decoded and checked as tree nodes on arrival, for the walk to place. */
  readonly checked = new Map<string, CheckedNode>()
  /**
   * Blocks the commit reaches through the blocks received so far: the only ones taken. An
   * honest sender sends each block after one that links to it, so a block outside this set is
   * a lie, refused before it is kept.
   */
  readonly reachable = new Set<string>()
  #bytes = 0
  #messages = 0
  #wireBytes = 0

  constructor(limits: ReceiveLimits = DEFAULT_RECEIVE_LIMITS) {
    this.limits = limits
  }

  /** Bytes of the blocks kept. */
  get bytes(): number {
    return this.#bytes
  }

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

  /** Counts one more message; throws ReceiveLimitError past `maxBlocks`. */
  countMessage(): void {
    if (this.#messages >= this.limits.maxBlocks) {
      throw new ReceiveLimitError(`more than ${this.limits.maxBlocks} blocks were sent for one sync`)
    }
    this.#messages++
  }

  /** Keeps a block; throws ReceiveLimitError if a new one would go past `maxBytes`. */
  add(key: string, cid: CID, bytes: Uint8Array): void {
    if (!this.blocks.has(key)) {
      if (this.#bytes + bytes.length > this.limits.maxBytes) {
        throw new ReceiveLimitError(`more than ${this.limits.maxBytes} bytes of blocks were sent for one sync`)
      }
      this.#bytes += bytes.length
    }
    this.blocks.set(key, { cid, bytes })
  }

  /** Drops everything (a push that did not check out), and with it what counted against the limits. */
  clear(): void {
    this.blocks.clear()
    this.present.clear()
    this.checked.clear()
    this.reachable.clear()
    this.#bytes = 0
    this.#messages = 0
  }
}
