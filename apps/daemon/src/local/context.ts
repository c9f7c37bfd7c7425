// What every area of the local API shares: the open repo, the daemon's node if there is one,
// and the way from a store's name or id to its open store (live in the daemon, opened on demand
// offline).
import type { DagsyncNode, Follower, ServedStore } from '@dagsync/peer'
import { followedStores, storeKeyIds, storePublicKey } from '@dagsync/peer/local'
import { openStore, type Store } from '@dagsync/store'
import type { Logger } from 'pino'
import { ApiError, type StoreInfo } from '../api.ts'
import { toApiError } from '../convert.ts'
import type { Repo } from '../repo.ts'
import { WriterLists } from '../writers.ts'

export interface LocalApiInit {
  readonly repo: Repo
  /** The daemon's node; without one, the API works offline on the repo. */
  readonly node?: DagsyncNode
  /** Told how long each local commit took (for metrics). */
  readonly onCommit?: (ms: number) => void
  /** How long a store pin waits for a store with no known head. @default 15_000 */
  readonly discoverTimeoutMs?: number
  /** Where to report what goes wrong without failing a call (the daemon's logger). @default nowhere */
  readonly log?: Pick<Logger, 'warn'>
}

/** An open store and how this repo holds it. */
export interface Handle {
  readonly id: string
  readonly role: StoreInfo['role']
  readonly store: Store
  readonly served?: ServedStore
  readonly follower?: Follower
}

export class LocalContext {
  readonly init: LocalApiInit
  readonly repo: Repo
  readonly node: DagsyncNode | undefined
  readonly started = Date.now()
  readonly writerLists: WriterLists
  readonly #offline = new Map<string, Promise<Store>>()

  constructor(init: LocalApiInit) {
    this.init = init
    this.repo = init.repo
    this.node = init.node
    this.writerLists = new WriterLists(init.repo.storage.datastore, init.repo.config.writers)
  }

  get datastore() {
    return this.repo.storage.datastore
  }

  needNode(what: string): DagsyncNode {
    if (this.node === undefined)
      throw new ApiError(
        'unavailable',
        `${what} needs the network: start the daemon (\`dagsync daemon\`) and try again`,
      )
    return this.node
  }

  /** A store id from an id or a local name. */
  async resolve(ref: string): Promise<string> {
    const named = (await this.repo.names()).get(ref)
    if (named !== undefined) return named
    if (ref.startsWith('k51')) {
      try {
        storePublicKey(ref)
        return ref
      } catch (err) {
        throw toApiError(err)
      }
    }
    throw new ApiError('not-found', `no store is named "${ref}" here (see \`dagsync store ls\`)`)
  }

  /** The stores this repo holds the key of. */
  async writable(): Promise<Set<string>> {
    const ids = new Set<string>()
    for await (const id of storeKeyIds(this.datastore)) ids.add(id)
    return ids
  }

  /** The stores this repo follows, each with whether it is followed sparsely. */
  async followed(): Promise<Map<string, boolean>> {
    const out = new Map<string, boolean>()
    for await (const { id, sparse } of followedStores(this.datastore)) out.set(id, sparse)
    return out
  }

  async namesOf(id: string): Promise<string[]> {
    return [...(await this.repo.names())].filter(([, named]) => named === id).map(([name]) => name)
  }

  async handle(ref: string): Promise<Handle> {
    const id = await this.resolve(ref)
    // A store the database lost part of would show as empty or old, and a write would fork it.
    const damage = this.repo.damageOf(id)[0]
    if (damage !== undefined && damage.role === 'writer') throw new ApiError('internal', damage.message)
    if (this.node !== undefined) {
      const served = this.node.served(id)
      if (served !== undefined) return { id, role: 'writer', store: served.store, served }
      const follower = this.node.followed(id)
      if (follower !== undefined)
        return { id, role: follower.sparse ? 'sparse' : 'replica', store: follower.store, follower }
    } else {
      if ((await this.writable()).has(id)) return { id, role: 'writer', store: await this.#openOffline(id, false) }
      const sparse = (await this.followed()).get(id)
      if (sparse === true)
        throw new ApiError(
          'unavailable',
          `store ${id} is followed sparsely: its data is fetched on read, by the daemon`,
        )
      if (sparse === false) return { id, role: 'replica', store: await this.#openOffline(id, true) }
    }
    throw new ApiError(
      'not-found',
      `store ${id} is not written or followed here (follow it with \`dagsync store follow\`)`,
    )
  }

  #openOffline(id: string, readOnly: boolean): Promise<Store> {
    let store = this.#offline.get(id)
    if (store === undefined) {
      store = openStore({ storage: this.repo.storage, name: id, readOnly }).catch((err) => {
        this.#offline.delete(id)
        throw toApiError(err)
      })
      this.#offline.set(id, store)
    }
    return store
  }

  /** Closes a store opened offline (one no longer followed). */
  async closeOffline(id: string): Promise<void> {
    await (await this.#offline.get(id))?.close()
    this.#offline.delete(id)
  }

  async close(): Promise<void> {
    // A store that failed to open has nothing to close; its caller got that error already.
    for (const store of this.#offline.values()) await (await store.catch(() => undefined))?.close()
    this.#offline.clear()
  }
}
