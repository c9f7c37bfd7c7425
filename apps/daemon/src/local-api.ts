// The API on an open repo. Inside the daemon it has a running node (stores are served and
// followed live, blocks come from peers); in the CLI without a daemon it works offline on the
// repo alone, and the operations that need the network say so.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { DagsyncNode, Follower, ServedStore } from '@dagsync/peer'
import {
  createStoreKey,
  followedStores,
  forgetFollow,
  recordFollow,
  saveStoreKey,
  storeKeyIds,
  storePublicKey,
} from '@dagsync/peer/local'
import {
  blockKey,
  type Commit,
  checkDag,
  collectGarbage,
  decodeCommit,
  openStore,
  readBlock,
  type Store,
  type StoreView,
  stageBytes,
  WholeDagWriter,
  type WriteOp,
  walkDag,
} from '@dagsync/store'
import { concatBytes } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import type { Logger } from 'pino'
import {
  type AllowMode,
  type Api,
  ApiError,
  type CarImportResult,
  type ChangeData,
  type CommitInfo,
  type EntryData,
  type GcReport,
  type GcRequest,
  type GetResult,
  type IdInfo,
  type KeyInfoData,
  type KeysQuery,
  type NameRecord,
  type OnProgress,
  type PeerInfo,
  type PinAddResult,
  type PinInfo,
  type PutRequest,
  type RemotePin,
  type RemoteService,
  type Segment,
  type StagedBytesInfo,
  type StatusInfo,
  type StoreInfo,
  type StoreStatus,
  type TransactRequest,
  type VerifyResult,
  type WriteResult,
  type WritersInfo,
} from './api.ts'
import { exportCar, importCar } from './car.ts'
import { commitInfo, keyInfoData, parseCid, toApiError } from './convert.ts'
import { keyHistory } from './key-history.ts'
import { checkStoreName } from './names.ts'
import { plural } from './plural.ts'
import { RemotePinning } from './remote-pins.ts'
import type { Repo } from './repo.ts'
import { WriterLists, type WritersChange } from './writers.ts'

export const VERSION: string = JSON.parse(
  await readFile(join(import.meta.dirname, '..', 'package.json'), 'utf8').catch(() => '{"version":"0.0.0"}'),
).version

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

interface Handle {
  readonly id: string
  readonly role: StoreInfo['role']
  readonly store: Store
  readonly served?: ServedStore
  readonly follower?: Follower
}

export class LocalApi implements Api {
  readonly #repo: Repo
  readonly #node: DagsyncNode | undefined
  readonly #init: LocalApiInit
  readonly #offline = new Map<string, Promise<Store>>()
  readonly #started = Date.now()
  readonly #writerLists: WriterLists
  /** The daemon's API URL, once it listens (for `id`). */
  apiUrl: string | undefined

  constructor(init: LocalApiInit) {
    this.#init = init
    this.#repo = init.repo
    this.#node = init.node
    this.#writerLists = new WriterLists(init.repo.storage.datastore, init.repo.config.writers)
  }

  get #datastore() {
    return this.#repo.storage.datastore
  }

  #needNode(what: string): DagsyncNode {
    if (this.#node === undefined)
      throw new ApiError(
        'unavailable',
        `${what} needs the network: start the daemon (\`dagsync daemon\`) and try again`,
      )
    return this.#node
  }

  // --- node ------------------------------------------------------------------------------------

  async id(): Promise<IdInfo> {
    const peerId = this.#node?.peerId.toString() ?? (await this.#offlinePeerId())
    return {
      peerId,
      addresses: this.#node?.addresses ?? [],
      repo: this.#repo.path,
      ...(this.apiUrl === undefined ? {} : { api: this.apiUrl }),
      version: VERSION,
    }
  }

  /** The node's peer id, as the daemon recorded it at its last start. */
  async #offlinePeerId(): Promise<string> {
    return (await this.#repo.peerId()) ?? '(none yet: it is created on the first daemon start)'
  }

  async status(): Promise<StatusInfo> {
    const problems = await this.#repo.checkStores()
    const stores: StoreStatus[] = []
    for (const info of await this.storeList()) stores.push(await this.storeStatus({ store: info.id }))
    return {
      ...(await this.id()),
      online: this.#node !== undefined,
      uptimeSeconds: Math.round((Date.now() - this.#started) / 1000),
      peers: this.#node?.libp2p.getPeers().length ?? 0,
      stores,
      problems,
    }
  }

  async peers(): Promise<PeerInfo[]> {
    const node = this.#needNode('listing peers')
    const out = new Map<string, string[]>()
    for (const connection of node.libp2p.getConnections()) {
      const id = connection.remotePeer.toString()
      out.set(id, [...(out.get(id) ?? []), connection.remoteAddr.toString()])
    }
    return [...out].map(([id, addresses]) => ({ id, addresses }))
  }

  async connect({ address }: { address: string }): Promise<PeerInfo> {
    const node = this.#needNode('connecting to a peer')
    const { multiaddr } = await import('@multiformats/multiaddr')
    let peer: string | undefined
    try {
      peer = multiaddr(address)
        .getComponents()
        .findLast((c) => c.name === 'p2p')?.value
    } catch (err) {
      throw new ApiError('bad-request', `"${address}" is not a multiaddr: ${(err as Error).message}`)
    }
    if (peer === undefined) throw new ApiError('bad-request', `"${address}" must end in /p2p/<peer id>`)
    node.connect(address)
    try {
      await node.connected(peer, AbortSignal.timeout(10_000))
    } catch (err) {
      throw new ApiError('unavailable', `could not connect to ${address} within 10 s (it is still being retried)`, {
        cause: err,
      })
    }
    return { id: peer, addresses: [address] }
  }

  // --- stores ----------------------------------------------------------------------------------

  /** A store id from an id or a local name. */
  async #resolve(ref: string): Promise<string> {
    const named = (await this.#repo.names()).get(ref)
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

  async #writable(): Promise<Set<string>> {
    const ids = new Set<string>()
    for await (const id of storeKeyIds(this.#datastore)) ids.add(id)
    return ids
  }

  async #followed(): Promise<Map<string, boolean>> {
    const out = new Map<string, boolean>()
    for await (const { id, sparse } of followedStores(this.#datastore)) out.set(id, sparse)
    return out
  }

  async #handle(ref: string): Promise<Handle> {
    const id = await this.#resolve(ref)
    // A store the database lost part of would show as empty or old, and a write would fork it.
    const damage = this.#repo.damageOf(id)[0]
    if (damage !== undefined && damage.role === 'writer') throw new ApiError('internal', damage.message)
    if (this.#node !== undefined) {
      const served = this.#node.served(id)
      if (served !== undefined) return { id, role: 'writer', store: served.store, served }
      const follower = this.#node.followed(id)
      if (follower !== undefined)
        return { id, role: follower.sparse ? 'sparse' : 'replica', store: follower.store, follower }
    } else {
      if ((await this.#writable()).has(id)) return { id, role: 'writer', store: await this.#openOffline(id, false) }
      const sparse = (await this.#followed()).get(id)
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
      store = openStore({ storage: this.#repo.storage, name: id, readOnly }).catch((err) => {
        this.#offline.delete(id)
        throw toApiError(err)
      })
      this.#offline.set(id, store)
    }
    return store
  }

  async #info(handle: Handle): Promise<StoreInfo> {
    const names = [...(await this.#repo.names())].filter(([, id]) => id === handle.id).map(([name]) => name)
    const head = handle.store.head
    return { id: handle.id, names, role: handle.role, seq: head?.seq ?? 0, head: head?.cid ?? null }
  }

  async storeCreate({ name }: { name?: string }): Promise<StoreInfo> {
    // Every check before the store exists: a refused name must not leave an unnamed store behind.
    if (name !== undefined) checkStoreName(name)
    if (name !== undefined && (await this.#repo.names()).has(name))
      throw new ApiError('conflict', `the name "${name}" is already given to a store`)
    let id: string
    if (this.#node !== undefined) {
      id = (await this.#node.createStore()).id
    } else {
      id = await saveStoreKey(this.#datastore, await createStoreKey())
    }
    if (name !== undefined) await this.#repo.setName(name, id)
    await this.#repo.checkStores()
    return this.#info(await this.#handle(id))
  }

  async storeList(): Promise<StoreInfo[]> {
    const ids = new Set([...(await this.#writable()), ...(await this.#followed()).keys()])
    const out: StoreInfo[] = []
    for (const id of ids) {
      try {
        out.push(await this.#info(await this.#handle(id)))
      } catch (err) {
        const names = [...(await this.#repo.names())].filter(([, named]) => named === id).map(([n]) => n)
        // A sparse store offline: listed, without a head.
        if (err instanceof ApiError && err.code === 'unavailable')
          out.push({ id, names, role: 'sparse', seq: 0, head: null })
        // A damaged store is not listed: `status` and `pin verify` report it.
        else if (this.#repo.damageOf(id).length === 0) throw err
      }
    }
    return out.sort((a, b) => (a.names[0] ?? a.id).localeCompare(b.names[0] ?? b.id))
  }

  async storeFollow({ id, name, sparse = false }: { id: string; name?: string; sparse?: boolean }): Promise<StoreInfo> {
    try {
      storePublicKey(id)
    } catch (err) {
      throw toApiError(err)
    }
    if ((await this.#writable()).has(id))
      throw new ApiError('conflict', `store ${id} is written here; it cannot also be followed`)
    if (name !== undefined) await this.#repo.setName(name, id)
    if (this.#node !== undefined) {
      const current = this.#node.followed(id)
      if (current !== undefined && current.sparse !== sparse) await this.#node.unfollow(id)
      await this.#node.follow(id, { sparse })
    } else {
      // Recorded here; the daemon follows it when it starts.
      await recordFollow(this.#datastore, { id, sparse })
      if (sparse) {
        await this.#repo.checkStores()
        const names = name === undefined ? [] : [name]
        return { id, names, role: 'sparse', seq: 0, head: null }
      }
    }
    await this.#repo.checkStores()
    return this.#info(await this.#handle(id))
  }

  async storeUnfollow({ store }: { store: string }): Promise<void> {
    const id = await this.#resolve(store)
    if ((await this.#writable()).has(id)) throw new ApiError('conflict', `store ${id} is written here, not followed`)
    if (!(await this.#followed()).has(id)) throw new ApiError('not-found', `store ${id} is not followed here`)
    await this.#repo.forgetStore(id)
    if (this.#node !== undefined) {
      await this.#node.unfollow(id)
    } else {
      await (await this.#offline.get(id))?.close()
      this.#offline.delete(id)
      await forgetFollow(this.#datastore, id)
      await this.#repo.storage.deleteHead(id)
    }
    await this.#repo.deleteNames(id)
  }

  async storeStatus({ store }: { store: string }): Promise<StoreStatus> {
    const handle = await this.#handle(store)
    const info = await this.#info(handle)
    const status = handle.follower?.status()
    const writers = handle.served?.writers ?? (handle.role === 'writer' ? await this.writersOf(handle.id) : [])
    const pubsub = this.#node?.libp2p.services.pubsub
    const last = status?.lastSync
    return {
      ...info,
      newest: status?.newest?.seq ?? info.seq,
      lag: status?.lag ?? 0,
      peers:
        status?.peers ??
        (handle.served === undefined ? undefined : pubsub?.getSubscribers(handle.served.topic).length) ??
        0,
      syncing: status?.syncing ?? false,
      keys: handle.role === 'sparse' ? -1 : await handle.store.count(),
      writers,
      ...(last === undefined
        ? {}
        : {
            lastSync: {
              seq: last.seq,
              ms: Math.round(last.ms),
              path: last.path,
              wireBytes: last.wireBytes,
              blocks: last.blocks,
            },
          }),
      ...(status?.lastError === undefined ? {} : { lastError: status.lastError }),
      online: this.#node !== undefined,
    }
  }

  /** The peers allowed to write a store: those set with `store allow`, and the config's. */
  async writersOf(id: string): Promise<string[]> {
    return [...(await this.#writerLists.of(id, await this.#namesOf(id))).writers]
  }

  async #namesOf(id: string): Promise<string[]> {
    return [...(await this.#repo.names())].filter(([, named]) => named === id).map(([name]) => name)
  }

  /** A store this repo writes, for a change to (or a look at) who else may write it. */
  async #writerHandle(store: string): Promise<Handle> {
    const handle = await this.#handle(store)
    if (handle.role !== 'writer')
      throw new ApiError('conflict', `store ${handle.id} is written elsewhere; only its writer decides who may write`)
    return handle
  }

  async #changeWriters(store: string, change: WritersChange): Promise<WritersInfo> {
    const handle = await this.#writerHandle(store)
    const result = await this.#writerLists.change(handle.id, await this.#namesOf(handle.id), change)
    handle.served?.allowWriters(result.writers)
    return result
  }

  async storeWriters({ store }: { store: string }): Promise<WritersInfo> {
    const handle = await this.#writerHandle(store)
    return this.#writerLists.of(handle.id, await this.#namesOf(handle.id))
  }

  storeAllow({
    store,
    peers,
    mode = 'replace',
  }: {
    store: string
    peers: readonly string[]
    mode?: AllowMode
  }): Promise<WritersInfo> {
    if (mode !== 'add' && mode !== 'replace')
      return Promise.reject(new ApiError('bad-request', `mode must be "add" or "replace", not ${JSON.stringify(mode)}`))
    return this.#changeWriters(store, { allow: peers, mode })
  }

  storeDeny({ store, peers }: { store: string; peers: readonly string[] }): Promise<WritersInfo> {
    return this.#changeWriters(store, { deny: peers })
  }

  async storeName({ store, name }: { store: string; name: string }): Promise<StoreInfo> {
    const handle = await this.#handle(store)
    await this.#repo.setName(name, handle.id)
    await this.#repo.checkStores()
    return this.#info(handle)
  }

  // --- reads -----------------------------------------------------------------------------------

  async #view(handle: Handle, at: number | CID | undefined): Promise<StoreView> {
    try {
      return at === undefined ? handle.store.snapshot() : await handle.store.at(at)
    } catch (err) {
      throw toApiError(err)
    }
  }

  async get({
    store,
    key,
    path,
    at,
  }: {
    store: string
    key: string
    path?: readonly Segment[]
    at?: number | CID
  }): Promise<GetResult> {
    const handle = await this.#handle(store)
    const view = await this.#view(handle, at)
    try {
      const info = await view.getMeta(key)
      if (info === undefined) throw new ApiError('not-found', `key "${key}" is not in store ${store}`)
      if (info.type === 'binary') return { info: keyInfoData(info) }
      const value = path === undefined || path.length === 0 ? await view.get(key) : await view.getIn([key, ...path])
      if (value === undefined)
        throw new ApiError('not-found', `path ${path?.join('/')} is not in the value of "${key}"`)
      return { info: keyInfoData(info), value }
    } catch (err) {
      throw toApiError(err)
    }
  }

  async getBytes({
    store,
    key,
    at,
  }: {
    store: string
    key: string | Uint8Array
    at?: number | CID
  }): Promise<AsyncIterable<Uint8Array>> {
    const handle = await this.#handle(store)
    const view = await this.#view(handle, at)
    try {
      const info = await view.getMeta(key)
      if (info === undefined) throw new ApiError('not-found', `key "${key}" is not in store ${store}`)
      if (info.type !== 'binary')
        throw new ApiError('bad-request', `key "${key}" holds a structured value, not bytes (use get)`)
      const binary = await view.bget(key)
      if (binary === undefined) throw new ApiError('not-found', `key "${key}" is not in store ${store}`)
      return binary.stream()
    } catch (err) {
      throw toApiError(err)
    }
  }

  async *keys(query: KeysQuery): AsyncGenerator<KeyInfoData> {
    const handle = await this.#handle(query.store)
    const view = await this.#view(handle, query.at)
    const { store: _, at: __, ...range } = query
    try {
      for await (const info of view.keys(range)) yield keyInfoData(info)
    } catch (err) {
      throw toApiError(err)
    }
  }

  async *entries(query: KeysQuery & { inlineBytes?: number }): AsyncGenerator<EntryData> {
    const handle = await this.#handle(query.store)
    const view = await this.#view(handle, query.at)
    const { store: _, at: __, inlineBytes = 0, ...range } = query
    try {
      for await (const info of view.keys(range)) {
        if (info.type === 'value') yield { info: keyInfoData(info), value: await view.get(info.key) }
        else if (info.size > inlineBytes) yield { info: keyInfoData(info) }
        else yield { info: keyInfoData(info), bytes: await (await view.bget(info.key))!.bytes() }
      }
    } catch (err) {
      throw toApiError(err)
    }
  }

  async *log({ store, limit, key }: { store: string; limit?: number; key?: string }): AsyncGenerator<CommitInfo> {
    const handle = await this.#handle(store)
    if (key !== undefined) {
      for await (const { commit, change } of keyHistory(handle.store, key, limit))
        yield { ...commitInfo(commit), change }
      return
    }
    for await (const commit of handle.store.log(limit === undefined ? {} : { limit })) yield commitInfo(commit)
  }

  async *diff({
    store,
    from,
    to,
  }: {
    store: string
    from: number | CID
    to?: number | CID
  }): AsyncGenerator<ChangeData> {
    const handle = await this.#handle(store)
    try {
      for await (const change of handle.store.diff(from, to)) {
        yield {
          key: change.key,
          ...(change.before === undefined ? {} : { before: change.before }),
          ...(change.after === undefined ? {} : { after: change.after }),
        }
      }
    } catch (err) {
      throw toApiError(err)
    }
  }

  // --- writes ----------------------------------------------------------------------------------

  async #write(
    ref: string,
    local: (store: Store, options: { meta?: { by: string } }) => Promise<Commit | null>,
    remote: (follower: Follower) => Promise<Commit | null>,
  ): Promise<WriteResult> {
    const handle = await this.#handle(ref)
    const started = performance.now()
    try {
      let commit: Commit | null
      if (handle.role === 'writer') {
        // Who wrote it, as a remote write records its peer (`log` shows it); unknown before the first daemon start.
        const by = this.#node?.peerId.toString() ?? (await this.#repo.peerId())
        commit = await local(handle.store, by === undefined ? {} : { meta: { by } })
        this.#init.onCommit?.(performance.now() - started)
        if (commit !== null) await this.#repo.noteHead(handle.id, commit.seq)
      } else if (handle.follower !== undefined) {
        commit = await remote(handle.follower)
      } else {
        throw new ApiError(
          'unavailable',
          `store ${handle.id} is written by another peer: writes go to it through the daemon (start it)`,
        )
      }
      return { commit: commit === null ? null : commitInfo(commit) }
    } catch (err) {
      if ((err as Error).name === 'UnauthorizedError' && this.#node !== undefined) {
        // Say how to get access: the writer's operator runs one command with this node's id.
        const me = this.#node.peerId.toString()
        throw new ApiError(
          'unauthorized',
          `the writer of store ${handle.id} does not allow this node (${me}) to write it: on the writer, run \`dagsync store allow ${handle.id} ${me}\``,
          { cause: err },
        )
      }
      throw toApiError(err)
    }
  }

  put({ store, key, path, value }: PutRequest): Promise<WriteResult> {
    if (value === undefined) return Promise.reject(new ApiError('bad-request', 'a put needs a value'))
    const inPath = path !== undefined && path.length > 0
    return this.#write(
      store,
      async (s, options) =>
        (await s.transact((tx) => (inPath ? tx.assocIn([key, ...path], value) : tx.assoc(key, value)), options)).commit,
      (f) => (inPath ? f.assocIn([key, ...path], value) : f.assoc(key, value)),
    )
  }

  async putBytes(
    { store, key }: { store: string; key: string },
    bytes: AsyncIterable<Uint8Array>,
  ): Promise<WriteResult> {
    return this.#write(
      store,
      async (s, options) => (await s.transact((tx) => tx.bassoc(key, bytes), options)).commit,
      async (f) => {
        // A remote write carries the bytes in one message (at most 1 MiB).
        const parts: Uint8Array[] = []
        let size = 0
        for await (const part of bytes) {
          size += part.length
          if (size > 1024 * 1024)
            throw new ApiError('bad-request', 'binary values written through another peer are limited to 1 MiB')
          parts.push(part)
        }
        return f.bassoc(key, concatBytes(parts))
      },
    )
  }

  del({ store, key }: { store: string; key: string }): Promise<WriteResult> {
    return this.#write(
      store,
      async (s, options) => (await s.transact((tx) => tx.dissoc(key), options)).commit,
      (f) => f.dissoc(key),
    )
  }

  transact({ store, meta }: TransactRequest, ops: readonly WriteOp[]): Promise<WriteResult> {
    const options = meta === undefined ? {} : { meta }
    return this.#write(
      store,
      async (s) => (await s.transact(ops, options)).commit,
      async (f) => (await f.transact(ops, options)).commit,
    )
  }

  async stageBytes({ store }: { store: string }, bytes: AsyncIterable<Uint8Array>): Promise<StagedBytesInfo> {
    const handle = await this.#handle(store)
    if (handle.role !== 'writer')
      throw new ApiError(
        'conflict',
        `store ${handle.id} is written by another peer: bytes placed by reference must be in its writer's repo (send them in a put-bytes op instead)`,
      )
    try {
      return await stageBytes(this.#repo.storage, bytes)
    } catch (err) {
      throw toApiError(err)
    }
  }

  // --- pins, verify, gc ------------------------------------------------------------------------

  /** A pin target: a store (name or id), or a CID. */
  async #target(target: string): Promise<{ store: string } | { cid: CID }> {
    if ((await this.#repo.names()).has(target) || /^k51[a-z0-9]{50,}$/.test(target))
      return { store: await this.#resolve(target) }
    return { cid: parseCid(target, 'CID or store') }
  }

  async pinAdd({ target, name }: { target: string; name?: string }, onProgress?: OnProgress): Promise<PinAddResult> {
    const what = await this.#target(target)
    if ('store' in what) return this.#pinStore(what.store, name, onProgress)
    return this.#repo.storage.gcLock.shared(() => this.#pinDag(what.cid, name, onProgress))
  }

  /**
   * Pins a DAG: fetches what is missing from peers, 64 blocks at a time, writes each fetched
   * block once all it links to is stored (so a pin that fails part way leaves only whole DAGs),
   * then records the pin. Runs under the gc lock (shared).
   */
  async #pinDag(root: CID, name: string | undefined, onProgress?: OnProgress): Promise<PinAddResult> {
    const storage = this.#repo.storage
    const node = this.#node
    const writer = new WholeDagWriter(storage)
    let blocks = 0
    let bytes = 0
    const fetched = new Set<string>()
    const missing: CID[] = []
    const walk = walkDag(
      async (cid) => {
        const local = await readBlock(storage.blockstore, cid)
        if (local !== undefined || node === undefined) return local
        try {
          const block = await node.getBlock(cid)
          fetched.add(blockKey(cid))
          return block
        } catch (err) {
          if (isUnavailable(err)) return undefined
          throw err
        }
      },
      [root],
      (cid, block) => {
        if (block === undefined) {
          missing.push(cid)
          return false
        }
        blocks++
        bytes += block.length
        onProgress?.({ blocks, bytes, phase: fetched.size > 0 ? 'fetching' : 'reading' })
        return true
      },
    )
    for await (const { cid, bytes: block, links } of walk) {
      if (!fetched.has(blockKey(cid))) continue
      await writer.add({ cid, bytes: block }, links)
      node?.forgetFetched([cid])
    }
    await writer.finish()
    if (missing.length > 0) {
      const where = node === undefined ? 'here, and the daemon is not running to fetch them' : 'here or from any peer'
      // Unavailable (exit 5), not "not found": the blocks may exist on a peer that is not connected now.
      throw new ApiError(
        'unavailable',
        `${plural(missing.length, 'block')} of ${root} ${missing.length === 1 ? 'is' : 'are'} not available ${where} (first: ${missing[0]}); nothing was pinned`,
      )
    }
    await storage.pin({ cid: root, ...(name === undefined ? {} : { name }), time: Date.now() })
    return {
      pin: { cid: root, type: 'recursive', ...(name === undefined ? {} : { name }) },
      blocks,
      bytes,
      fetched: fetched.size,
    }
  }

  /** Pins a store: keeps a full replica that follows its head (a writer's own stores always are). */
  async #pinStore(id: string, name: string | undefined, onProgress?: OnProgress): Promise<PinAddResult> {
    if (name !== undefined) await this.#repo.setName(name, id)
    const writable = (await this.#writable()).has(id)
    if (!writable) {
      const node = this.#needNode('pinning a store written elsewhere')
      const current = node.followed(id)
      if (current?.sparse === true) await node.unfollow(id)
      const follower = await node.follow(id, { sparse: false })
      await this.#repo.checkStores()
      await this.#awaitSynced(follower, onProgress)
    }
    const handle = await this.#handle(id)
    const head = handle.store.head
    const check =
      head === null
        ? { blocks: 0, bytes: 0 }
        : await checkDag(this.#repo.storage.blockstore, [head.cid], (p) =>
            onProgress?.({ blocks: p.blocks, bytes: p.bytes, phase: 'checking' }),
          )
    return {
      pin: {
        cid: head?.cid ?? handle.store.tree.emptyRoot,
        type: 'store',
        store: id,
        ...(name === undefined ? {} : { name }),
      },
      blocks: check.blocks,
      bytes: check.bytes,
      fetched: handle.follower?.status().lastSync?.blocks ?? 0,
    }
  }

  /** Waits until a follower holds the newest head it knows of, reporting progress; fails if none is found or it stalls. */
  async #awaitSynced(follower: Follower, onProgress?: OnProgress): Promise<void> {
    const discoverMs = this.#init.discoverTimeoutMs ?? 15_000
    const started = Date.now()
    let lastMove = Date.now()
    let lastBytes = -1
    for (;;) {
      const status = follower.status()
      if (status.newest !== null && (status.synced?.seq ?? 0) >= status.newest.seq && !status.syncing) return
      const progress = status.progress
      if (progress !== undefined) {
        onProgress?.({ ...progress, phase: 'syncing' })
        if (progress.bytes !== lastBytes) {
          lastBytes = progress.bytes
          lastMove = Date.now()
        }
      }
      if (status.newest === null && Date.now() - started > discoverMs)
        throw new ApiError(
          'unavailable',
          `no connected peer announced store ${follower.id} within ${discoverMs / 1000} s; it stays followed and syncs when one does`,
        )
      if (status.newest !== null && Date.now() - lastMove > 60_000)
        throw new ApiError(
          'unavailable',
          `sync of store ${follower.id} stalled: ${status.lastError ?? 'no progress for 60 s'}`,
        )
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  async pinList(): Promise<PinInfo[]> {
    const out: PinInfo[] = []
    for await (const pin of this.#repo.storage.pins())
      out.push({
        cid: pin.cid,
        type: 'recursive',
        ...(pin.name === undefined ? {} : { name: pin.name }),
        time: pin.time,
      })
    for (const info of await this.storeList()) {
      if (info.role === 'sparse' || info.head === null) continue
      out.push({
        cid: info.head,
        type: 'store',
        store: info.id,
        ...(info.names[0] === undefined ? {} : { name: info.names[0] }),
      })
    }
    return out
  }

  async pinRemove({ target }: { target: string }): Promise<PinInfo> {
    const what = await this.#target(target)
    if ('store' in what) {
      if ((await this.#writable()).has(what.store))
        throw new ApiError('conflict', `store ${what.store} is written here: its head is always kept`)
      const handle = await this.#handle(what.store)
      const pin: PinInfo = {
        cid: handle.store.head?.cid ?? handle.store.tree.emptyRoot,
        type: 'store',
        store: what.store,
      }
      await this.storeUnfollow({ store: what.store })
      return pin
    }
    for await (const pin of this.#repo.storage.pins()) {
      if (pin.cid.equals(what.cid)) {
        await this.#repo.storage.unpin(pin.cid)
        return {
          cid: pin.cid,
          type: 'recursive',
          ...(pin.name === undefined ? {} : { name: pin.name }),
          time: pin.time,
        }
      }
    }
    throw new ApiError('not-found', `${what.cid} is not pinned (see \`dagsync pin ls\`)`)
  }

  async pinVerify(onProgress?: OnProgress): Promise<VerifyResult> {
    const roots: { cid: CID; name?: string }[] = []
    for await (const pin of this.#repo.storage.pins())
      roots.push({ cid: pin.cid, ...(pin.name === undefined ? {} : { name: pin.name }) })
    const names = new Map([...(await this.#repo.names())].map(([name, id]) => [id, name]))
    for (const [store, head] of await this.#repo.storage.heads())
      roots.push({ cid: head, name: names.get(store) ?? store })
    let blocks = 0
    let bytes = 0
    const results: VerifyResult['roots'][number][] = []
    for (const root of roots) {
      const check = await checkDag(this.#repo.storage.blockstore, [root.cid], (p) =>
        onProgress?.({ blocks: blocks + p.blocks, bytes: bytes + p.bytes, phase: 'verifying' }),
      )
      blocks += check.blocks
      bytes += check.bytes
      results.push({ ...root, blocks: check.blocks, missing: check.missing, corrupt: check.corrupt })
    }
    const problems = await this.#repo.checkStores()
    const intact = results.every((r) => r.missing.length === 0 && r.corrupt.length === 0)
    return { roots: results, blocks, bytes, problems, ok: intact && problems.length === 0 }
  }

  async gc(request: GcRequest, onProgress?: OnProgress): Promise<GcReport> {
    const keep: { last?: number; since?: number } = {}
    if (request.keepLast !== undefined) {
      if (!Number.isInteger(request.keepLast) || request.keepLast < 1)
        throw new ApiError('bad-request', 'keepLast must be a whole number of at least 1')
      keep.last = request.keepLast
    }
    if (request.keepSince !== undefined) keep.since = request.keepSince
    onProgress?.({ blocks: 0, bytes: 0, phase: 'collecting' })
    try {
      return await collectGarbage(this.#repo.storage, Object.keys(keep).length === 0 ? {} : { keep })
    } catch (err) {
      if ((err as Error).name === 'GcAbortedError')
        throw new ApiError(
          'internal',
          `${(err as Error).message} (\`dagsync pin verify\` lists what is missing or corrupt)`,
          {
            cause: err,
          },
        )
      throw toApiError(err)
    }
  }

  // --- CAR -------------------------------------------------------------------------------------

  /** A commit or block CID from a CID, a store (its head), or `store@seq`. */
  async #root(ref: string): Promise<CID> {
    const at = /^(.+)@(\d+)$/.exec(ref)
    if (at !== null) {
      const handle = await this.#handle(at[1])
      const view = await this.#view(handle, Number(at[2]))
      if (view.commit === null) throw new ApiError('not-found', `store ${at[1]} has no commit ${at[2]}`)
      return view.commit.cid
    }
    const what = await this.#target(ref)
    if ('cid' in what) return what.cid
    const head = (await this.#handle(what.store)).store.head
    if (head === null) throw new ApiError('not-found', `store ${ref} has no commits yet`)
    return head.cid
  }

  async carExport({ root, since }: { root: string; since?: string }): Promise<AsyncIterable<Uint8Array>> {
    const rootCid = await this.#root(root)
    const sinceCid = since === undefined ? undefined : await this.#root(since)
    const storage = this.#repo.storage
    if ((await readBlock(storage.blockstore, rootCid)) === undefined)
      throw new ApiError('not-found', `block ${rootCid} is not in this repo`)
    return exportCar(storage.blockstore, rootCid, sinceCid)
  }

  carImport(
    { pin = true }: { pin?: boolean },
    car: AsyncIterable<Uint8Array>,
    onProgress?: OnProgress,
  ): Promise<CarImportResult> {
    return this.#repo.storage.gcLock.shared(() =>
      importCar(this.#repo.storage, car, { pin, ...(onProgress === undefined ? {} : { onProgress }) }),
    )
  }

  // --- names -----------------------------------------------------------------------------------

  async namePublish({ store }: { store: string }): Promise<NameRecord> {
    const handle = await this.#handle(store)
    if (handle.role !== 'writer')
      throw new ApiError('conflict', `store ${handle.id} is written elsewhere; only its writer publishes it`)
    const node = this.#needNode('publishing a name')
    try {
      const { commit, seq } = await node.publishName(handle.id)
      return { name: handle.id, value: commit, seq }
    } catch (err) {
      throw toApiError(err)
    }
  }

  async nameResolve({ name }: { name: string }): Promise<NameRecord> {
    const id = await this.#resolve(name)
    const node = this.#needNode('resolving a name')
    let commit: CID
    try {
      commit = await node.resolveName(id, { signal: AbortSignal.timeout(10_000) })
    } catch (err) {
      throw new ApiError('not-found', `could not resolve ${id} through IPNS: ${(err as Error).message}`, { cause: err })
    }
    try {
      const bytes = await node.getBlock(commit)
      return { name: id, value: commit, seq: decodeCommit(commit, bytes, true).seq }
    } catch (err) {
      throw new ApiError('not-found', `${id} resolves to ${commit}, which no peer provided: ${(err as Error).message}`)
    }
  }

  // --- remote pinning --------------------------------------------------------------------------

  async remotePinAdd(
    request: RemoteService & { target: string; name?: string; background?: boolean; timeoutMs?: number },
    onProgress?: OnProgress,
  ): Promise<RemotePin> {
    const node = this.#needNode('pinning to a remote service (it fetches the blocks from this node)')
    const cid = await this.#root(request.target)
    return new RemotePinning(request).add(node, cid, request, onProgress, (delegate, err) =>
      this.#init.log?.warn({ delegate, err }, 'the pinning service named a delegate that cannot be dialled'),
    )
  }

  remotePinList(
    request: RemoteService & { status?: readonly string[]; cid?: string; name?: string },
  ): Promise<RemotePin[]> {
    return new RemotePinning(request).list(request)
  }

  remotePinRemove(request: RemoteService & { target: string }): Promise<{ removed: string[] }> {
    return new RemotePinning(request).remove(request.target)
  }

  async close(): Promise<void> {
    // A store that failed to open has nothing to close; its caller got that error already.
    for (const store of this.#offline.values()) await (await store.catch(() => undefined))?.close()
    this.#offline.clear()
  }
}

/** Whether a fetch failed because no peer had the block in time (rather than something broken). */
function isUnavailable(err: unknown): boolean {
  const name = (err as Error).name
  return (
    name === 'BlockNotFoundError' || name === 'LoadBlockFailedError' || name === 'AbortError' || name === 'TimeoutError'
  )
}
