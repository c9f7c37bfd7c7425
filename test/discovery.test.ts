// Discovery through the DHT with real processes: five daemons in a chain, each joined to the DHT
// through the one before it, the fifth writing a store; a sixth daemon told only the first one's
// address (as its DHT bootstrap) and the store's id follows it and holds what the fifth wrote.
// Then the same through a daemon's delegated routing API, for a Node peer that runs no DHT.
import '../packages/peer/test/loopback-guard.ts'
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { createDagsyncNode, readAnnouncement, storePublicKey } from '@dagsync/peer'
import { memoryStorage } from '@dagsync/store'
import { violations } from '../packages/peer/test/loopback-guard.ts'
import { cli, DaemonProcess, eventually, type ReadyLine, Scratch } from './cli-helpers.ts'

const scratch = new Scratch()
after(async () => {
  await scratch.close()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

async function init(demo: boolean): Promise<string> {
  const repo = await scratch.dir()
  const result = await cli(scratch, repo, ['init', ...(demo ? [] : ['--no-demo'])])
  assert.equal(result.code, 0, result.stderr)
  return repo
}

/** Starts the daemon of `repo`, joined to the DHT through `bootstrap` (none: it starts the network). */
async function start(repo: string, bootstrap: ReadyLine | undefined): Promise<ReadyLine> {
  if (bootstrap !== undefined) {
    const set = await cli(scratch, repo, ['config', 'set', 'dht.bootstrap', JSON.stringify([bootstrap.addresses[0]])])
    assert.equal(set.code, 0, set.stderr)
  }
  return (await DaemonProcess.start(scratch, repo)).ready
}

describe('discovery through the DHT', () => {
  it('leads a daemon that knows the first of five chained daemons to a store the fifth writes', async () => {
    // Five in the chain (the fifth with the demo store), and the reader.
    const repos = await Promise.all([false, false, false, false, true, false].map(init))
    const chain: ReadyLine[] = []
    for (const repo of repos.slice(0, 5)) chain.push(await start(repo, chain.at(-1)))
    const [writerRepo, readerRepo] = [repos[4], repos[5]]
    const store = chain[4].stores.find((s) => s.names.includes('demo'))
    assert.ok(store, 'the fifth daemon writes the demo store')
    assert.equal((await cli(scratch, writerRepo, ['put', 'demo', 'found', '"through the DHT"'])).code, 0)

    await start(readerRepo, chain[0])
    const followed = await cli(scratch, readerRepo, ['store', 'follow', store.id, '--name', 'found'])
    assert.equal(followed.code, 0, followed.stderr)
    const value = await eventually(
      'the value the fifth daemon wrote',
      async () => {
        const got = await cli(scratch, readerRepo, ['get', 'found', 'found'])
        return got.code === 0 ? got.stdout.trim() : undefined
      },
      60_000,
    )
    assert.equal(value, '"through the DHT"')
    const keys = async (repo: string, name: string) => (await cli(scratch, repo, ['keys', name])).stdout
    assert.equal(await keys(readerRepo, 'found'), await keys(writerRepo, 'demo'))

    // The first daemon's routing API answers from its DHT for a store it neither writes nor follows.
    const record = await fetch(`${chain[0].api}/routing/v1/ipns/${store.id}`)
    assert.equal(record.status, 200)
    const { commit } = await readAnnouncement(storePublicKey(store.id), new Uint8Array(await record.arrayBuffer()))
    const { Providers } = (await (await fetch(`${chain[0].api}/routing/v1/providers/${commit}`)).json()) as {
      Providers: { ID: string }[]
    }
    assert.ok(
      Providers.some((p) => p.ID === chain[4].peerId),
      'the fifth daemon provides the head',
    )
    const { Peers } = (await (await fetch(`${chain[0].api}/routing/v1/peers/${chain[4].peerId}`)).json()) as {
      Peers: { ID: string; Addrs: string[] }[]
    }
    assert.deepEqual(
      Peers.map((p) => [p.ID, p.Addrs.length > 0]),
      [[chain[4].peerId, true]],
    )
  })
})

describe('delegated routing', () => {
  it("leads a Node peer with no DHT, given a daemon's routing URL and a store id, to the store", async () => {
    const repo = await init(true)
    const ready = await start(repo, undefined)
    const store = ready.stores.find((s) => s.names.includes('demo'))
    assert.ok(store)
    assert.equal((await cli(scratch, repo, ['put', 'demo', 'found', '"delegated"'])).code, 0)

    const peer = await createDagsyncNode({ storage: memoryStorage(), listen: [], delegatedRouters: [ready.api] })
    scratch.defer(() => peer.stop())
    const replica = await peer.follow(store.id)
    assert.equal(await eventually('the value written', async () => await replica.get('found'), 60_000), 'delegated')
    assert.ok(peer.stats.headsFromDht >= 1, 'the head came from the routing API')
  })

  it('answers any web origin, tells its own addresses, 404 for a record it cannot find, 422 for a malformed CID or name', async () => {
    const ready = await start(await init(true), undefined)
    const store = ready.stores.find((s) => s.names.includes('demo'))
    assert.ok(store)
    const origin = { origin: 'https://elsewhere.example' }
    const record = await fetch(`${ready.api}/routing/v1/ipns/${store.id}`, { headers: origin })
    assert.equal(record.status, 200)
    assert.equal(record.headers.get('access-control-allow-origin'), '*')
    assert.equal(record.headers.get('content-type'), 'application/vnd.ipfs.ipns-record')
    assert.equal((await fetch(`${ready.api}/routing/v1/providers/not-a-cid`)).status, 422)
    assert.equal((await fetch(`${ready.api}/routing/v1/ipns/not-a-name`)).status, 422)
    // The daemon's own key is an IPNS name, but of no store here: after asking its DHT, 404.
    assert.equal((await fetch(`${ready.api}/routing/v1/ipns/${ready.peerId}`)).status, 404)
    const peers = (await (await fetch(`${ready.api}/routing/v1/peers/${ready.peerId}`)).json()) as {
      Peers: { Schema: string; ID: string; Addrs: string[] }[]
    }
    assert.deepEqual(
      peers.Peers.map((p) => [p.Schema, p.ID, p.Addrs.length > 0]),
      [['peer', ready.peerId, true]],
    )
    // The rest of the API still refuses other origins.
    assert.equal((await fetch(`${ready.api}/api/v1/id`, { method: 'POST', headers: origin })).status, 401)
  })
})
