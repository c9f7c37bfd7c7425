/**
 * @packageDocumentation
 *
 * A client of a running dagsync daemon's HTTP API, with the same `Api` as the daemon's own.
 * It loads no networking code, so scripts and the CLI start fast.
 *
 * @example
 * ```ts
 * import { HttpClient } from '@dagsync/daemon/client'
 *
 * const api = new HttpClient({ url: 'http://127.0.0.1:5011', token: process.env.DAGSYNC_API_TOKEN })
 * await api.put({ store: 'demo', key: 'greeting', value: 'hello' })
 * console.log((await api.get({ store: 'demo', key: 'greeting' })).value)
 * ```
 */

import type { CheckedOps, WriteOp } from '@dagsync/store/ops'
import * as dagCbor from '@ipld/dag-cbor'
import { varint } from 'multiformats'
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
import { ApiError } from './api.ts'
import { API_PREFIX, decodeWire, encodeWire, errorFrom, type MethodName, OPS_CBOR, streamOf } from './wire.ts'

export * from './api.ts'
export { apiUrl, type HostPort, parseHostPort } from './api-address.ts'
export { plural } from './plural.ts'
export { decodeWire, encodeWire, MAX_JSON_BODY_BYTES } from './wire.ts'

/** A daemon's answer to one call, as HttpClient reads it. */
export interface HttpReply {
  readonly status: number
  readonly statusText: string
  /** The body, chunk by chunk (read it or `text()`, not both). */
  readonly body: AsyncIterable<Uint8Array>
  text(): Promise<string>
}

/** One POST to the daemon; rejects only if it cannot be sent (the daemon is not there). */
export type HttpPost = (
  url: string,
  init: { readonly headers: Record<string, string>; readonly body: string | AsyncIterable<Uint8Array> },
) => Promise<HttpReply>

/** A POST through `fetch`: browsers, Deno, Node. */
export const fetchPost: HttpPost = async (url, { headers, body }) => {
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : (streamOf(body) as unknown as BodyInit),
    duplex: 'half',
  } as RequestInit)
  return {
    status: response.status,
    statusText: response.statusText,
    body: (response.body ?? streamOf((async function* () {})())) as unknown as AsyncIterable<Uint8Array>,
    text: () => response.text(),
  }
}

export interface HttpClientInit {
  /** The daemon's API URL, e.g. http://127.0.0.1:5011. */
  readonly url: string
  /** The repo's API token, needed for calls that change state. */
  readonly token?: string
  /** Where the URL came from (`--api`, `DAGSYNC_API`), named when the daemon cannot be reached. */
  readonly source?: string
  /** How a call is sent. @default fetchPost (the CLI passes one on node:http, which loads faster than fetch) */
  readonly post?: HttpPost
}

async function* lines(body: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true })
    let end = buffered.indexOf('\n')
    while (end >= 0) {
      const line = buffered.slice(0, end)
      buffered = buffered.slice(end + 1)
      if (line !== '') yield decodeWire(line)
      end = buffered.indexOf('\n')
    }
  }
  if (buffered.trim() !== '') yield decodeWire(buffered)
}

/** Ops as a transact body: each in DAG-CBOR after its length, sent in pieces of about 64 KiB. */
async function* cborOps(ops: readonly WriteOp[]): AsyncGenerator<Uint8Array> {
  // The tree's encoder is byte-identical to @ipld/dag-cbor's and several times faster; it holds a
  // value to the store's limits, one level deeper here, so a value at the depth limit falls back.
  const { concatBytes, encodeValue } = await import('@dagsync/tree')
  const encode = (op: WriteOp): Uint8Array => {
    try {
      return encodeValue(op)
    } catch {
      return dagCbor.encode(op)
    }
  }
  let piece: Uint8Array[] = []
  let size = 0
  for (const op of ops) {
    const bytes = encode(op)
    const length = varint.encodeTo(bytes.length, new Uint8Array(varint.encodingLength(bytes.length)))
    piece.push(length, bytes)
    size += length.length + bytes.length
    if (size >= 64 * 1024) {
      yield concatBytes(piece)
      piece = []
      size = 0
    }
  }
  if (size > 0) yield concatBytes(piece)
}

function isError(item: unknown): boolean {
  return item !== null && typeof item === 'object' && 'error' in item
}

export class HttpClient implements Api {
  readonly url: string
  readonly #token: string | undefined
  readonly #source: string | undefined
  readonly #send: HttpPost

  constructor(init: HttpClientInit) {
    this.url = init.url.replace(/\/$/, '')
    this.#token = init.token
    this.#source = init.source
    this.#send = init.post ?? fetchPost
  }

  async #post(
    method: MethodName,
    args: unknown,
    init: { body?: AsyncIterable<Uint8Array>; type?: string } = {},
  ): Promise<HttpReply> {
    const headers: Record<string, string> = {}
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`
    let url = `${this.url}${API_PREFIX}${method}`
    let body: string | AsyncIterable<Uint8Array>
    if (init.body === undefined) {
      headers['content-type'] = 'application/json'
      body = encodeWire(args ?? {})
    } else {
      url += `?args=${encodeURIComponent(encodeWire(args ?? {}))}`
      headers['content-type'] = init.type ?? 'application/octet-stream'
      body = init.body
    }
    let response: HttpReply
    try {
      response = await this.#send(url, { headers, body })
    } catch (err) {
      throw new ApiError(
        'unavailable',
        `cannot reach the daemon at ${this.url}${this.#source === undefined ? '' : ` (from ${this.#source})`}: ${(err as Error).cause ?? (err as Error).message}`,
      )
    }
    if (response.status < 200 || response.status > 299) {
      const text = await response.text()
      let parsed: unknown
      try {
        parsed = decodeWire(text)
      } catch {
        parsed = undefined
      }
      throw errorFrom(parsed, `${response.status} ${response.statusText}`)
    }
    return response
  }

  async #json<T>(method: MethodName, args?: unknown): Promise<T> {
    const response = await this.#post(method, args)
    return decodeWire(await response.text()) as T
  }

  async *#stream<T>(method: MethodName, args: unknown): AsyncGenerator<T> {
    const response = await this.#post(method, args)
    for await (const item of lines(response.body)) {
      if (isError(item)) throw errorFrom(item, 'the stream failed')
      yield item as T
    }
  }

  async #progress<T>(method: MethodName, args: unknown, onProgress?: OnProgress): Promise<T> {
    const response = await this.#post(method, args)
    for await (const item of lines(response.body)) {
      const message = item as { progress?: Parameters<OnProgress>[0]; result?: T }
      if (isError(item)) throw errorFrom(item, 'the call failed')
      if (message.progress !== undefined) onProgress?.(message.progress)
      else if ('result' in message) return message.result as T
    }
    throw new ApiError('internal', `the daemon ended ${method} without a result`)
  }

  id(): Promise<IdInfo> {
    return this.#json('id')
  }
  status(): Promise<StatusInfo> {
    return this.#json('status')
  }
  peers(): Promise<PeerInfo[]> {
    return this.#json('peers')
  }
  connect(request: { address: string }): Promise<PeerInfo> {
    return this.#json('connect', request)
  }
  storeCreate(request: { name?: string }): Promise<StoreInfo> {
    return this.#json('storeCreate', request)
  }
  storeList(): Promise<StoreInfo[]> {
    return this.#json('storeList')
  }
  storeFollow(request: { id: string; name?: string; sparse?: boolean }): Promise<StoreInfo> {
    return this.#json('storeFollow', request)
  }
  async storeUnfollow(request: { store: string }): Promise<void> {
    await this.#json('storeUnfollow', request)
  }
  storeStatus(request: { store: string }): Promise<StoreStatus> {
    return this.#json('storeStatus', request)
  }
  storeWriters(request: { store: string }): Promise<WritersInfo> {
    return this.#json('storeWriters', request)
  }
  storeAllow(request: { store: string; peers: readonly string[]; mode?: AllowMode }): Promise<WritersInfo> {
    return this.#json('storeAllow', request)
  }
  storeDeny(request: { store: string; peers: readonly string[] }): Promise<WritersInfo> {
    return this.#json('storeDeny', request)
  }
  storeName(request: { store: string; name: string }): Promise<StoreInfo> {
    return this.#json('storeName', request)
  }
  get(request: { store: string; key: string; path?: readonly Segment[]; at?: number | CID }): Promise<GetResult> {
    return this.#json('get', request)
  }
  async getBytes(request: {
    store: string
    key: string | Uint8Array
    at?: number | CID
  }): Promise<AsyncIterable<Uint8Array>> {
    return (await this.#post('getBytes', request)).body
  }
  put(request: PutRequest): Promise<WriteResult> {
    return this.#json('put', request)
  }
  async putBytes(request: { store: string; key: string }, bytes: AsyncIterable<Uint8Array>): Promise<WriteResult> {
    return decodeWire(await (await this.#post('putBytes', request, { body: bytes })).text()) as WriteResult
  }
  del(request: { store: string; key: string }): Promise<WriteResult> {
    return this.#json('del', request)
  }
  async transact(request: TransactRequest, ops: readonly WriteOp[] | CheckedOps): Promise<WriteResult> {
    // A checked list's ops (by shape: loading the store's op checks here would load the tree at start).
    const list = 'ops' in ops ? ops.ops : ops
    const response = await this.#post('transact', request, { body: cborOps(list), type: OPS_CBOR })
    return decodeWire(await response.text()) as WriteResult
  }
  async stageBytes(request: { store: string }, bytes: AsyncIterable<Uint8Array>): Promise<StagedBytesInfo> {
    return decodeWire(await (await this.#post('stageBytes', request, { body: bytes })).text()) as StagedBytesInfo
  }
  entries(request: KeysQuery & { inlineBytes?: number }): AsyncIterable<EntryData> {
    return this.#stream('entries', request)
  }
  keys(request: KeysQuery): AsyncIterable<KeyInfoData> {
    return this.#stream('keys', request)
  }
  log(request: { store: string; limit?: number; key?: string }): AsyncIterable<CommitInfo> {
    return this.#stream('log', request)
  }
  diff(request: { store: string; from: number | CID; to?: number | CID }): AsyncIterable<ChangeData> {
    return this.#stream('diff', request)
  }
  pinAdd(request: { target: string; name?: string }, onProgress?: OnProgress): Promise<PinAddResult> {
    return this.#progress('pinAdd', request, onProgress)
  }
  pinList(): Promise<PinInfo[]> {
    return this.#json('pinList')
  }
  pinRemove(request: { target: string }): Promise<PinInfo> {
    return this.#json('pinRemove', request)
  }
  pinVerify(onProgress?: OnProgress): Promise<VerifyResult> {
    return this.#progress('pinVerify', {}, onProgress)
  }
  gc(request: GcRequest, onProgress?: OnProgress): Promise<GcReport> {
    return this.#progress('gc', request, onProgress)
  }
  async carExport(request: { root: string; since?: string }): Promise<AsyncIterable<Uint8Array>> {
    return (await this.#post('carExport', request)).body
  }
  async carImport(request: { pin?: boolean }, car: AsyncIterable<Uint8Array>): Promise<CarImportResult> {
    return decodeWire(await (await this.#post('carImport', request, { body: car })).text()) as CarImportResult
  }
  namePublish(request: { store: string }): Promise<NameRecord> {
    return this.#json('namePublish', request)
  }
  nameResolve(request: { name: string }): Promise<NameRecord> {
    return this.#json('nameResolve', request)
  }
  remotePinAdd(
    request: RemoteService & { target: string; name?: string; background?: boolean; timeoutMs?: number },
    onProgress?: OnProgress,
  ): Promise<RemotePin> {
    return this.#progress('remotePinAdd', request, onProgress)
  }
  remotePinList(
    request: RemoteService & { status?: readonly string[]; cid?: string; name?: string },
  ): Promise<RemotePin[]> {
    return this.#json('remotePinList', request)
  }
  remotePinRemove(request: RemoteService & { target: string }): Promise<{ removed: readonly string[] }> {
    return this.#json('remotePinRemove', request)
  }
  async close(): Promise<void> {}
}
