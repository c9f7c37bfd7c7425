// The HTTP path of a follower: while a followed store has no libp2p peer to sync from, its head
// comes from the gateways' IPNS records (checked as gossip is) and its blocks from the gateways
// one by one (each checked against its CID). The follower's own sync engine does the rest, as
// for bitswap: it fetches only what the replica lacks and the verified commit reaches, within the
// same limits, and moves the head only once every block is here. Loaded only when a node has
// gateways (a dynamic import), so a bundle can leave it out.
import type { Logger } from '@libp2p/logger'
import type { CID } from 'multiformats/cid'
import type { Follower } from '../follower.ts'
import { storePublicKey } from '../identity.ts'
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
  readonly log: Logger
}

export class HttpSync {
  readonly #init: HttpSyncInit
  readonly #client: GatewayClient
  readonly #stopping = new AbortController()
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

  /** Fetches the store's record now (if it is on the HTTP path) and offers what verifies. */
  async poll(follower: Follower): Promise<void> {
    if (!this.#init.offline(follower.topic)) return
    try {
      const signal = AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(this.#init.pollMs * 5)])
      follower.offer(await this.#client.announcement(storePublicKey(follower.id), follower.id, signal))
    } catch (err) {
      this.#init.log('no head of %s from the gateways: %s', follower.id, (err as Error).message)
    }
  }

  /** One block from the gateways, verified. */
  block(cid: CID, timeoutMs: number): Promise<Uint8Array> {
    return this.#client.block(cid, AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(timeoutMs)]))
  }
}
