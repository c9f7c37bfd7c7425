// What one sync took from pushes and fast-path replies, within limits: a peer decides how much it
// sends, so the reader decides how much it keeps.

import type { CheckedNode } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import { ReceiveLimitError } from './errors.ts'

/**
 * How much one sync holds in memory from a push and fast-path replies, and takes in one reply,
 * before it refuses the rest. What it took up to a limit is still used as far as the commit
 * reaches it; a cold sync then writes the whole subtrees it took to storage and asks for the rest
 * in another round (see ReplicaSync), a catch-up takes the rest over bitswap.
 */
export interface ReceiveLimits {
  /**
   * Bytes of blocks held at once, as rebuilt (a delta of a few bytes can rebuild a 1 MiB block).
   * The benchmark's cold sync of 100,000 keys is 6.7 MiB of blocks: ten times that fits in one.
   * @default 67108864 (64 MiB)
   */
  readonly maxBytes: number
  /**
   * Messages (blocks and deltas, repeats included) of one reply. The same cold sync is about
   * 6,200 blocks; this also bounds what a liar's many tiny blocks cost beyond their bytes.
   * @default 131072
   */
  readonly maxBlocks: number
}

export const DEFAULT_RECEIVE_LIMITS: ReceiveLimits = { maxBytes: 64 * 1024 * 1024, maxBlocks: 128 * 1024 }

/** The blocks one sync received, by `cidKey` of the CID computed from their bytes. */
export class ReceivedBlocks {
  readonly limits: ReceiveLimits
  /** Every block received and not yet written to storage, with its links. */
  readonly blocks = new Map<string, ReceivedBlock>()
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
  /** Messages of this reply, and of the replies before it. */
  #messages = 0
  #earlierMessages = 0
  #wireBytes = 0

  constructor(limits: ReceiveLimits = DEFAULT_RECEIVE_LIMITS) {
    this.limits = limits
  }

  /** Bytes of the blocks kept. */
  get bytes(): number {
    return this.#bytes
  }

  /** Messages taken (blocks and deltas), repeats included, in every reply. */
  get messages(): number {
    return this.#messages + this.#earlierMessages
  }

  /** Bytes on the wire, for stats. */
  get wireBytes(): number {
    return this.#wireBytes
  }

  addWireBytes(n: number): void {
    this.#wireBytes += n
  }

  /** Counts one more message; throws ReceiveLimitError past `maxBlocks` in one reply. */
  countMessage(): void {
    if (this.#messages >= this.limits.maxBlocks) {
      throw new ReceiveLimitError(`more than ${this.limits.maxBlocks} blocks were sent in one reply`)
    }
    this.#messages++
  }

  /** Starts counting the messages of another reply (a later round of the same sync). */
  nextReply(): void {
    this.#earlierMessages += this.#messages
    this.#messages = 0
  }

  /** Keeps a block; throws ReceiveLimitError if a new one would go past `maxBytes`. */
  add(key: string, cid: CID, bytes: Uint8Array, links: readonly CID[]): void {
    if (!this.blocks.has(key)) {
      if (this.#bytes + bytes.length > this.limits.maxBytes) {
        throw new ReceiveLimitError(`more than ${this.limits.maxBytes} bytes of blocks were sent for one sync`)
      }
      this.#bytes += bytes.length
    }
    this.blocks.set(key, { cid, bytes, links })
  }

  /** Lets go of blocks written to storage: they no longer count against `maxBytes`. */
  release(keys: Iterable<string>): void {
    for (const key of keys) {
      const block = this.blocks.get(key)
      if (block === undefined) continue
      this.#bytes -= block.bytes.length
      this.blocks.delete(key)
      this.checked.delete(key)
    }
  }

  /** Drops everything (a push that did not check out), and with it what counted against the limits. */
  clear(): void {
    this.blocks.clear()
    this.present.clear()
    this.checked.clear()
    this.reachable.clear()
    this.#bytes = 0
    this.#messages = 0
    this.#earlierMessages = 0
  }
}

export interface ReceivedBlock {
  readonly cid: CID
  readonly bytes: Uint8Array
  /** The blocks it links to (for a commit: its tree and metadata). */
  readonly links: readonly CID[]
}
