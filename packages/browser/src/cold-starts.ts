// The node's tab before libp2p has loaded. It holds the node's lock, so it is the one writer of
// the replicas: each replica that holds nothing of its store yet is moved to the store's head over
// HTTP (http-start.ts, a chunk loaded only for such a replica), and every tab is told, so a first
// visit shows keys before the node's chunk loads. The node starts once these are done.
import type { SyncReport } from '@dagsync/peer'
import { openStore, type Storage, type Store } from '@dagsync/store'

export interface ColdStartsInit {
  readonly storage: Storage
  /** Trustless gateway URLs (a daemon's gateway or its API address). */
  readonly gateways: readonly string[]
  /** A replica moved: tell the tabs. */
  readonly onStarted: (store: string, report: SyncReport) => void
  /** A cold replica cannot be shown without the node (no gateway, or none answered): start it. */
  readonly needNode: (store: string, why: string) => void
  /** How long one cold start may take. */
  readonly timeoutMs: number
  readonly signal: AbortSignal
}

export class ColdStarts {
  readonly #init: ColdStartsInit
  /** Every store asked for, and its one start (a store is started once, by one writer). */
  readonly #starts = new Map<string, Promise<void>>()

  constructor(init: ColdStartsInit) {
    this.#init = init
  }

  /** Starts store `id` over HTTP if its replica is cold; asked again, returns the same start. */
  start(id: string): Promise<void> {
    const known = this.#starts.get(id)
    if (known !== undefined) return known
    const run = this.#run(id)
    this.#starts.set(id, run)
    return run
  }

  /** Resolves once no start runs, those asked for meanwhile included: then the node may write. */
  async idle(): Promise<void> {
    for (let seen = -1; seen !== this.#starts.size; ) {
      seen = this.#starts.size
      await Promise.all(this.#starts.values())
    }
  }

  async #run(id: string): Promise<void> {
    const { storage, gateways, signal } = this.#init
    let store: Store | undefined
    try {
      store = await openStore({ storage, name: id, readOnly: true })
      if (store.head !== null) return
      if (gateways.length === 0) return this.#init.needNode(id, 'no gateway to start it over HTTP')
      const { startOverHttp } = await import('./http-start.ts')
      const cold = store
      const report = await storage.gcLock.shared(() =>
        startOverHttp(cold, id, gateways, AbortSignal.any([signal, AbortSignal.timeout(this.#init.timeoutMs)])),
      )
      this.#init.onStarted(id, report)
    } catch (err) {
      if (!signal.aborted) this.#init.needNode(id, (err as Error).message)
    } finally {
      await store?.close()
    }
  }
}
