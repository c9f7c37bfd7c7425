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
 * The body as text; fails with BodyTooLargeError as soon as it is known to be longer than
 * `limit`. What is left of such a body is not read here: the server drains and drops it after
 * answering (a client still sending gets its answer rather than a reset connection).
 */
export async function readLimitedText(request: Request, limit: number = MAX_JSON_BODY_BYTES): Promise<string> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) throw new BodyTooLargeError(limit)
  if (request.body === null) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.length
      if (size > limit) throw new BodyTooLargeError(limit)
      chunks.push(value)
    }
  } finally {
    reader.releaseLock()
  }
  return Buffer.concat(chunks).toString('utf8')
}
