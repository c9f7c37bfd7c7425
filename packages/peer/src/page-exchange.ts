// The page exchange: how pages that share a relaying daemon find each other, to connect over
// WebRTC. A page says its WebRTC addresses (`/…/p2p/<relay>/p2p-circuit/webrtc/p2p/<page>`) on
// one gossipsub topic when they change, when a peer joins the topic and every interval; the
// relaying daemon is subscribed to the topic, so the message reaches every page connected to it;
// a page that hears of another dials it (up to a cap). Messages are signed by the sender's peer
// key (StrictSign), and one naming addresses of any peer but its sender is refused, and so not
// forwarded: a page cannot send others to dial a third party.
import { type GossipSub, type Message, TopicValidatorResult } from '@libp2p/gossipsub'
import type { Libp2p } from '@libp2p/interface'
import type { Logger } from '@libp2p/logger'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { ProtocolError } from './errors.ts'

export const PAGE_EXCHANGE_TOPIC = '/dagsync/pages/1'
/** A page rarely has more than a few relays; more addresses than this in one message are refused. */
export const MAX_EXCHANGE_ADDRESSES = 8
const MAX_ADDRESS_LENGTH = 512
/** Eight addresses of 512 characters and the JSON around them fit; a bigger message is not parsed. */
export const MAX_EXCHANGE_BYTES = 8 * 1024

export interface PageExchangeInit {
  /** `'forward'`: pass messages on only; `'join'`: also say this node's addresses and dial others. */
  role: 'forward' | 'join'
  /** Dial at most this many pages. */
  maxPeers: number
  /** Say this node's addresses again this often. */
  intervalMs: number
  log: Logger
}

/** Whether an address is a WebRTC one through a relay, of `peer`. */
function isWebRtcOf(address: Multiaddr, peer: string): boolean {
  const names = address.getComponents().map((c) => c.name)
  return (
    names.includes('p2p-circuit') &&
    names.includes('webrtc') &&
    address.getComponents().at(-1)?.name === 'p2p' &&
    address.getComponents().at(-1)?.value === peer
  )
}

/**
 * The addresses a message names, all of them WebRTC addresses of its sender; throws otherwise.
 * Message: UTF-8 JSON `{"a": [multiaddr, …]}`.
 */
export function readExchangeMessage(message: Message): Multiaddr[] {
  if (message.type !== 'signed') throw new ProtocolError('the message is not signed')
  if (message.data.length > MAX_EXCHANGE_BYTES)
    throw new ProtocolError(`the message is over ${MAX_EXCHANGE_BYTES} bytes`)
  const from = message.from.toString()
  let body: unknown
  try {
    body = JSON.parse(new TextDecoder().decode(message.data))
  } catch (err) {
    throw new ProtocolError(`the message is not JSON: ${(err as Error).message}`)
  }
  const list = (body as { a?: unknown } | null)?.a
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_EXCHANGE_ADDRESSES)
    throw new ProtocolError(`"a" must be a list of 1 to ${MAX_EXCHANGE_ADDRESSES} addresses`)
  return list.map((item) => {
    if (typeof item !== 'string' || item.length > MAX_ADDRESS_LENGTH)
      throw new ProtocolError('an address must be a string of at most 512 characters')
    let address: Multiaddr
    try {
      address = multiaddr(item)
    } catch {
      throw new ProtocolError(`${item} is not a multiaddr`)
    }
    if (!isWebRtcOf(address, from)) throw new ProtocolError(`${item} is not a WebRTC address of the sender ${from}`)
    return address
  })
}

export class PageExchange {
  readonly #libp2p: Libp2p<{ pubsub: GossipSub }>
  readonly #init: PageExchangeInit
  readonly #dialing = new Set<string>()
  #timer: ReturnType<typeof setInterval> | undefined
  #saying = false

  constructor(libp2p: Libp2p<{ pubsub: GossipSub }>, init: PageExchangeInit) {
    this.#libp2p = libp2p
    this.#init = init
  }

  start(): void {
    const pubsub = this.#libp2p.services.pubsub
    pubsub.topicValidators.set(PAGE_EXCHANGE_TOPIC, (source, message) => {
      try {
        readExchangeMessage(message)
        return TopicValidatorResult.Accept
      } catch (err) {
        this.#init.log('refused a page exchange message from %p: %s', source, (err as Error).message)
        return TopicValidatorResult.Reject
      }
    })
    pubsub.subscribe(PAGE_EXCHANGE_TOPIC)
    if (this.#init.role === 'forward') return
    pubsub.addEventListener('message', (event) => {
      if (event.detail.topic === PAGE_EXCHANGE_TOPIC) void this.#heard(event.detail)
    })
    pubsub.addEventListener('subscription-change', (event) => {
      if (event.detail.subscriptions.some((s) => s.topic === PAGE_EXCHANGE_TOPIC && s.subscribe)) void this.#say()
    })
    this.#libp2p.addEventListener('self:peer:update', () => void this.#say())
    this.#timer = setInterval(() => void this.#say(), this.#init.intervalMs)
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  /** This node's WebRTC addresses (there are some once a relay holds a reservation for it). */
  #addresses(): string[] {
    const self = this.#libp2p.peerId.toString()
    return this.#libp2p
      .getMultiaddrs()
      .filter((a) => isWebRtcOf(a, self))
      .slice(0, MAX_EXCHANGE_ADDRESSES)
      .map(String)
  }

  /**
   * Publishes this node's WebRTC addresses, again on the next turns while nobody receives them
   * (a subscription is seen before gossipsub counts the peer among the topic's).
   */
  async #say(): Promise<void> {
    if (this.#saying) return
    this.#saying = true
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, attempt * 100))
        const addresses = this.#addresses()
        if (addresses.length === 0) return
        const data = new TextEncoder().encode(JSON.stringify({ a: addresses }))
        const result = await this.#libp2p.services.pubsub.publish(PAGE_EXCHANGE_TOPIC, data).catch(() => undefined)
        if (result !== undefined && result.recipients.length > 0) return
      }
    } finally {
      this.#saying = false
    }
  }

  /** Dials a page heard of, unless connected to it already or to as many pages as allowed. */
  async #heard(message: Message): Promise<void> {
    if (message.type !== 'signed') return
    const peer = message.from.toString()
    if (this.#dialing.has(peer) || this.#libp2p.getConnections(message.from).length > 0) return
    const pages = new Set(
      this.#libp2p
        .getConnections()
        .filter((c) => c.remoteAddr.getComponents().some((p) => p.name === 'webrtc'))
        .map((c) => c.remotePeer.toString()),
    )
    if (pages.size + this.#dialing.size >= this.#init.maxPeers) return
    this.#dialing.add(peer)
    try {
      await this.#libp2p.dial(readExchangeMessage(message), { signal: AbortSignal.timeout(20_000) })
      this.#init.log('connected to page %s over WebRTC', peer)
    } catch (err) {
      this.#init.log('could not dial page %s: %s', peer, (err as { name?: string })?.name ?? 'error')
    } finally {
      this.#dialing.delete(peer)
    }
  }
}
