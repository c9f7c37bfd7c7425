// A page's node with WebRTC on (the default) and off: what it offers other peers. Run in Node,
// whose libp2p builds the same transports; test/browser-webrtc.test.ts runs them in Chromium.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { memoryStorage } from '@dagsync/store'
import { startNodeOn } from '../src/page-node.ts'

const SIGNALLING = '/webrtc-signaling/0.0.1'
const RELAY_STOP = '/libp2p/circuit/relay/0.2.0/stop'

async function protocolsOf(init: Parameters<typeof startNodeOn>[1]): Promise<string[]> {
  const node = await startNodeOn(memoryStorage(), init)
  try {
    return node.libp2p.getProtocols()
  } finally {
    await node.stop()
  }
}

describe('a page node', () => {
  it('takes relayed WebRTC set-ups by default', async () => {
    const protocols = await protocolsOf({ peers: [] })
    assert.ok(protocols.includes(SIGNALLING) && protocols.includes(RELAY_STOP), protocols.join(' '))
  })

  it('with webrtc: false, takes neither relayed connections nor WebRTC set-ups', async () => {
    const protocols = await protocolsOf({ peers: [], webrtc: false })
    assert.ok(!protocols.includes(SIGNALLING) && !protocols.includes(RELAY_STOP), protocols.join(' '))
  })
})
