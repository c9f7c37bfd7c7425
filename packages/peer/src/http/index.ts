// `@dagsync/peer/http`: what a reader needs to sync over plain HTTP without a libp2p node (a
// page's cold start loads only this, not libp2p): the gateway client, the CAR check, the
// store's key from its id and the receive limits. Nothing here imports libp2p or helia.

export type { Announcement } from '../announcement.ts'
export { storePublicKey } from '../identity.ts'
export { DEFAULT_RECEIVE_LIMITS, type ReceiveLimits } from '../received.ts'
export { type Prefetched, prefetchCar } from './car-prefetch.ts'
export { GatewayClient, GatewayFetchError } from './gateway-client.ts'
