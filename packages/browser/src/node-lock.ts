// One node per IndexedDB database and origin: the node's tab holds a Web Lock named after the
// database for as long as its node runs. Two nodes on one database would share an identity, and
// the daemon keeps one connection per peer id: one of the two tabs would stop receiving anything.
import { type DagsyncNode, PeerError } from '@dagsync/peer'

/** Another tab of this origin runs a node on this database (startBrowserPeer; use startTabPeer). */
export class NodeHeldElsewhereError extends PeerError {}

/** The Web Lock a node on `database` holds. */
export function nodeLockName(database: string): string {
  return `dagsync:node:${database}`
}

/**
 * Starts a node with `start` while holding the database's lock, which is released when the node
 * stops (or the tab closes). Fails at once if another tab holds it.
 */
export function holdNodeLock(database: string, start: () => Promise<DagsyncNode>): Promise<DagsyncNode> {
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(nodeLockName(database), { ifAvailable: true }, async (lock) => {
        if (lock === null) {
          throw new NodeHeldElsewhereError(
            `another tab of this origin runs a dagsync node on database "${database}": use startTabPeer to share it`,
          )
        }
        const node = await start()
        const stopped = new Promise((done) => node.libp2p.addEventListener('stop', done, { once: true }))
        resolve(node)
        await stopped
      })
      .catch(reject)
  })
}
