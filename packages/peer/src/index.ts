/**
 * @packageDocumentation
 *
 * `@dagsync/peer` replicates dagsync stores between helia nodes: one writer, any number of
 * readers. A store is named by its writer's Ed25519 key (its id is that key's IPNS name). After
 * each commit the writer announces the new head as a signed IPNS record, over gossipsub for live
 * readers and through IPNS for readers that start cold. Readers check every announcement against
 * the store's key, fetch what they lack in one round trip from any peer that holds it (new nodes
 * sent as deltas against the nodes they replace) or, failing that, over bitswap, verify every
 * block, and only then move their head. Readers on the writer's allow-list can send it writes.
 *
 * @example
 * ```ts
 * import { memoryStorage } from '@dagsync/store'
 * import { createDagsyncNode } from '@dagsync/peer'
 *
 * const writer = await createDagsyncNode({ storage: memoryStorage() })
 * const served = await writer.createStore()
 * await served.store.assoc('greeting', 'hello')
 *
 * const reader = await createDagsyncNode({ storage: memoryStorage(), peers: writer.addresses, listen: [] })
 * const replica = await reader.follow(served.id)
 * await replica.synced(1)
 * await replica.get('greeting') // 'hello'
 * ```
 */

export { type Announcement, createAnnouncement, readAnnouncement } from './announcement.ts'
export { MAX_WRITE_ID_LENGTH } from './applied-writes.ts'
export type { ConnectionLimits } from './connection-limits.ts'
export { applyDelta, type DeltaOp, encodeDelta } from './delta.ts'
export * from './errors.ts'
export { Follower, type FollowerStatus, type SyncReport } from './follower.ts'
export { createStoreKey, loadStoreKey, saveStoreKey, storeIdOf, storeKeyIds, storePublicKey } from './identity.ts'
export { createDagsyncNode, DagsyncNode, type DagsyncNodeInit, type NodeStats } from './node.ts'
export { MAX_EXCHANGE_ADDRESSES, PAGE_EXCHANGE_TOPIC, readExchangeMessage } from './page-exchange.ts'
export { preconditionFromWire, preconditionToWire } from './precondition-wire.ts'
export { type FollowRecord, followedStores, forgetFollow, recordFollow } from './registry.ts'
export { WRITE_PROTOCOL } from './remote-write.ts'
export { ServedStore } from './served.ts'
export { SYNC_PROTOCOL } from './sync.ts'
export type { RemoteTransactOptions } from './write-client.ts'
