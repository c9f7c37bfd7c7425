// Request / streamed-reply over a libp2p stream, the shape of dagsync's protocols: the client
// writes one DAG-CBOR request (a map); the server answers with any number of DAG-CBOR messages
// and then `{n: count}`, or `{e: code, m: message, i?: index}` if it fails. Replies travel in frames, each
// a DAG-CBOR array of messages, length-prefixed and at most MAX_FRAME_BYTES: a frame costs the
// reader far more than its bytes, and a sync sends thousands of small blocks. An explicit end
// marker means a stream that stops early is an error, never a short answer taken for a whole one.
import { encodeValue } from '@dagsync/tree'
import * as dagCbor from '@ipld/dag-cbor'
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { ProtocolError, RemoteError } from './errors.ts'

/** A block (up to 1 MiB) and its framing fit in one frame. */
export const MAX_FRAME_BYTES = 2 * 1024 * 1024

/** How long a server waits for a request once a stream is open. */
const REQUEST_TIMEOUT_MS = 10_000

/**
 * Reply messages are gathered into frames of about this many bytes. The first frame is smaller,
 * and each next one twice the size, up to the full size: the reader starts checking blocks
 * while the rest are still being made.
 */
const FRAME_BYTES = 256 * 1024
const FIRST_FRAME_BYTES = 8 * 1024

export type Message = Record<string, unknown>

/** An error a handler throws to answer with a specific code (and, for a list, the index of the item at fault). */
export class ServeError extends Error {
  readonly code: string
  readonly index: number | undefined

  constructor(code: string, message: string, index?: number) {
    super(message)
    this.code = code
    this.index = index
  }
}

function decodeCbor(bytes: Uint8Array): unknown {
  try {
    return dagCbor.decode(bytes)
  } catch (err) {
    throw new ProtocolError(`message is not valid DAG-CBOR: ${(err as Error).message}`)
  }
}

function isMessage(value: unknown): value is Message {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array)
}

function decodeRequest(bytes: Uint8Array, decode: (bytes: Uint8Array) => unknown = decodeCbor): Message {
  let message: unknown
  try {
    message = decode(bytes)
  } catch (err) {
    if (err instanceof ProtocolError) throw err
    throw new ProtocolError(`message is not valid DAG-CBOR: ${(err as Error).message}`)
  }
  if (!isMessage(message)) throw new ProtocolError('a request is a map')
  return message
}

function decodeFrame(bytes: Uint8Array): Message[] {
  const frame = decodeCbor(bytes)
  if (!Array.isArray(frame) || !frame.every(isMessage)) throw new ProtocolError('a reply frame is a list of maps')
  return frame
}

/** A DAG-CBOR array of already-encoded items: its header, then the items as they are. */
function encodeFrame(items: readonly Uint8Array[], size: number): Uint8Array {
  const n = items.length
  const header =
    n < 24
      ? [0x80 | n]
      : n < 256
        ? [0x98, n]
        : n < 65536
          ? [0x99, n >> 8, n & 0xff]
          : [0x9a, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]
  const out = new Uint8Array(header.length + size)
  out.set(header)
  let at = header.length
  for (const item of items) {
    out.set(item, at)
    at += item.length
  }
  return out
}

/** Sends `request` to `peer` and yields its reply messages, up to (not including) the end marker. */
export async function* call(
  libp2p: Libp2p,
  peer: PeerId,
  protocol: string,
  request: Message,
  options: { signal?: AbortSignal; onBytes?: (n: number) => void; force?: boolean } = {},
): AsyncGenerator<Message> {
  const stream = await libp2p.dialProtocol(peer, protocol, options)
  const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES, maxBufferSize: 2 * MAX_FRAME_BYTES })
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
      // What this frame took on the wire: its bytes and the varint length before them.
      options.onBytes?.(bytes.length + Math.ceil(Math.max(1, Math.log2(bytes.length + 1)) / 7))
      for (const message of decodeFrame(bytes)) {
        if (ended) throw new ProtocolError(`${peer} sent messages after the end marker`)
        if (typeof message.e === 'string')
          throw new RemoteError(
            message.e,
            String(message.m ?? ''),
            Number.isSafeInteger(message.i) ? (message.i as number) : undefined,
          )
        if (message.n !== undefined) ended = true
        else yield message
      }
      if (ended) return
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
    /** Decodes a request (default: @ipld/dag-cbor's decoder). */
    decodeRequest?: (bytes: Uint8Array) => unknown
    /** Called after each reply is sent in full, with its messages and bytes (end marker included). */
    onServed?: (messages: number, bytes: number) => void
    /**
     * Called with each error a request is answered with, and its code: 'internal' is this
     * server's own failure, anything else the request's (not found, malformed...).
     */
    onError?: (err: unknown, code: string, peer: PeerId) => void
  } = {},
): Promise<void> {
  await libp2p.handle(
    protocol,
    async (stream: Stream, connection: Connection) => {
      const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES, maxBufferSize: 2 * MAX_FRAME_BYTES })
      let pending: Uint8Array[] = []
      let size = 0
      let count = 0
      let sent = 0
      let frameBytes = FIRST_FRAME_BYTES
      const flush = async (): Promise<void> => {
        if (pending.length === 0) return
        const frame = encodeFrame(pending, size)
        pending = []
        size = 0
        sent += frame.length
        frameBytes = Math.min(frameBytes * 2, FRAME_BYTES)
        await lp.write(frame)
      }
      const add = async (bytes: Uint8Array): Promise<void> => {
        if (size + bytes.length > frameBytes) await flush()
        pending.push(bytes)
        size += bytes.length
      }
      try {
        const request = decodeRequest(
          (await lp.read({ signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })).subarray(),
          options.decodeRequest,
        )
        for await (const reply of handler(request, connection)) {
          // The tree's encoder: byte-identical, and several times faster on a sync's many blocks.
          await add(encodeValue(reply, 'reply'))
          count++
        }
        await add(dagCbor.encode({ n: count }))
        await flush()
        await stream.close()
        options.onServed?.(count + 1, sent)
      } catch (err) {
        const code = err instanceof ServeError ? err.code : err instanceof ProtocolError ? 'bad-request' : 'internal'
        options.onError?.(err, code, connection.remotePeer)
        try {
          // What was gathered goes out first: the client keeps what verifies.
          const index = err instanceof ServeError && err.index !== undefined ? { i: err.index } : {}
          await add(dagCbor.encode({ e: code, m: (err as Error).message ?? String(err), ...index }))
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
