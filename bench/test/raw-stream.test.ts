// The sync benchmark's transport floor: a plain stream between two real nodes on loopback carries
// exactly the bytes asked for, and a stream that ends short is an error, not a faster floor.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { createDagsyncNode, type DagsyncNode } from '@dagsync/peer'
import { memoryStorage } from '@dagsync/store'
import { measureRawStream, RAW_STREAM_PROTOCOL, serveRawStream } from '../src/raw-stream.ts'

const nodes: DagsyncNode[] = []
after(async () => {
  for (const node of nodes) await node.stop()
})

async function pair(): Promise<[DagsyncNode, DagsyncNode]> {
  const server = await createDagsyncNode({ storage: memoryStorage(), listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
  nodes.push(server)
  const client = await createDagsyncNode({ storage: memoryStorage(), listen: [], peers: [server.addresses[0]] })
  nodes.push(client)
  await client.libp2p.dial(server.peerId)
  return [server, client]
}

test('a raw stream carries the bytes asked for, across chunks', { timeout: 30_000 }, async () => {
  const [server, client] = await pair()
  await serveRawStream(server.libp2p)
  const ms = await measureRawStream(client.libp2p, server.peerId, 600 * 1024 + 7)
  assert.ok(ms > 0)
})

test('a raw stream that ends short fails the measure', { timeout: 30_000 }, async () => {
  const [server, client] = await pair()
  await server.libp2p.handle(RAW_STREAM_PROTOCOL, async (stream) => {
    await new Promise((resolve) => stream.addEventListener('message', resolve, { once: true }))
    stream.send(new Uint8Array(10))
    await stream.close()
  })
  await assert.rejects(measureRawStream(client.libp2p, server.peerId, 11), /carried 10 of 11 bytes/)
})
