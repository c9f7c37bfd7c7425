// The Delegated Routing V1 HTTP API (https://specs.ipfs.tech/routing/http-routing-v1/), GET only,
// under /routing/v1/: browsers cannot run a DHT, so they ask a daemon who provides a commit and
// what a store's latest record is. It answers for what the daemon holds, then for what its DHT
// finds. Everything it tells is public (records are signed, addresses are announced), so any web
// origin may ask (CORS) and no token is needed.
import { type DagsyncNode, storeIdOf, storePublicKey } from '@dagsync/peer'
import type { PeerInfo } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Hono } from 'hono'
import { multihashToIPNSRoutingKey } from 'ipns'
import { CID } from 'multiformats/cid'

export interface RoutingApiInit {
  readonly node: DagsyncNode
  /** How long one answer may spend asking the DHT. @default 5_000 */
  readonly dhtTimeoutMs?: number
  /** At most this many providers or peers in one answer (the spec's recommendation). @default 20 */
  readonly maxResults?: number
}

const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, OPTIONS' }

interface PeerRecord {
  Schema: 'peer'
  ID: string
  Addrs: string[]
  Protocols: string[]
}

function peerRecord(info: PeerInfo): PeerRecord {
  return {
    Schema: 'peer',
    ID: info.id.toString(),
    // The spec's addresses do not name the peer: that is ID.
    Addrs: info.multiaddrs.map((a) => a.decapsulateCode(421).toString()),
    Protocols: ['transport-bitswap'],
  }
}

function unprocessable(what: string): Response {
  return new Response(`${what}\n`, { status: 422, headers: { ...CORS, 'content-type': 'text/plain' } })
}

/** Adds the routes to `app`; mount it before any middleware that refuses other origins. */
export function mountRoutingApi(app: Hono, init: RoutingApiInit): void {
  const { node } = init
  const libp2p = node.helia.libp2p
  const max = init.maxResults ?? 20
  const dhtSignal = () => AbortSignal.timeout(init.dhtTimeoutMs ?? 5_000)
  const self = (): PeerInfo => ({ id: libp2p.peerId, multiaddrs: libp2p.getMultiaddrs() })

  app.options('/routing/v1/*', () => new Response(null, { status: 204, headers: CORS }))

  app.get('/routing/v1/providers/:cid', async (c) => {
    let cid: CID
    try {
      cid = CID.parse(c.req.param('cid'))
    } catch {
      return unprocessable(`"${c.req.param('cid')}" is not a CID`)
    }
    const found: PeerRecord[] = []
    if (await node.storage.blockstore.has(cid)) found.push(peerRecord(self()))
    try {
      for await (const info of libp2p.contentRouting.findProviders(cid, { signal: dhtSignal() })) {
        if (found.length >= max) break
        if (!found.some((p) => p.ID === info.id.toString())) found.push(peerRecord(info))
      }
    } catch {
      // no DHT, or it found no more within the time: answer with what was found
    }
    return c.json({ Providers: found }, 200, CORS)
  })

  app.get('/routing/v1/ipns/:name', async (c) => {
    let id: string
    try {
      id = storeIdOf(storePublicKey(c.req.param('name')))
    } catch {
      return unprocessable(`"${c.req.param('name')}" is not the IPNS name of an Ed25519 key`)
    }
    let record = (node.served(id)?.announcement ?? node.followed(id)?.announcement)?.bytes
    if (record === undefined) {
      const key = multihashToIPNSRoutingKey(storePublicKey(id).toMultihash())
      record = await libp2p.contentRouting.get(key, { signal: dhtSignal() }).catch(() => undefined)
    }
    if (record === undefined) return c.text('no record\n', 404, CORS)
    return c.body(new Uint8Array(record), 200, { ...CORS, 'content-type': 'application/vnd.ipfs.ipns-record' })
  })

  app.get('/routing/v1/peers/:id', async (c) => {
    let info: PeerInfo
    try {
      const id = peerIdFromString(c.req.param('id'))
      info = id.equals(libp2p.peerId)
        ? self()
        : await libp2p.peerRouting.findPeer(id, { signal: dhtSignal() }).catch(() => ({ id, multiaddrs: [] }))
    } catch {
      return unprocessable(`"${c.req.param('id')}" is not a peer id`)
    }
    const peers = info.multiaddrs.length === 0 ? [] : [peerRecord(info)]
    return c.json({ Peers: peers }, 200, CORS)
  })
}
