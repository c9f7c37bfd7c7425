// A stock IPFS client against the daemon's trustless gateway: a helia node whose only way to get
// blocks is helia's trustless-gateway block broker, and whose only provider is that gateway (no
// libp2p, no public gateways or routers), fetches and verifies every block of a store's head
// DAG. Through a gateway that lies about a block, the same client gets nothing.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { blockKey, dagLinks } from '@dagsync/store'
import { collectBytes } from '@dagsync/tree'
import { trustlessGatewayBlockBroker } from '@helia/trustless-gateway-client'
import { CarBlockIterator } from '@ipld/car'
import * as dagCbor from '@ipld/dag-cbor'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryBlockstore } from 'blockstore-core'
import { MemoryDatastore } from 'datastore-core'
import { createHeliaLight, type Helia } from 'helia'
import { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import { cli, cliJson, DaemonProcess, Scratch } from './cli-helpers.ts'

const scratch = new Scratch()
let repo: string
let gatewayPort: number
let head: CID
after(() => scratch.close())
before(async () => {
  repo = await scratch.dir()
  const daemon = await DaemonProcess.start(scratch, repo, {}, { args: ['--gateway-address', '127.0.0.1:0'] })
  gatewayPort = Number(new URL((await daemon.ready).gateway ?? '').port)
  for (const [key, value] of [
    ['interop/1', '{"a": 1}'],
    ['interop/2', '"two"'],
  ]) {
    assert.equal((await cli(scratch, repo, ['put', 'demo', key as string, value as string])).code, 0)
  }
  head = CID.parse((await cliJson<{ value: { '/': string } }>(scratch, repo, ['name', 'publish', 'demo'])).value['/'])
})

/** A helia node that can only ask the trustless gateway on `port` of 127.0.0.1 for blocks. */
async function gatewayClient(port: number): Promise<Helia> {
  const provider = {
    id: CID.createV1(0x0920, identity.digest(new TextEncoder().encode(`http://127.0.0.1:${port}`))),
    multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/${port}/http`)],
    router: 'dagsync-test',
    fallback: false,
  }
  const helia = createHeliaLight({
    blockstore: new MemoryBlockstore(),
    datastore: new MemoryDatastore(),
    codecs: [dagCbor],
    blockBrokers: [trustlessGatewayBlockBroker({ allowInsecure: true, allowLocal: true })],
    routers: [
      {
        name: 'dagsync-test',
        async *findProviders() {
          yield provider
        },
      },
    ],
  })
  await helia.start()
  scratch.defer(() => helia.stop())
  return helia
}

describe('a stock IPFS client and the gateway', () => {
  it("fetches and verifies every block of the store's head DAG through helia's trustless-gateway block broker", async () => {
    const helia = await gatewayClient(gatewayPort)
    const fetched = new Set<string>()
    const queue: [CID, boolean][] = [[head, true]]
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const [cid, isRoot] = next
      if (fetched.has(blockKey(cid))) continue
      // helia checks each block against its CID before it returns it.
      const bytes = await collectBytes(helia.blockstore.get(cid, { signal: AbortSignal.timeout(10_000) }))
      fetched.add(blockKey(cid))
      for (const link of dagLinks(cid, bytes, isRoot)) queue.push([link, false])
    }
    const file = join(repo, '..', 'interop.car')
    assert.equal((await cli(scratch, repo, ['car', 'export', 'demo', '-o', file])).code, 0)
    const exported = new Set<string>()
    for await (const block of await CarBlockIterator.fromBytes(await readFile(file))) exported.add(blockKey(block.cid))
    assert.deepEqual([...fetched].sort(), [...exported].sort())
  })

  it('refuses a block whose bytes do not match its CID', async () => {
    // A gateway that answers every request with the daemon's answer for it, one byte changed.
    let asked = 0
    const liar: Server = createServer(async (req, res) => {
      asked++
      const real = await fetch(`http://127.0.0.1:${gatewayPort}${req.url}`, {
        headers: { accept: req.headers.accept ?? '' },
      })
      const bytes = new Uint8Array(await real.arrayBuffer())
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1
      res.writeHead(real.status, { 'content-type': real.headers.get('content-type') ?? 'application/octet-stream' })
      res.end(bytes)
    })
    await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve))
    scratch.defer(() => new Promise((resolve) => liar.close(resolve)))
    const helia = await gatewayClient((liar.address() as { port: number }).port)
    await assert.rejects(collectBytes(helia.blockstore.get(head, { signal: AbortSignal.timeout(5000) })))
    assert.ok(asked > 0, 'the client asked the lying gateway')
    assert.equal(await helia.blockstore.has(head), false)
  })
})
