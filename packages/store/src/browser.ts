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

export interface BrowserStorageOptions {
  /**
   * IndexedDB's durability hint for writes. `'strict'` (the default) completes a transaction
   * only once the browser has flushed it to disk. `'relaxed'` completes it once the browser
   * holds it, which is several times faster: a tab or browser crash loses nothing, a power loss
   * or OS crash can lose the last writes (never half of one). Right for a replica that can fetch
   * again what it lost; not for a store written in the page.
   */
  durability?: 'strict' | 'relaxed'
}

/** BrowserLevel, with a batch that sends all of its requests at once. */
class PipelinedBrowserLevel extends BrowserLevel<Uint8Array, Uint8Array> {
  // Both exist in browser-level, but its types do not declare them.
  declare readonly db: IDBDatabase
  readonly #durability: 'strict' | 'relaxed'

  constructor(name: string, durability: 'strict' | 'relaxed') {
    super(name, { keyEncoding: 'view', valueEncoding: 'view' })
    this.#durability = durability
  }

  // browser-level waits for each request before making the next: one round trip to the
  // database per block. IndexedDB runs a transaction's requests in order anyway, so they can
  // all be queued at once.
  async _batch(operations: readonly { type: 'put' | 'del'; key: IDBValidKey; value?: Uint8Array }[]): Promise<void> {
    const transaction = this.db.transaction([this.location], 'readwrite', { durability: this.#durability })
    const done = new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve()
      transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'))
    })
    const store = transaction.objectStore(this.location)
    try {
      for (const op of operations) {
        if (op.type === 'del') store.delete(op.key)
        else store.put(op.value, op.key)
      }
      transaction.commit()
    } catch (err) {
      transaction.abort()
      await done.catch(() => {})
      throw err
    }
    return done
  }
}

/** Opens (creating if needed) the IndexedDB database `name` as storage. */
export async function openBrowserStorage(name: string, options: BrowserStorageOptions = {}): Promise<LevelStorage> {
  const db = new PipelinedBrowserLevel(name, options.durability ?? 'strict')
  await db.open()
  const storage = new LevelStorage(db)
  await storage.datastore.open()
  return storage
}
