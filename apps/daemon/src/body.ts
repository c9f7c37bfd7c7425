// Reading a JSON call's body with a size limit, before any of it is parsed: DAG-JSON is decoded
// on the event loop, so an unbounded body would stall every other request (a 50 MiB value held
// /health for 16 s). The limit is checked against Content-Length when there is one, and counted
// as the bytes arrive otherwise; a body over it is never held in memory.
import { ApiError } from './api.ts'
import { MAX_JSON_BODY_BYTES } from './wire.ts'

/** A JSON call whose body is over the limit: a large value belongs in the binary API. */
export class BodyTooLargeError extends ApiError {
  override name = 'BodyTooLargeError'

  constructor(limit: number) {
    super(
      'bad-request',
      `the request body is over ${limit / 1024} KiB, the limit for JSON calls: store a larger value as bytes ` +
        '(putBytes; `dagsync put <store> <key> --file <path>`)',
    )
  }
}

/**
 * A refused body sent without a length (chunked) is read to its end and dropped, up to this much,
 * before the answer is sent: a client still streaming when the server answers and closes gets a
 * reset connection instead of the answer (undici does). Dropping costs no parsing; past this,
 * the connection is cut. A body whose declared length is over the limit is refused at once:
 * clients that declare a length read the answer while they send.
 */
const DRAIN_BYTES = 8 * 1024 * 1024

/**
 * The body as text; fails with BodyTooLargeError once it is known to be longer than `limit`
 * (from Content-Length, or as the bytes arrive). Such a body is never held in memory.
 */
export async function readLimitedText(request: Request, limit: number = MAX_JSON_BODY_BYTES): Promise<string> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) throw new BodyTooLargeError(limit)
  if (request.body === null) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.length
      if (size > limit) return await refuse(reader, limit, size)
      chunks.push(value)
    }
  } finally {
    reader.releaseLock()
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads and drops the rest of a body over the limit (up to DRAIN_BYTES), then refuses it. */
async function refuse(reader: ReadableStreamDefaultReader<Uint8Array>, limit: number, read: number): Promise<never> {
  await dropRest(reader, read)
  throw new BodyTooLargeError(limit)
}

/**
 * Reads and drops what is left of a refused body, so the client gets the answer (see
 * DRAIN_BYTES); past DRAIN_BYTES in all (`read` of them already read), cancels it.
 */
export async function dropRest(reader: ReadableStreamDefaultReader<Uint8Array>, read: number): Promise<void> {
  let dropped = read
  while (dropped <= DRAIN_BYTES) {
    const { done, value } = await reader.read()
    if (done) return
    dropped += value.length
  }
  await reader.cancel().catch(() => undefined)
}
