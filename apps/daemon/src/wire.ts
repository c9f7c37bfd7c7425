// The HTTP API's shape, shared by the server and the client.
//
//   POST /api/v1/<method>   body: the arguments, one DAG-JSON object
//     json      → 200 and the result as DAG-JSON
//     stream    → 200 and NDJSON: one DAG-JSON item per line; a failure part way is a line {"error": {...}}
//     progress  → 200 and NDJSON: {"progress": {...}} lines, then {"result": ...} or {"error": {...}}
//     download  → 200 and the bytes (application/octet-stream, or a CAR)
//     upload    → the arguments in the `args` query parameter, the bytes as the body; 200 and DAG-JSON
//   errors      → 4xx/5xx and {"error": {"code": ..., "message": ...}}
//
// Methods that change state need `Authorization: Bearer <token>` (the repo's api-token file).
// DAG-JSON is JSON in which bytes are {"/": {"bytes": "<base64>"}} and links {"/": "<cid>"}.
import * as dagJson from '@ipld/dag-json'
import { ApiError, type ApiErrorCode } from './api.ts'

export type MethodKind = 'json' | 'stream' | 'progress' | 'download' | 'upload'

export const METHODS = {
  id: { kind: 'json', mutates: false },
  status: { kind: 'json', mutates: false },
  peers: { kind: 'json', mutates: false },
  connect: { kind: 'json', mutates: true },
  storeCreate: { kind: 'json', mutates: true },
  storeList: { kind: 'json', mutates: false },
  storeFollow: { kind: 'json', mutates: true },
  storeUnfollow: { kind: 'json', mutates: true },
  storeStatus: { kind: 'json', mutates: false },
  storeAllow: { kind: 'json', mutates: true },
  storeName: { kind: 'json', mutates: true },
  get: { kind: 'json', mutates: false },
  getBytes: { kind: 'download', mutates: false },
  put: { kind: 'json', mutates: true },
  putBytes: { kind: 'upload', mutates: true },
  del: { kind: 'json', mutates: true },
  keys: { kind: 'stream', mutates: false },
  log: { kind: 'stream', mutates: false },
  diff: { kind: 'stream', mutates: false },
  pinAdd: { kind: 'progress', mutates: true },
  pinList: { kind: 'json', mutates: false },
  pinRemove: { kind: 'json', mutates: true },
  pinVerify: { kind: 'progress', mutates: false },
  gc: { kind: 'progress', mutates: true },
  carExport: { kind: 'download', mutates: false },
  carImport: { kind: 'upload', mutates: true },
  namePublish: { kind: 'json', mutates: true },
  nameResolve: { kind: 'json', mutates: false },
  remotePinAdd: { kind: 'progress', mutates: true },
  remotePinList: { kind: 'json', mutates: false },
  remotePinRemove: { kind: 'json', mutates: true },
} as const satisfies Record<string, { kind: MethodKind; mutates: boolean }>

export type MethodName = keyof typeof METHODS

export const API_PREFIX = '/api/v1/'

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

export function errorBody(err: ApiError): { error: { code: ApiErrorCode; message: string } } {
  return { error: { code: err.code, message: err.message } }
}

/** The ApiError an `{error: {code, message}}` body describes. */
export function errorFrom(body: unknown, fallback: string): ApiError {
  const error = (body as { error?: { code?: string; message?: string } } | null)?.error
  const codes: ApiErrorCode[] = ['bad-request', 'not-found', 'unauthorized', 'unavailable', 'conflict', 'internal']
  const code = codes.find((c) => c === error?.code) ?? 'internal'
  return new ApiError(code, error?.message ?? fallback)
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
