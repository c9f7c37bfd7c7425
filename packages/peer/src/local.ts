/**
 * What a peer keeps in its datastore, usable without starting a node (and without loading
 * libp2p): the keys of the stores it writes and the list of stores it follows. The CLI uses this
 * to work on a repo while no daemon runs.
 */
export * from './errors.ts'
export { createStoreKey, loadStoreKey, saveStoreKey, storeIdOf, storeKeyIds, storePublicKey } from './identity.ts'
export { type FollowRecord, followedStores, forgetFollow, recordFollow } from './registry.ts'
