/**
 * @packageDocumentation
 *
 * Storage in the browser's IndexedDB (through browser-level): the same `LevelStorage` as on
 * disk, so a page keeps blocks, heads, pins and its node's datastore across reloads. Each group
 * of commits is one IndexedDB transaction, however many blocks it holds (blockstore-idb opens a
 * transaction per block, which makes a cold sync of 100,000 keys impractical).
 *
 * @example
 * ```js
 * import { openBrowserStorage } from '@dagsync/store/browser'
 * import { openStore } from '@dagsync/store'
 *
 * const storage = await openBrowserStorage('my-app')
 * const db = await openStore({ storage, name: 'notes' })
 * ```
 */
import { BrowserLevel } from 'browser-level'
import { LevelStorage } from './level-storage.ts'

export { LevelStorage } from './level-storage.ts'

/** Opens (creating if needed) the IndexedDB database `name` as storage. */
export async function openBrowserStorage(name: string): Promise<LevelStorage> {
  const db = new BrowserLevel<Uint8Array, Uint8Array>(name, { keyEncoding: 'view', valueEncoding: 'view' })
  await db.open()
  const storage = new LevelStorage(db)
  await storage.datastore.open()
  return storage
}
