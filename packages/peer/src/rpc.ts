// Request / streamed-reply over a libp2p stream, the shape of dagsync's protocols: the client
// writes one DAG-CBOR request; the server answers with any number of DAG-CBOR messages and then
// `{n: count}`, or `{e: code, m: message}` if it fails. Messages are length-prefixed and at most
// MAX_MESSAGE_BYTES. An explicit end marker means a stream that stops early is an error, never
// a short answer taken for a whole one.
import * as dagCbor from '@ipld/dag-cbor'
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { ProtocolError, RemoteError } from './errors.ts'

/** A block (up to 1 MiB) and its framing fit in one message. */
export const MAX_MESSAGE_BYTES = 2 * 1024 * 1024

/** How long a server waits for a request once a stream is open. */
const REQUEST_TIMEOUT_MS = 10_000

/** Replies are written in batches of this many messages or bytes (one write each). */
const BATCH_MESSAGES = 64
const BATCH_BYTES = 256 * 1024

export type Message = Record<string, unknown>

/** An error a handler throws to answer with a specific code. */
export class ServeError extends Error {
  readonly code: string

  constructor(code: string, message: string) {
    super(message)
    this.code = code
  }
}

function decode(bytes: Uint8Array): Message {
  let message: unknown
  try {
    message = dagCbor.decode(bytes)
  } catch (err) {
    throw new ProtocolError(`message is not valid DAG-CBOR: ${(err as Error).message}`)
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message))
    throw new ProtocolError('message is not a map')
  return message as Message
}

/** Sends `request` to `peer` and yields its reply messages, up to (not including) the end marker. */
export async function* call(
  libp2p: Libp2p,
  peer: PeerId,
  protocol: string,
  request: Message,
  options: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
): AsyncGenerator<Message> {
  const stream = await libp2p.dialProtocol(peer, protocol, options)
  const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_BYTES, maxBufferSize: 2 * MAX_MESSAGE_BYTES })
  let ended = false
  try {
    await lp.write(dagCbor.encode(request), options)
    for (;;) {
      let bytes: Uint8Array
      try {
        bytes = (await lp.read(options)).subarray()
      } catch (err) {
        if ((err as Error).name === 'UnexpectedEOFError')
          throw new ProtocolError(`${peer} ended the ${protocol} stream before its end marker`)
        throw err
      }
      // What this message took on the wire: its bytes and the varint length before them.
      options.onBytes?.(bytes.length + Math.ceil(Math.max(1, Math.log2(bytes.length + 1)) / 7))
      const message = decode(bytes)
      if (typeof message.e === 'string') throw new RemoteError(message.e, String(message.m ?? ''))
      if (message.n !== undefined) {
        ended = true
        return
      }
      yield message
    }
  } finally {
    if (ended) await stream.close().catch(() => stream.abort(new Error('close failed')))
    else stream.abort(new Error('request ended early'))
  }
}

/** Serves `protocol`: each request's reply is what `handler` yields, then the end marker. */
export async function serve(
  libp2p: Libp2p,
  protocol: string,
  handler: (request: Message, connection: Connection) => AsyncIterable<Message>,
  options: {
    maxInboundStreams?: number
    /** Called after each reply is sent in full, with its messages and bytes (end marker included). */
    onServed?: (messages: number, bytes: number) => void
  } = {},
): Promise<void> {
  await libp2p.handle(
    protocol,
    async (stream: Stream, connection: Connection) => {
      const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_BYTES, maxBufferSize: 2 * MAX_MESSAGE_BYTES })
      let pending: Uint8Array[] = []
      let size = 0
      let count = 0
      let sent = 0
      const flush = async (): Promise<void> => {
        if (pending.length === 0) return
        const batch = pending
        pending = []
        size = 0
        await lp.writeV(batch)
      }
      try {
        const request = decode((await lp.read({ signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })).subarray())
        for await (const reply of handler(request, connection)) {
          const bytes = dagCbor.encode(reply)
          pending.push(bytes)
          size += bytes.length
          sent += bytes.length
          count++
          if (pending.length >= BATCH_MESSAGES || size >= BATCH_BYTES) await flush()
        }
        const end = dagCbor.encode({ n: count })
        pending.push(end)
        await flush()
        await stream.close()
        options.onServed?.(count + 1, sent + end.length)
      } catch (err) {
        const code = err instanceof ServeError ? err.code : err instanceof ProtocolError ? 'bad-request' : 'internal'
        try {
          pending = [dagCbor.encode({ e: code, m: (err as Error).message ?? String(err) })]
          await flush()
          await stream.close()
        } catch {
          stream.abort(err instanceof Error ? err : new Error(String(err)))
        }
      }
    },
    { maxInboundStreams: options.maxInboundStreams ?? 32, runOnLimitedConnection: false },
  )
}
