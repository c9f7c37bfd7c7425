// The transport's floor for the sync benchmark: how fast a plain libp2p stream carries bytes
// between two of our nodes (the same WebSockets, noise and yamux as sync) on loopback. A sync
// cannot move its bytes faster than this; run-sync reports cold sync against it.
import type { DagsyncNode } from '@dagsync/peer'

type Libp2p = DagsyncNode['libp2p']
type PeerId = DagsyncNode['peerId']

export const RAW_STREAM_PROTOCOL = '/dagsync-bench/raw/1.0.0'

/** Chunks as large as the sync server's largest reply frames. */
const CHUNK_BYTES = 256 * 1024

/** Answers each stream's request (a decimal byte count) with that many bytes, then closes it. */
export async function serveRawStream(libp2p: Libp2p): Promise<void> {
  await libp2p.handle(RAW_STREAM_PROTOCOL, async (stream) => {
    const request = await new Promise<Uint8Array>((resolve) =>
      stream.addEventListener('message', (event) => resolve(event.data.subarray()), { once: true }),
    )
    let left = Number(new TextDecoder().decode(request))
    const chunk = new Uint8Array(CHUNK_BYTES)
    while (left > 0) {
      const part = left < CHUNK_BYTES ? chunk.subarray(0, left) : chunk
      left -= part.length
      if (!stream.send(part)) await stream.onDrain()
    }
    await stream.close()
  })
}

/** Reads `bytes` from `peer`'s raw stream; the milliseconds it took from opening the stream. */
export async function measureRawStream(libp2p: Libp2p, peer: PeerId, bytes: number): Promise<number> {
  const started = performance.now()
  const stream = await libp2p.dialProtocol(peer, RAW_STREAM_PROTOCOL)
  stream.send(new TextEncoder().encode(String(bytes)))
  let received = 0
  for await (const chunk of stream) received += chunk.byteLength
  const ms = performance.now() - started
  await stream.close()
  if (received !== bytes) throw new Error(`the raw stream carried ${received} of ${bytes} bytes`)
  return ms
}
