// The body of a `transact` call: NDJSON, one op per line in DAG-JSON (`{"op": "put", "key": "a",
// "value": 1}`; bytes as {"/": {"bytes": "<base64>"}}, a CID as {"/": "bafy..."}). It is parsed
// as it arrives, a line at a time, and each op is checked and counted against the store's bulk
// limits at once: memory holds one line and the ops so far (at most MAX_BULK_OPS, MAX_BULK_BYTES),
// and a body past a limit is refused at the op that passes it, not after it has all been read.
import { BulkBudget, parseOp, type WriteOp } from '@dagsync/store'
import { ApiError } from './api.ts'
import { dropRest } from './body.ts'
import { toApiError } from './convert.ts'
import { decodeWire, MAX_JSON_BODY_BYTES } from './wire.ts'

/**
 * The longest line: a JSON call's limit (64 KiB), for the same reason (a line is decoded on the
 * event loop in one go). A larger binary value is staged (`stageBytes`) and placed by `put-ref`.
 */
export const MAX_OP_LINE_BYTES = MAX_JSON_BODY_BYTES

/**
 * The most a body may hold in all, blank lines and JSON's verbosity included: the ops' limits
 * bound what they carry, this bounds what is read to find them.
 */
export const MAX_OPS_BODY_BYTES = 8 * 1024 * 1024

/** Decoding between yields to the event loop: other requests wait at most about this long. */
const SLICE_MS = 10

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * The ops of an NDJSON body, checked. A bad line fails the call with ApiError('bad-request')
 * naming the line, with `index` the op's place among the ops; what is left of the body is read
 * and dropped first, so the client gets the answer. Blank lines are skipped.
 */
export async function readOpsBody(body: ReadableStream<Uint8Array> | null): Promise<WriteOp[]> {
  const ops: WriteOp[] = []
  if (body === null) return ops
  const reader = body.getReader()
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const budget = new BulkBudget()
  let line = 0
  let read = 0
  let pending = ''
  let slice = performance.now()
  const take = (text: string): void => {
    line++
    if (text.trim() === '') return
    const index = ops.length
    const fail = (message: string, err?: unknown): never => {
      throw new ApiError('bad-request', `line ${line}: ${message}`, {
        index,
        ...(err === undefined ? {} : { cause: err }),
      })
    }
    if (Buffer.byteLength(text) > MAX_OP_LINE_BYTES) tooLong(line, index)
    let value: unknown
    try {
      value = decodeWire(text)
    } catch (err) {
      fail((err as Error).message, err)
    }
    try {
      const op = parseOp(value, index)
      budget.add(op, index)
      ops.push(op)
    } catch (err) {
      fail(toApiError(err).message, err)
    }
  }
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      read += value.length
      if (read > MAX_OPS_BODY_BYTES)
        throw new ApiError(
          'bad-request',
          `the body is over ${MAX_OPS_BODY_BYTES / 1024 / 1024} MiB, the most one transact call reads: send fewer ops per call`,
          { index: ops.length },
        )
      try {
        pending += decoder.decode(value, { stream: true })
      } catch {
        throw new ApiError('bad-request', `line ${line + 1}: not UTF-8 text`, { index: ops.length })
      }
      let start = 0
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n', start)) {
        take(pending.slice(start, end))
        start = end + 1
        if (performance.now() - slice > SLICE_MS) {
          await yieldToLoop()
          slice = performance.now()
        }
      }
      pending = pending.slice(start)
      // A line that has not ended is held whole: refuse it once it cannot fit.
      if (pending.length > MAX_OP_LINE_BYTES) tooLong(line + 1, ops.length)
    }
    pending += decoder.decode()
    if (pending !== '') take(pending)
  } catch (err) {
    await dropRest(reader, read)
    throw err
  } finally {
    reader.releaseLock()
  }
  return ops
}

function tooLong(line: number, index: number): never {
  throw new ApiError(
    'bad-request',
    `line ${line}: over ${MAX_OP_LINE_BYTES / 1024} KiB, the longest op line: stage a large binary value (stageBytes) and place it with a put-ref op`,
    { index },
  )
}
