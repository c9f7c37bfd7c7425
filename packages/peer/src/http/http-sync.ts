// The HTTP path of a follower: while a followed store has no libp2p peer to sync from, its head
// comes from the gateways' IPNS records (checked as gossip is) and its blocks from the gateways
// one by one (each checked against its CID). The follower's own sync engine does the rest, as
// for bitswap: it fetches only what the replica lacks and the verified commit reaches, within the
// same limits, and moves the head only once every block is here. Loaded only when a node has
// gateways (a dynamic import), so a bundle can leave it out.
import { cidKey } from '@dagsync/tree'
import type { Logger } from '@libp2p/logger'
import type { CID } from 'multiformats/cid'
import type { Follower } from '../follower.ts'
import { storePublicKey } from '../identity.ts'
import type { ReceiveLimits } from '../received.ts'
import { prefetchCar } from './car-prefetch.ts'
import { GatewayClient } from './gateway-client.ts'

export interface HttpSyncInit {
  /** Trustless gateway base URLs. */
  readonly gateways: readonly string[]
  /** The followers to keep up to date. */
  readonly followers: () => Iterable<Follower>
  /** Whether a store (by topic) has no libp2p peer to sync from now: then HTTP is its path. */
  readonly offline: (topic: string) => boolean
  /** How often each record is fetched while a store is on the HTTP path. */
  readonly pollMs: number
  /** How much a cold replica's CAR may bring (the fast path's limits). */
  readonly limits: ReceiveLimits
  readonly log: Logger
}

export class HttpSync {
  readonly #init: HttpSyncInit
  readonly #client: GatewayClient
  readonly #stopping = new AbortController()
  /** Stores whose record is being fetched (a slow CAR outlasts a poll interval). */
  readonly #polling = new Set<string>()
  /** Blocks a CAR brought, until the sync takes them. */
  #prefetched = new Map<string, Uint8Array>()
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(init: HttpSyncInit) {
    this.#init = init
    this.#client = new GatewayClient(init.gateways)
  }

  start(): void {
    this.#timer = setInterval(() => {
      for (const follower of this.#init.followers()) void this.poll(follower)
    }, this.#init.pollMs)
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#stopping.abort()
  }

  /**
   * Fetches the store's record now (if it is on the HTTP path) and offers what verifies; a
   * replica that holds nothing of the store gets the new head's DAG as one CAR first.
   */
  async poll(follower: Follower): Promise<void> {
    if (!this.#init.offline(follower.topic) || this.#polling.has(follower.id)) return
    this.#polling.add(follower.id)
    try {
      const signal = AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(this.#init.pollMs * 5)])
      const announcement = await this.#client.announcement(storePublicKey(follower.id), follower.id, signal)
      if (follower.head === null && !follower.sparse && announcement.seq > follower.knownSeq)
        await this.#prefetch(announcement.commit)
      follower.offer(announcement)
    } catch (err) {
      this.#init.log('no head of %s from the gateways: %s', follower.id, (err as Error).message)
    } finally {
      this.#polling.delete(follower.id)
    }
  }

  async #prefetch(commit: CID): Promise<void> {
    try {
      const signal = AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(this.#init.pollMs * 20)])
      const { blocks, cut } = await prefetchCar(await this.#client.car(commit, signal), commit, this.#init.limits)
      if (cut !== undefined) this.#init.log('the CAR of %s was cut (the rest comes block by block): %s', commit, cut)
      this.#prefetched = blocks
    } catch (err) {
      this.#init.log('no CAR of %s (its blocks come one by one): %s', commit, (err as Error).message)
    }
  }

  /** One block: from the CAR a cold sync fetched, else from the gateways; verified either way. */
  async block(cid: CID, timeoutMs: number): Promise<Uint8Array> {
    const key = cidKey(cid)
    const prefetched = this.#prefetched.get(key)
    if (prefetched !== undefined) {
      this.#prefetched.delete(key)
      return prefetched
    }
    return this.#client.block(cid, AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(timeoutMs)]))
  }
}
