// The helia node under a dagsync node: libp2p with only what dagsync uses (WebSockets, noise,
// yamux, gossipsub, identify, ping, fetch; the DHT and delegated routers when asked for; a page
// adds WebRTC, a daemon the circuit relay) and bitswap, built explicitly so that nothing dials
// public bootstrap peers, mdns or delegated routers it was not given.
import { withBitswap } from '@helia/bitswap'
import type { delegatedRoutingV1HttpApiClientContentRouting } from '@helia/delegated-routing-v1-http-api-client'
import { withLibp2pLight } from '@helia/libp2p'
import * as dagCbor from '@ipld/dag-cbor'
import { fetch as libp2pFetch } from '@libp2p/fetch'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createHeliaLight } from 'helia'
import { connectionManagerOptions } from './connection-limits.ts'
import type { dhtService } from './discovery/dht.ts'
import type { DagsyncNodeInit } from './node-init.ts'
import type { StagingBlockstore } from './staging.ts'

/**
 * The DHT and the delegated routing client load only for a node that asks for them: a browser
 * page never runs a DHT (its bundle maps discovery/dht.ts to a stub, see package.json's
 * `browser`), and one without delegated routers leaves the client out.
 */
interface RoutingServices {
  dht?: ReturnType<typeof dhtService>
  [router: `delegatedRouting${number}`]: ReturnType<typeof delegatedRoutingV1HttpApiClientContentRouting>
}

async function routingServices(init: DagsyncNodeInit): Promise<RoutingServices> {
  const services: RoutingServices = {}
  if (init.dht !== undefined) services.dht = (await import('./discovery/dht.ts')).dhtService()
  const routers = init.delegatedRouters ?? []
  if (routers.length > 0) {
    const { delegatedRoutingV1HttpApiClientContentRouting } = await import(
      '@helia/delegated-routing-v1-http-api-client'
    )
    routers.forEach((url, i) => {
      services[`delegatedRouting${i}`] = delegatedRoutingV1HttpApiClientContentRouting({ url })
    })
  }
  return services
}

export async function makeHelia(init: DagsyncNodeInit, staging: StagingBlockstore) {
  const routing = await routingServices(init)
  return withBitswap(
    withLibp2pLight(createHeliaLight({ blockstore: staging, datastore: init.storage.datastore, codecs: [dagCbor] }), {
      ...(init.privateKey === undefined ? {} : { privateKey: init.privateKey }),
      ...(init.connectionGater === undefined ? {} : { connectionGater: init.connectionGater }),
      connectionManager: connectionManagerOptions(init.connectionLimits),
      addresses: { listen: init.listen ?? ['/ip4/127.0.0.1/tcp/0/ws'], appendAnnounce: init.announce ?? [] },
      transports: (init.transports ?? [webSockets(init.tls === undefined ? {} : { https: init.tls })]) as never,
      connectionEncrypters: [noise()],
      // yamux grants a sender more window as data arrives, not as it is read, up to this much
      // per stream (its default is 16 MiB): so this is what a peer can have in flight that the
      // reader has not asked for, e.g. a liar's flood after a refused block.
      streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: 1024 * 1024 } })],
      // libp2p pings every connection every 10 s and aborts it if a ping takes longer than an
      // adaptive timeout (at least 5 s): on a busy machine a connection carrying a large cold sync
      // missed that and was aborted mid-reply. A dead peer still goes within about 40 s.
      connectionMonitor: { pingTimeout: { minTimeout: 30_000 } },
      services: {
        ...init.services,
        identify: identify(),
        ping: ping(),
        fetch: libp2pFetch(),
        ...routing,
        pubsub: gossipsub({
          // Announcements are signed by the store key; messages are signed too, so every peer
          // knows who relayed what. All peers must agree on this.
          globalSignaturePolicy: 'StrictSign',
          allowPublishToZeroTopicPeers: true,
          fallbackToFloodsub: false,
          // A commit's announcement goes to the mesh (about D = 6 peers), which relays it, not to
          // every subscriber: a writer's upload per commit grows with the mesh degree, not with its
          // readers. (A reader that subscribes is sent the head all the same: many-readers.test.)
          floodPublish: false,
          // Gossipsub scores down peers that share an IP address past 10, quadratically: 14
          // readers on one machine or behind one reverse proxy were graylisted (their messages,
          // subscriptions included, ignored) and got nothing. What they relay is checked against
          // the store's key, so peers on one address are no threat.
          scoreParams: { IPColocationFactorWeight: 0 },
          emitSelf: false,
          // A peer's messages are checked one after another, not all at once: a flood then waits
          // in that peer's stream (and its sender) instead of piling up here, each pending check
          // holding its message (up to 1 MiB).
          awaitRpcHandler: true,
          awaitRpcMessageHandler: true,
        }),
      },
    }),
    // The bitswap option is read as maxWantListSize (its type says maxWantlistSize): above 1024
    // outstanding wants a peer stalls. Our walks keep 64 in flight; this bounds what we serve.
    { maxWantListSize: 4096 } as never,
  )
}

export type Helia = Awaited<ReturnType<typeof makeHelia>>
