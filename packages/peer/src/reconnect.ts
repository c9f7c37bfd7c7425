// Keeps a node connected to configured peers. libp2p's own KEEP_ALIVE gives up after one failed
// WebSocket redial (a refused dial rejects with an ErrorEvent, not an Error, and the retry drops
// the tag), so a restarted daemon would never be dialled again. This loop dials each configured
// address until it connects, and again with backoff whenever that peer disconnects.
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Logger } from '@libp2p/logger'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'

export interface RedialOptions {
  /** First wait after a failed dial. @default 100 */
  initialDelayMs?: number
  /** Longest wait between dials. @default 5000 */
  maxDelayMs?: number
}

export class Redialer {
  readonly #libp2p: Libp2p
  readonly #log: Logger
  readonly #targets = new Map<string, Multiaddr>()
  readonly #initial: number
  readonly #max: number
  readonly #dialing = new Set<string>()
  #stopped = false

  constructor(libp2p: Libp2p, log: Logger, options: RedialOptions = {}) {
    this.#libp2p = libp2p
    this.#log = log
    this.#initial = options.initialDelayMs ?? 100
    this.#max = options.maxDelayMs ?? 5000
    libp2p.addEventListener('peer:disconnect', (event) => {
      const peer = event.detail.toString()
      if (this.#targets.has(peer)) void this.#keep(peer)
    })
  }

  /** Adds a peer to keep connected to; its address must end in /p2p/<peer id>. */
  add(address: string | Multiaddr): PeerId {
    const addr = typeof address === 'string' ? multiaddr(address) : address
    const peer = addr.getComponents().find((c) => c.name === 'p2p')?.value
    if (peer === undefined) throw new TypeError(`peer address ${addr} needs a /p2p/<peer id> part`)
    this.#targets.set(peer, addr)
    void this.#keep(peer)
    return (
      this.#libp2p.getConnections().find((c) => c.remotePeer.toString() === peer)?.remotePeer ??
      (peer as unknown as PeerId)
    )
  }

  remove(peer: string): void {
    this.#targets.delete(peer)
  }

  /** Resolves once connected to the peer (or the redialer stops). */
  async connected(peer: string, signal?: AbortSignal): Promise<void> {
    while (!this.#stopped && !this.#isConnected(peer)) {
      signal?.throwIfAborted()
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  stop(): void {
    this.#stopped = true
  }

  #isConnected(peer: string): boolean {
    return this.#libp2p.getConnections().some((c) => c.remotePeer.toString() === peer && c.status === 'open')
  }

  async #keep(peer: string): Promise<void> {
    if (this.#dialing.has(peer)) return
    this.#dialing.add(peer)
    try {
      let delay = this.#initial
      while (!this.#stopped && this.#targets.has(peer) && !this.#isConnected(peer)) {
        const addr = this.#targets.get(peer) as Multiaddr
        try {
          await this.#libp2p.dial(addr, { signal: AbortSignal.timeout(10_000) })
          this.#log('connected to %s', addr)
          return
        } catch (err) {
          // Refused WebSocket dials reject with an ErrorEvent: do not read .message from it.
          this.#log('dial %s failed (%s), again in %d ms', addr, (err as { name?: string })?.name ?? 'error', delay)
          await new Promise((resolve) => setTimeout(resolve, delay))
          delay = Math.min(delay * 2, this.#max)
        }
      }
    } finally {
      this.#dialing.delete(peer)
    }
  }
}
