// The operations of a dagsync repo, as one interface with two implementations: `LocalApi`
// works on a repo directly (inside the daemon, or in the CLI when no daemon runs) and
// `HttpClient` calls a running daemon. Values are IPLD data (bytes as Uint8Array, links as CID);
// over HTTP they travel as DAG-JSON. This module imports no runtime code, so a client that only
// needs the types stays light.
import type { CheckedOps, WriteOp } from '@dagsync/store'
import type { CID } from 'multiformats/cid'

/** What kind of failure an error is; each maps to an HTTP status and a CLI exit code. */
export type ApiErrorCode =
  | 'bad-request' // invalid arguments or input: 400, exit 2
  | 'not-found' // unknown store, key, commit or block: 404, exit 3
  | 'unauthorized' // missing or wrong API token, or a writer that refused a remote write: 401, exit 4
  | 'unavailable' // needs the daemon (or a peer) that is not there, or the repo is locked: 503, exit 5
  | 'conflict' // the request contradicts the repo's state (a name already taken...): 409, exit 1
  | 'internal' // anything else: 500, exit 1

export class ApiError extends Error {
  override name = 'ApiError'
  readonly code: ApiErrorCode
  /** For a call that takes a list (a bulk write's ops): the index of the item the error is about. */
  readonly index: number | undefined

  constructor(code: ApiErrorCode, message: string, options?: ErrorOptions & { index?: number }) {
    super(message, options)
    this.code = code
    this.index = options?.index
  }
}

export const HTTP_STATUS: Record<ApiErrorCode, number> = {
  'bad-request': 400,
  unauthorized: 401,
  'not-found': 404,
  conflict: 409,
  internal: 500,
  unavailable: 503,
}

/** A store as `store ls` shows it. */
export interface StoreInfo {
  /** The store's id: the IPNS name of its writer's key (`k51…`). */
  readonly id: string
  /** Local names this repo gives the store. */
  readonly names: readonly string[]
  /** `writer`: this repo holds the key; `replica`: a full copy of someone else's; `sparse`: fetched on read. */
  readonly role: 'writer' | 'replica' | 'sparse'
  /** The commit held here (null before the first). */
  readonly seq: number
  readonly head: CID | null
}

export interface StoreStatus extends StoreInfo {
  /** The newest commit a valid announcement named (replicas), and how far behind this one is. */
  readonly newest: number
  readonly lag: number
  /** Connected peers subscribed to the store. */
  readonly peers: number
  readonly syncing: boolean
  readonly keys: number
  /** Peers allowed to write through this writer. */
  readonly writers: readonly string[]
  readonly lastSync?: {
    readonly seq: number
    readonly ms: number
    readonly path: string
    readonly wireBytes: number
    readonly blocks: number
  }
  readonly lastError?: string
  /** Whether a daemon is syncing it now (false when the CLI reads the repo directly). */
  readonly online: boolean
}

export interface CommitInfo {
  readonly cid: CID
  readonly seq: number
  /** Milliseconds since the Unix epoch. */
  readonly time: number
  readonly tree: CID
  readonly prev: CID | null
  /** What the writer recorded: `by`, the peer whose write it was; `message`, for some commits. */
  readonly meta?: unknown
  /** In a key's history (`log` with `key`): what this commit did to that key. */
  readonly change?: 'added' | 'changed' | 'removed'
}

export interface KeyInfoData {
  readonly key: string | Uint8Array
  readonly type: 'value' | 'binary'
  /** Milliseconds since the Unix epoch. */
  readonly lastWrite: number
  readonly size: number
}

export interface GetResult {
  readonly info: KeyInfoData
  /** Absent for binary values (read those with `getBytes`). */
  readonly value?: unknown
}

export interface ChangeData {
  readonly key: string | Uint8Array
  readonly before?: unknown
  readonly after?: unknown
}

export interface KeysQuery {
  readonly store: string
  readonly prefix?: string
  readonly gt?: string
  readonly gte?: string
  readonly lt?: string
  readonly lte?: string
  readonly reverse?: boolean
  readonly limit?: number
  /** Read at this past version (seq or commit CID) instead of the head. */
  readonly at?: number | CID
}

export type Segment = string | number

export interface PutRequest {
  readonly store: string
  readonly key: string
  /** Set the value at this path inside the key's value (assocIn). */
  readonly path?: readonly Segment[]
  readonly value: unknown
}

/** The result of a write: the commit it made (null if it changed nothing). */
export interface WriteResult {
  readonly commit: CommitInfo | null
}

/** A bulk write: ops applied as one commit (see `transact`). */
export interface TransactRequest {
  readonly store: string
  /** Stored in the commit (author, message...): a small map. */
  readonly meta?: Record<string, unknown>
}

/** Bytes staged in the repo ahead of a commit: `ref` places them with a `put-ref` op. */
export interface StagedBytesInfo {
  readonly ref: CID
  readonly size: number
}

/** A key with its value, as `entries` streams it. */
export interface EntryData {
  readonly info: KeyInfoData
  /** A structured value. */
  readonly value?: unknown
  /** A binary value's bytes, when they are at most `inlineBytes` long (else read them with `getBytes`). */
  readonly bytes?: Uint8Array
}

export interface PinInfo {
  readonly cid: CID
  readonly name?: string
  /** `recursive`: a DAG pinned by CID. `store`: a store kept in full at its latest head. */
  readonly type: 'recursive' | 'store'
  /** For store pins: the store's id. */
  readonly store?: string
  /** Milliseconds since the Unix epoch. */
  readonly time?: number
}

export interface Progress {
  readonly blocks: number
  readonly bytes: number
  /** Blocks this operation expects in all, when it knows. */
  readonly total?: number
  /** A short word on what is happening (fetching, verifying, pinning...). */
  readonly phase?: string
}

export type OnProgress = (progress: Progress) => void

export interface PinAddResult {
  readonly pin: PinInfo
  /** Blocks the DAG has, and those that had to be fetched from peers. */
  readonly blocks: number
  readonly bytes: number
  readonly fetched: number
}

export interface VerifyResult {
  readonly roots: readonly {
    readonly cid: CID
    readonly name?: string
    readonly blocks: number
    readonly missing: readonly CID[]
    readonly corrupt: readonly CID[]
  }[]
  readonly blocks: number
  readonly bytes: number
  /** Stores the repo knew that are gone or damaged in its database (their blocks cannot be checked). */
  readonly problems: readonly StoreProblem[]
  /** No block missing or corrupt, and no problem. */
  readonly ok: boolean
}

export interface GcRequest {
  /** Keep each store's last N commits (the head always). @default all commits */
  readonly keepLast?: number
  /** Keep commits made at or after this time (ms since the epoch). */
  readonly keepSince?: number
}

export interface GcReport {
  readonly commits: number
  readonly keptBlocks: number
  readonly deletedBlocks: number
  readonly deletedBytes: number
}

export interface CarImportResult {
  readonly roots: readonly CID[]
  readonly blocks: number
  readonly bytes: number
  readonly pinned: boolean
}

export interface NameRecord {
  /** The store id (IPNS name). */
  readonly name: string
  /** The commit it points to, and that commit's seq. */
  readonly value: CID
  readonly seq: number
}

export interface PeerInfo {
  readonly id: string
  readonly addresses: readonly string[]
}

export interface IdInfo {
  readonly peerId: string
  /** Addresses peers can dial (empty when the daemon is not running). */
  readonly addresses: readonly string[]
  readonly repo: string
  readonly api?: string
  /** The trustless gateway's URL, when it is on. */
  readonly gateway?: string
  readonly version: string
}

export interface StatusInfo extends IdInfo {
  readonly online: boolean
  readonly uptimeSeconds: number
  readonly peers: number
  /** The stores that can be read (a damaged one is in `problems` instead). */
  readonly stores: readonly StoreStatus[]
  /** Stores the repo knew that are gone or damaged in its database: empty when all is well. */
  readonly problems: readonly StoreProblem[]
}

/** A store the repo knew (its manifest, stores.json, lists it) that its database lost or cannot read. */
export interface StoreProblem {
  /** The store's id. */
  readonly store: string
  readonly names: readonly string[]
  readonly role: StoreInfo['role']
  /**
   * `store-missing`: its key or follow record is gone; `head-missing`: it had commits but its head
   * is gone; `head-behind`: its head is older than a commit it held; `head-unreadable`: its head
   * commit cannot be read; `name-missing`: one of its names is gone.
   */
  readonly kind: 'store-missing' | 'head-missing' | 'head-behind' | 'head-unreadable' | 'name-missing'
  /** What is wrong and what to do. */
  readonly message: string
}

/** How `storeAllow` changes the list: add the peers to it, or make them the whole list. */
export type AllowMode = 'add' | 'replace'

/** Who may write a store besides this node. */
export interface WritersInfo {
  /** Every peer allowed: those set through the API or CLI, and those config.json lists. */
  readonly writers: readonly string[]
  /** The ones config.json's `writers` lists (changed only there, then a restart). */
  readonly configured: readonly string[]
}

/** A remote pinning service (IPFS Pinning Service API). */
export interface RemoteService {
  readonly url: string
  readonly token: string
}

export interface RemotePin {
  readonly requestid: string
  readonly status: 'queued' | 'pinning' | 'pinned' | 'failed'
  readonly cid: string
  readonly name?: string
  readonly created: string
  readonly delegates: readonly string[]
}

/** Everything a repo can be asked, locally or through the daemon. */
export interface Api {
  id(): Promise<IdInfo>
  status(): Promise<StatusInfo>
  peers(): Promise<PeerInfo[]>
  connect(request: { address: string }): Promise<PeerInfo>

  storeCreate(request: { name?: string }): Promise<StoreInfo>
  storeList(): Promise<StoreInfo[]>
  storeFollow(request: { id: string; name?: string; sparse?: boolean }): Promise<StoreInfo>
  storeUnfollow(request: { store: string }): Promise<void>
  storeStatus(request: { store: string }): Promise<StoreStatus>
  /** The peers allowed to write to a store this repo writes (besides this node). */
  storeWriters(request: { store: string }): Promise<WritersInfo>
  /**
   * Allows peers to write to a store this repo writes. `mode: 'add'` adds them to those allowed;
   * `'replace'` makes them the whole list (and is what a request without `mode` does, as it did
   * before `add` existed: the CLI always sends a mode).
   */
  storeAllow(request: { store: string; peers: readonly string[]; mode?: AllowMode }): Promise<WritersInfo>
  /** Stops peers from writing to a store this repo writes; a peer that config.json allows is refused (409). */
  storeDeny(request: { store: string; peers: readonly string[] }): Promise<WritersInfo>
  storeName(request: { store: string; name: string }): Promise<StoreInfo>

  get(request: { store: string; key: string; path?: readonly Segment[]; at?: number | CID }): Promise<GetResult>
  getBytes(request: { store: string; key: string | Uint8Array; at?: number | CID }): Promise<AsyncIterable<Uint8Array>>
  put(request: PutRequest): Promise<WriteResult>
  putBytes(request: { store: string; key: string }, bytes: AsyncIterable<Uint8Array>): Promise<WriteResult>
  del(request: { store: string; key: string }): Promise<WriteResult>
  /**
   * Applies ops (put, put-in, delete, put-bytes, put-ref: `WriteOp` of @dagsync/store) as one
   * commit, within the store's bulk limits; an op refused fails them all, with its index.
   */
  transact(request: TransactRequest, ops: readonly WriteOp[] | CheckedOps): Promise<WriteResult>
  /** Writes bytes into the repo, uncommitted, for a later `put-ref` op to place (see stageBytes in @dagsync/store). */
  stageBytes(request: { store: string }, bytes: AsyncIterable<Uint8Array>): Promise<StagedBytesInfo>
  /** Keys in order with their values; binary values up to `inlineBytes` (default 0) with their bytes. */
  entries(request: KeysQuery & { inlineBytes?: number }): AsyncIterable<EntryData>
  keys(request: KeysQuery): AsyncIterable<KeyInfoData>
  /** Commits, newest first; with `key`, only those that added, changed or removed it. */
  log(request: { store: string; limit?: number; key?: string }): AsyncIterable<CommitInfo>
  diff(request: { store: string; from: number | CID; to?: number | CID }): AsyncIterable<ChangeData>

  pinAdd(request: { target: string; name?: string }, onProgress?: OnProgress): Promise<PinAddResult>
  pinList(): Promise<PinInfo[]>
  pinRemove(request: { target: string }): Promise<PinInfo>
  pinVerify(onProgress?: OnProgress): Promise<VerifyResult>
  gc(request: GcRequest, onProgress?: OnProgress): Promise<GcReport>

  carExport(request: { root: string; since?: string }): Promise<AsyncIterable<Uint8Array>>
  carImport(
    request: { pin?: boolean },
    car: AsyncIterable<Uint8Array>,
    onProgress?: OnProgress,
  ): Promise<CarImportResult>

  namePublish(request: { store: string }): Promise<NameRecord>
  nameResolve(request: { name: string }): Promise<NameRecord>

  remotePinAdd(
    request: RemoteService & { target: string; name?: string; background?: boolean; timeoutMs?: number },
    onProgress?: OnProgress,
  ): Promise<RemotePin>
  remotePinList(
    request: RemoteService & { status?: readonly string[]; cid?: string; name?: string },
  ): Promise<RemotePin[]>
  remotePinRemove(request: RemoteService & { target: string }): Promise<{ removed: readonly string[] }>

  close(): Promise<void>
}
