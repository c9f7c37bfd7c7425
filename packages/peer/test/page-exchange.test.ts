// The page exchange's messages (page-exchange.ts): what a page may say there, and what is
// refused, so that no page can send others to dial anyone but itself.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Message } from '@libp2p/gossipsub'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MAX_EXCHANGE_ADDRESSES, PAGE_EXCHANGE_TOPIC, readExchangeMessage } from '../src/index.ts'

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
})
