// The API on an open repo. Inside the daemon it has a running node (stores are served and
// followed live, blocks come from peers); in the CLI without a daemon it works offline on the
// repo alone, and the operations that need the network say so. Each area lives in its own module
// under local/; this class only holds the shared context and hands each call to its area.
import type { CheckedOps, WriteOp } from '@dagsync/store'
import type { CID } from 'multiformats/cid'
import type {
  AllowMode,
  Api,
  CarImportResult,
  ChangeData,
  CommitInfo,
  EntryData,
  GcReport,
  GcRequest,
  GetResult,
  IdInfo,
  KeyInfoData,
  KeysQuery,
  NameRecord,
  OnProgress,
  PeerInfo,
  PinAddResult,
  PinInfo,
  PutRequest,
  RemotePin,
  RemoteService,
  Segment,
  StagedBytesInfo,
  StatusInfo,
  StoreInfo,
  StoreStatus,
  TransactRequest,
  VerifyResult,
  WriteResult,
  WritersInfo,
} from './api.ts'
import { carExport, carImport } from './local/cars.ts'
import { gc, pinVerify } from './local/collect.ts'
import { type LocalApiInit, LocalContext } from './local/context.ts'
import { namePublish, nameResolve } from './local/ipns.ts'
import { connect, id, peers, status } from './local/node-info.ts'
import { pinAdd, pinList, pinRemove } from './local/pins.ts'
import { diff, entries, get, getBytes, keys, log } from './local/reads.ts'
import { remotePinAdd, remotePinList, remotePinRemove } from './local/remote-pinning.ts'
import { storeAllow, storeDeny, storeWriters, writersOf } from './local/store-writers.ts'
import { storeCreate, storeFollow, storeList, storeName, storeStatus, storeUnfollow } from './local/stores.ts'
import { del, put, putBytes, stageBytes, transact } from './local/writes.ts'

export type { LocalApiInit } from './local/context.ts'

export class LocalApi implements Api {
  readonly #ctx: LocalContext
  /** The daemon's API URL, once it listens (for `id`). */
  apiUrl: string | undefined
  /** The trustless gateway's URL, once it listens (for `id`). */
  gatewayUrl: string | undefined

  constructor(init: LocalApiInit) {
    this.#ctx = new LocalContext(init)
  }

  // node
  id(): Promise<IdInfo> {
    return id(this.#ctx, this.apiUrl, this.gatewayUrl)
  }
  status(): Promise<StatusInfo> {
    return status(this.#ctx, this.apiUrl, this.gatewayUrl)
  }
  peers(): Promise<PeerInfo[]> {
    return peers(this.#ctx)
  }
  connect(request: { address: string }): Promise<PeerInfo> {
    return connect(this.#ctx, request)
  }

  // stores
  storeCreate(request: { name?: string }): Promise<StoreInfo> {
    return storeCreate(this.#ctx, request)
  }
  storeList(): Promise<StoreInfo[]> {
    return storeList(this.#ctx)
  }
  storeFollow(request: { id: string; name?: string; sparse?: boolean }): Promise<StoreInfo> {
    return storeFollow(this.#ctx, request)
  }
  storeUnfollow(request: { store: string }): Promise<void> {
    return storeUnfollow(this.#ctx, request)
  }
  storeStatus(request: { store: string }): Promise<StoreStatus> {
    return storeStatus(this.#ctx, request)
  }
  storeName(request: { store: string; name: string }): Promise<StoreInfo> {
    return storeName(this.#ctx, request)
  }

  // writers
  /** The peers allowed to write a store: those set with `store allow`, and the config's. */
  writersOf(store: string): Promise<string[]> {
    return writersOf(this.#ctx, store)
  }
  storeWriters(request: { store: string }): Promise<WritersInfo> {
    return storeWriters(this.#ctx, request)
  }
  storeAllow(request: { store: string; peers: readonly string[]; mode?: AllowMode }): Promise<WritersInfo> {
    return storeAllow(this.#ctx, request)
  }
  storeDeny(request: { store: string; peers: readonly string[] }): Promise<WritersInfo> {
    return storeDeny(this.#ctx, request)
  }

  // reads
  get(request: { store: string; key: string; path?: readonly Segment[]; at?: number | CID }): Promise<GetResult> {
    return get(this.#ctx, request)
  }
  getBytes(request: {
    store: string
    key: string | Uint8Array
    at?: number | CID
  }): Promise<AsyncIterable<Uint8Array>> {
    return getBytes(this.#ctx, request)
  }
  keys(query: KeysQuery): AsyncGenerator<KeyInfoData> {
    return keys(this.#ctx, query)
  }
  entries(query: KeysQuery & { inlineBytes?: number }): AsyncGenerator<EntryData> {
    return entries(this.#ctx, query)
  }
  log(request: { store: string; limit?: number; key?: string }): AsyncGenerator<CommitInfo> {
    return log(this.#ctx, request)
  }
  diff(request: { store: string; from: number | CID; to?: number | CID }): AsyncGenerator<ChangeData> {
    return diff(this.#ctx, request)
  }

  // writes
  put(request: PutRequest): Promise<WriteResult> {
    return put(this.#ctx, request)
  }
  putBytes(request: { store: string; key: string }, bytes: AsyncIterable<Uint8Array>): Promise<WriteResult> {
    return putBytes(this.#ctx, request, bytes)
  }
  del(request: { store: string; key: string }): Promise<WriteResult> {
    return del(this.#ctx, request)
  }
  transact(request: TransactRequest, ops: readonly WriteOp[] | CheckedOps): Promise<WriteResult> {
    return transact(this.#ctx, request, ops)
  }
  stageBytes(request: { store: string }, bytes: AsyncIterable<Uint8Array>): Promise<StagedBytesInfo> {
    return stageBytes(this.#ctx, request, bytes)
  }

  // pins, verify, gc
  pinAdd(request: { target: string; name?: string }, onProgress?: OnProgress): Promise<PinAddResult> {
    return pinAdd(this.#ctx, request, onProgress)
  }
  pinList(): Promise<PinInfo[]> {
    return pinList(this.#ctx)
  }
  pinRemove(request: { target: string }): Promise<PinInfo> {
    return pinRemove(this.#ctx, request)
  }
  pinVerify(onProgress?: OnProgress): Promise<VerifyResult> {
    return pinVerify(this.#ctx, onProgress)
  }
  gc(request: GcRequest, onProgress?: OnProgress): Promise<GcReport> {
    return gc(this.#ctx, request, onProgress)
  }

  // CAR
  carExport(request: { root: string; since?: string }): Promise<AsyncIterable<Uint8Array>> {
    return carExport(this.#ctx, request)
  }
  carImport(
    request: { pin?: boolean },
    car: AsyncIterable<Uint8Array>,
    onProgress?: OnProgress,
  ): Promise<CarImportResult> {
    return carImport(this.#ctx, request, car, onProgress)
  }

  // names
  namePublish(request: { store: string }): Promise<NameRecord> {
    return namePublish(this.#ctx, request)
  }
  nameResolve(request: { name: string }): Promise<NameRecord> {
    return nameResolve(this.#ctx, request)
  }

  // remote pinning
  remotePinAdd(
    request: RemoteService & { target: string; name?: string; background?: boolean; timeoutMs?: number },
    onProgress?: OnProgress,
  ): Promise<RemotePin> {
    return remotePinAdd(this.#ctx, request, onProgress)
  }
  remotePinList(
    request: RemoteService & { status?: readonly string[]; cid?: string; name?: string },
  ): Promise<RemotePin[]> {
    return remotePinList(request)
  }
  remotePinRemove(request: RemoteService & { target: string }): Promise<{ removed: string[] }> {
    return remotePinRemove(request)
  }

  close(): Promise<void> {
    return this.#ctx.close()
  }
}
