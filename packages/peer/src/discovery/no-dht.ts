// What a browser bundle gets for dht.ts (package.json's `browser` maps one to the other): a page
// runs no DHT (it has no listening address for other peers to query), so kad-dht stays out of
// every chunk; a browser finds stores through a daemon's delegated routing API instead.
import { PeerError } from '../errors.ts'

/** `dht` was given to a node in a browser. */
export class DhtUnavailableError extends PeerError {}

export function dhtService(): never {
  throw new DhtUnavailableError('a browser runs no DHT: give the page delegatedRouters (a daemon API URL) instead')
}
