// The `relay` setting on real libp2p nodes on loopback: a relaying daemon's node grants circuit
// relay v2 reservations up to `maxReservations` and refuses the next; with `enabled: false` it
// does not speak the relay protocol at all.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { createDagsyncNode, type DagsyncNode } from '@dagsync/peer'
import { memoryStorage } from '@dagsync/store'
import { RELAY_V2_HOP_CODEC } from '@libp2p/circuit-relay-v2'
import { lpStream } from '@libp2p/utils'
import { DEFAULT_CONFIG } from '../src/config.ts'
import { relayInit } from '../src/relay.ts'

const nodes: DagsyncNode[] = []
after(() => Promise.all(nodes.map((n) => n.stop())))

async function start(init: Partial<Parameters<typeof createDagsyncNode>[0]> = {}): Promise<DagsyncNode> {
  const node = await createDagsyncNode({ storage: memoryStorage(), announceIntervalMs: 60_000, ...init })
  nodes.push(node)
  return node
}

/** HopMessage status codes (circuit relay v2's protobuf). */
const OK = 100
const RESERVATION_REFUSED = 200

/**
 * Asks `relay` for a reservation, as a page's circuit relay transport does: a HopMessage
 * {type: RESERVE}; answers with the reply's status (field 5).
 */
async function reserve(from: DagsyncNode, relay: DagsyncNode): Promise<number> {
  const stream = await from.libp2p.dialProtocol(relay.peerId, RELAY_V2_HOP_CODEC)
  const lp = lpStream(stream)
  await lp.write(Uint8Array.of(0x08, 0x00))
  const reply = (await lp.read()).subarray()
  await stream.close()
  // Fields before it are length-delimited (reservation, limit) or varints (type).
  for (let at = 0; at < reply.length; ) {
    const tag = reply[at++] as number
    let value = 0
    for (let shift = 0; ; shift += 7) {
      const byte = reply[at++] as number
      value |= (byte & 0x7f) << shift
      if (byte < 0x80) break
    }
    if (tag === 0x28) return value
    if ((tag & 7) === 2) at += value
  }
  throw new Error('the reply has no status')
}

describe('the relay setting', () => {
  it('grants maxReservations reservations and refuses the next', async () => {
    const relay = await start(relayInit({ ...DEFAULT_CONFIG.relay, maxReservations: 2 }))
    const pages = await Promise.all([1, 2, 3].map(() => start({ peers: relay.addresses })))
    for (const page of pages) await page.connected(relay.peerId.toString(), AbortSignal.timeout(10_000))
    assert.equal(await reserve(pages[0] as DagsyncNode, relay), OK)
    assert.equal(await reserve(pages[1] as DagsyncNode, relay), OK)
    assert.equal(await reserve(pages[2] as DagsyncNode, relay), RESERVATION_REFUSED)
  })

  it('is off with enabled: false: the relay protocol is not spoken', async () => {
    const daemon = await start(relayInit({ ...DEFAULT_CONFIG.relay, enabled: false }))
    const page = await start({ peers: daemon.addresses })
    await page.connected(daemon.peerId.toString(), AbortSignal.timeout(10_000))
    await assert.rejects(reserve(page, daemon), { name: 'UnsupportedProtocolError' })
  })
})
