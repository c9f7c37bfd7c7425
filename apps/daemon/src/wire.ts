// The HTTP API's shape, shared by the server and the client.
//
//   POST /api/v1/<method>   body: the arguments, one DAG-JSON object
//     json      → 200 and the result as DAG-JSON
//     stream    → 200 and NDJSON: one DAG-JSON item per line; a failure part way is a line {"error": {...}}
//     progress  → 200 and NDJSON: {"progress": {...}} lines, then {"result": ...} or {"error": {...}}
//     download  → 200 and the bytes (application/octet-stream, or a CAR)
//     upload    → the arguments in the `args` query parameter, the bytes as the body; 200 and DAG-JSON
//                 (transact's body is ops: NDJSON, or length-prefixed DAG-CBOR; see ops-body.ts)
//   errors      → 4xx/5xx and {"error": {"code": ..., "message": ..., "index"?: the op at fault}}
//
// Methods that change state or contact other hosts need `Authorization: Bearer <token>` (the
// repo's api-token file).
// DAG-JSON is JSON in which bytes are {"/": {"bytes": "<base64>"}} and links {"/": "<cid>"}.
import * as dagJson from '@ipld/dag-json'
import { ApiError, type ApiErrorCode } from './api.ts'

export type MethodKind = 'json' | 'stream' | 'progress' | 'download' | 'upload'

/**
 * Each method's shape, and what it may do: `mutates`, it changes the repo's state; `remote`, it
 * makes the daemon contact other hosts (peers, a pinning service), often ones the caller names.
 * Either needs the API token (see `needsToken`).
 */
export const METHODS = {
  id: { kind: 'json', mutates: false, remote: false },
  status: { kind: 'json', mutates: false, remote: false },
  peers: { kind: 'json', mutates: false, remote: false },
  connect: { kind: 'json', mutates: true, remote: true },
  storeCreate: { kind: 'json', mutates: true, remote: false },
  storeList: { kind: 'json', mutates: false, remote: false },
  storeFollow: { kind: 'json', mutates: true, remote: true },
  storeUnfollow: { kind: 'json', mutates: true, remote: false },
  storeStatus: { kind: 'json', mutates: false, remote: false },
  storeWriters: { kind: 'json', mutates: false, remote: false },
  storeAllow: { kind: 'json', mutates: true, remote: false },
  storeDeny: { kind: 'json', mutates: true, remote: false },
  storeName: { kind: 'json', mutates: true, remote: false },
  get: { kind: 'json', mutates: false, remote: false },
  getBytes: { kind: 'download', mutates: false, remote: false },
  put: { kind: 'json', mutates: true, remote: false },
  putBytes: { kind: 'upload', mutates: true, remote: false },
  del: { kind: 'json', mutates: true, remote: false },
  transact: { kind: 'upload', mutates: true, remote: false },
  stageBytes: { kind: 'upload', mutates: true, remote: false },
  entries: { kind: 'stream', mutates: false, remote: false },
  keys: { kind: 'stream', mutates: false, remote: false },
  log: { kind: 'stream', mutates: false, remote: false },
  diff: { kind: 'stream', mutates: false, remote: false },
  pinAdd: { kind: 'progress', mutates: true, remote: true },
  pinList: { kind: 'json', mutates: false, remote: false },
  pinRemove: { kind: 'json', mutates: true, remote: false },
  pinVerify: { kind: 'progress', mutates: false, remote: false },
  gc: { kind: 'progress', mutates: true, remote: false },
  carExport: { kind: 'download', mutates: false, remote: false },
  carImport: { kind: 'upload', mutates: true, remote: false },
  namePublish: { kind: 'json', mutates: true, remote: true },
  nameResolve: { kind: 'json', mutates: false, remote: true },
  remotePinAdd: { kind: 'progress', mutates: true, remote: true },
  remotePinList: { kind: 'json', mutates: false, remote: true },
  remotePinRemove: { kind: 'json', mutates: true, remote: true },
} as const satisfies Record<string, { kind: MethodKind; mutates: boolean; remote: boolean }>

export type MethodName = keyof typeof METHODS

export const API_PREFIX = '/api/v1/'

/**
 * The largest body a JSON call takes: 64 KiB. Its DAG-JSON is decoded on the daemon's event loop
 * before anything else, and 64 KiB of the slowest shapes (deeply nested lists) decode in about
 * 30 ms, so the daemon keeps answering during any write it accepts. Larger values go through the
 * binary API (`putBytes`), which streams. A value this size always fits in one block
 * (MAX_BLOCK_BYTES): its DAG-CBOR is at most 9/4 of its JSON (`1.5,` is 4 characters and 9 bytes).
 */
export const MAX_JSON_BODY_BYTES = 64 * 1024

/**
 * The Content-Type of a transact body of ops in DAG-CBOR, each after its length as an unsigned
 * varint (the default, application/x-ndjson, is one DAG-JSON op per line): see ops-body.ts.
 */
export const OPS_CBOR = 'application/vnd.dagsync.ops+cbor'

/** Whether a call needs the API token: it changes state, or it makes the daemon contact other hosts. */
export function needsToken(method: MethodName): boolean {
  const { mutates, remote } = METHODS[method]
  return mutates || remote
}

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()

/** A value as DAG-JSON text. Undefined fields are left out (DAG-JSON has no undefined). */
export function encodeWire(value: unknown): string {
  return fromUtf8.decode(dagJson.encode(dropUndefined(value)))
}

export function decodeWire(text: string): unknown {
  try {
    return dagJson.decode(utf8.encode(text))
  } catch (err) {
    throw new ApiError('bad-request', `not valid DAG-JSON: ${(err as Error).message}`)
  }
}

function dropUndefined(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value
  if ('/' in value || (value as { asCID?: unknown }).asCID !== undefined) return value
  if (Array.isArray(value)) return value.map(dropUndefined)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = dropUndefined(v)
  return out
}

export function errorBody(err: ApiError): { error: { code: ApiErrorCode; message: string; index?: number } } {
  return { error: { code: err.code, message: err.message, ...(err.index === undefined ? {} : { index: err.index }) } }
}

/** The ApiError an `{error: {code, message, index?}}` body describes. */
export function errorFrom(body: unknown, fallback: string): ApiError {
  const error = (body as { error?: { code?: string; message?: string; index?: unknown } } | null)?.error
  const codes: ApiErrorCode[] = ['bad-request', 'not-found', 'unauthorized', 'unavailable', 'conflict', 'internal']
  const code = codes.find((c) => c === error?.code) ?? 'internal'
  const index = Number.isSafeInteger(error?.index) ? { index: error?.index as number } : {}
  return new ApiError(code, error?.message ?? fallback, index)
}

/** An async iterable of bytes as a web stream (for fetch bodies and responses). */
export function streamOf(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next()
        if (next.done === true) controller.close()
        else controller.enqueue(next.value)
      } catch (err) {
        controller.error(err)
      }
    },
    async cancel(reason) {
      await iterator.return?.(reason)
    },
  })
}
