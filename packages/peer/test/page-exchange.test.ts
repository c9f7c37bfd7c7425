// The page exchange's messages (page-exchange.ts): what a page may say there, and what is
// refused, so that no page can send others to dial anyone but itself; and how many pages a page dials.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { MAX_EXCHANGE_ADDRESSES, PAGE_EXCHANGE_TOPIC, readExchangeMessage } from '../src/index.ts'
import { PageExchange } from '../src/page-exchange.ts'
import { recordingLog } from './helpers.ts'

const senderKey = await generateKeyPair('Ed25519')
const sender = peerIdFromPrivateKey(senderKey)
const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const relay = '/ip4/127.0.0.1/tcp/4011/ws/p2p/12D3KooWLmzHRPcoBH1SvLcG1pzGNKBnMzjX2yV2j7VBrs7UyBYA'
const webrtcOf = (peer: string) => `${relay}/p2p-circuit/webrtc/p2p/${peer}`

function message(body: unknown, type: 'signed' | 'unsigned' = 'signed'): Message {
  const data = new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body))
  if (type === 'unsigned') return { type, topic: PAGE_EXCHANGE_TOPIC, data }
  return {
    type,
    from: sender,
    topic: PAGE_EXCHANGE_TOPIC,
    data,
    sequenceNumber: 1n,
    signature: new Uint8Array(64),
    key: senderKey.publicKey,
  }
}

describe('page exchange messages', () => {
  it("take the sender's own WebRTC addresses", () => {
    const addresses = readExchangeMessage(message({ a: [webrtcOf(sender.toString())] }))
    assert.deepEqual(addresses.map(String), [webrtcOf(sender.toString())])
  })

  it('refuse the addresses of another peer, non-WebRTC addresses, too many, unsigned messages and garbage', () => {
    const bad: [Message, RegExp][] = [
      [message({ a: [webrtcOf(other.toString())] }), /is not a WebRTC address of the sender/],
      [message({ a: [`${relay}/p2p-circuit/p2p/${sender}`] }), /is not a WebRTC address of the sender/],
      [message({ a: [`/ip4/127.0.0.1/tcp/1/ws/p2p/${sender}`] }), /is not a WebRTC address of the sender/],
      [
        message({ a: Array.from({ length: MAX_EXCHANGE_ADDRESSES + 1 }, () => webrtcOf(sender.toString())) }),
        /must be a list of 1 to 8 addresses/,
      ],
      [message({ a: [] }), /must be a list of 1 to 8 addresses/],
      [message({ a: ['/not/a/multiaddr'] }), /is not a multiaddr/],
      [message({ a: ['x'.repeat(600)] }), /at most 512 characters/],
      [message({ a: [webrtcOf(sender.toString())] }, 'unsigned'), /not signed/],
      [message('not json'), /JSON/],
      [message({ a: [webrtcOf(sender.toString())], pad: 'x'.repeat(9000) }), /over 8192 bytes/],
      [message(null), /must be a list/],
    ]
    for (const [m, message] of bad) assert.throws(() => readExchangeMessage(m), { name: 'ProtocolError', message })
  })

  it('make a page dial at most maxPeers pages, counting those it is connected to or dialing', async () => {
    // A stand-in for the page's libp2p: what PageExchange uses of it, with dials that hang.
    const pubsub = Object.assign(new EventTarget(), {
      topicValidators: new Map(),
      subscribe: () => {},
      publish: async () => ({ recipients: [] }),
    })
    const dialed: string[] = []
    const connected: { remotePeer: PeerId; remoteAddr: ReturnType<typeof multiaddr> }[] = []
    const libp2p = Object.assign(new EventTarget(), {
      peerId: other,
      services: { pubsub },
      getMultiaddrs: () => [],
      getConnections: (peer?: PeerId) =>
        peer === undefined ? connected : connected.filter((c) => c.remotePeer.equals(peer)),
      dial: (addresses: unknown[]) => {
        dialed.push(String(addresses[0]))
        return new Promise(() => {})
      },
    })
    const exchange = new PageExchange(libp2p as never, {
      role: 'join',
      maxPeers: 3,
      intervalMs: 60_000,
      log: recordingLog().log,
    })
    exchange.start()
    const pages = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const key = await generateKeyPair('Ed25519')
        return { key, id: peerIdFromPrivateKey(key) }
      }),
    )
    const hear = (page: (typeof pages)[number]) => {
      const detail = { ...message({ a: [webrtcOf(page.id.toString())] }), from: page.id, key: page.key.publicKey }
      pubsub.dispatchEvent(new CustomEvent('message', { detail }))
    }
    // One page already connected over WebRTC: two more dials, not three.
    connected.push({ remotePeer: pages[0]!.id, remoteAddr: multiaddr(webrtcOf(pages[0]!.id.toString())) })
    hear(pages[0]!)
    hear(pages[1]!)
    hear(pages[1]!) // heard again while dialing it: not dialed twice
    for (const page of pages.slice(2)) hear(page)
    await new Promise((resolve) => setImmediate(resolve))
    exchange.stop()
    assert.deepEqual(dialed, [webrtcOf(pages[1]!.id.toString()), webrtcOf(pages[2]!.id.toString())])
  })
})
