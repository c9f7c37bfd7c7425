// The `relay` setting on real libp2p nodes on loopback: a relaying daemon's node grants circuit
// relay v2 reservations up to `maxReservations` and refuses the next, each with the configured
// limits; with `enabled: false` it does not speak the relay protocol at all.
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

/** A protobuf message's fields: varints by field number, and length-delimited ones as bytes. */
function fields(bytes: Uint8Array): Map<number, number | Uint8Array> {
  const out = new Map<number, number | Uint8Array>()
  for (let at = 0; at < bytes.length; ) {
    const varint = () => {
      let value = 0
      for (let shift = 0; ; shift += 7) {
        const byte = bytes[at++] as number
        value += (byte & 0x7f) * 2 ** shift
        if (byte < 0x80) return value
      }
    }
    const tag = varint()
    const length = tag % 8 === 2 ? varint() : undefined
    out.set(Math.floor(tag / 8), length === undefined ? varint() : bytes.subarray(at, (at += length)))
  }
  return out
}

/**
 * Asks `relay` for a reservation, as a page's circuit relay transport does: a HopMessage
 * {type: RESERVE}. Answers with the reply's status (field 5) and the limit it grants (field 4:
 * duration, data in bytes).
 */
async function reserve(
  from: DagsyncNode,
  relay: DagsyncNode,
): Promise<{ status: unknown; limit?: { duration: unknown; data: unknown } }> {
  const stream = await from.libp2p.dialProtocol(relay.peerId, RELAY_V2_HOP_CODEC)
  const lp = lpStream(stream)
  await lp.write(Uint8Array.of(0x08, 0x00))
  const reply = fields((await lp.read()).subarray())
  await stream.close()
  const limit = reply.get(4)
  if (!(limit instanceof Uint8Array)) return { status: reply.get(5) }
  const granted = fields(limit)
  return { status: reply.get(5), limit: { duration: granted.get(1), data: granted.get(2) } }
}

describe('the relay setting', () => {
  it('grants maxReservations reservations and refuses the next', async () => {
    const relay = await start(relayInit({ ...DEFAULT_CONFIG.relay, maxReservations: 2 }))
    const pages = await Promise.all([1, 2, 3].map(() => start({ peers: relay.addresses })))
    for (const page of pages) await page.connected(relay.peerId.toString(), AbortSignal.timeout(10_000))
    assert.equal((await reserve(pages[0] as DagsyncNode, relay)).status, OK)
    assert.equal((await reserve(pages[1] as DagsyncNode, relay)).status, OK)
    assert.equal((await reserve(pages[2] as DagsyncNode, relay)).status, RESERVATION_REFUSED)
  })

  it('limits each relayed connection to durationLimitMs and dataLimitBytes', async () => {
    const relay = await start(relayInit({ ...DEFAULT_CONFIG.relay, durationLimitMs: 60_000, dataLimitBytes: 4096 }))
    const page = await start({ peers: relay.addresses })
    await page.connected(relay.peerId.toString(), AbortSignal.timeout(10_000))
    // js-libp2p's relay sends the duration in milliseconds (the spec says seconds), and times its
    // relayed connections out by it.
    assert.deepEqual(await reserve(page, relay), { status: OK, limit: { duration: 60_000, data: 4096 } })
  })

  it('is off with enabled: false: the relay protocol is not spoken', async () => {
    const daemon = await start(relayInit({ ...DEFAULT_CONFIG.relay, enabled: false }))
    const page = await start({ peers: daemon.addresses })
    await page.connected(daemon.peerId.toString(), AbortSignal.timeout(10_000))
    await assert.rejects(reserve(page, daemon), { name: 'UnsupportedProtocolError' })
  })
})
