// The daemon's trustless gateway, through a real `dagsync daemon` process and real HTTP: raw
// blocks, CARs, IPNS records, HEAD, the status codes the specification asks for, and the
// headers a CDN and a browser of another origin need.
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { readAnnouncement, storePublicKey } from '@dagsync/peer'
import { blockKey, dagLinks } from '@dagsync/store'
import { verifyBlock } from '@dagsync/tree'
import { CarBlockIterator } from '@ipld/car'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { cli, cliJson, DaemonProcess, Scratch } from './cli-helpers.ts'

const RAW = 'application/vnd.ipld.raw'
const CAR = 'application/vnd.ipld.car'
const IPNS = 'application/vnd.ipfs.ipns-record'
const IMMUTABLE = 'public, max-age=29030400, immutable'
// A store id no daemon here writes or follows.
const STRANGER = 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8'

const scratch = new Scratch()
let repo: string
let gateway: string
let api: string
let store: string
let head: CID
after(() => scratch.close())
before(async () => {
  repo = await scratch.dir()
  // On by config, as an operator sets it (the interop test uses the flag).
  assert.equal((await cli(scratch, repo, ['init'])).code, 0)
  assert.equal((await cli(scratch, repo, ['config', 'set', 'gateway', '127.0.0.1:0'])).code, 0)
  const daemon = await DaemonProcess.start(scratch, repo)
  const ready = await daemon.ready
  assert.ok(ready.gateway !== undefined, 'the ready line names the gateway')
  gateway = ready.gateway
  api = ready.api
  // Enough keys for a tree of several levels, so a CAR's order and completeness mean something.
  const keys = join(repo, '..', 'keys.ndjson')
  await writeFile(
    keys,
    Array.from({ length: 400 }, (_, i) => JSON.stringify({ key: `k${i}`, value: { n: i } })).join('\n'),
  )
  const imported = await cli(scratch, repo, ['import', 'demo', keys])
  assert.equal(imported.code, 0, imported.stderr)
  const record = await cliJson<{ name: string; value: { '/': string } }>(scratch, repo, ['name', 'publish', 'demo'])
  store = record.name
  head = CID.parse(record.value['/'])
})

async function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  return fetch(`${gateway}${path}`, { method, headers })
}

async function carBlocks(bytes: Uint8Array): Promise<{ roots: CID[]; blocks: { cid: CID; bytes: Uint8Array }[] }> {
  const reader = await CarBlockIterator.fromBytes(bytes)
  const blocks = []
  for await (const block of reader) blocks.push(block)
  return { roots: await reader.getRoots(), blocks }
}

/** Headers every successful /ipfs/ response carries. */
function assertImmutableHeaders(res: Response, cid: CID): void {
  assert.equal(res.headers.get('cache-control'), IMMUTABLE)
  assert.equal(res.headers.get('access-control-allow-origin'), '*')
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
  assert.equal(res.headers.get('x-ipfs-path'), `/ipfs/${cid}`)
  assert.equal(res.headers.get('x-ipfs-roots'), cid.toString())
  assert.equal(res.headers.get('vary'), 'Accept')
  assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="/)
}

describe('the trustless gateway', () => {
  it('serves a block raw, by Accept or ?format=raw, with immutable caching and a strong ETag', async () => {
    for (const res of [await get(`/ipfs/${head}`, { accept: RAW }), await get(`/ipfs/${head}?format=raw`)]) {
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), RAW)
      assertImmutableHeaders(res, head)
      assert.equal(res.headers.get('etag'), `"${head}.raw"`)
      const bytes = new Uint8Array(await res.arrayBuffer())
      verifyBlock(head, bytes)
      assert.equal(res.headers.get('content-length'), String(bytes.length))
    }
    // Content-Location names the URL a cache would key the same response by.
    assert.equal(
      (await get(`/ipfs/${head}`, { accept: RAW })).headers.get('content-location'),
      `/ipfs/${head}?format=raw`,
    )
    // A cached copy is revalidated without the body.
    const again = await get(`/ipfs/${head}`, { accept: RAW, 'if-none-match': `"${head}.raw"` })
    assert.equal(again.status, 304)
    assert.equal((await again.arrayBuffer()).byteLength, 0)
  })

  it('answers HEAD with the GET headers and no body', async () => {
    const res = await get(`/ipfs/${head}`, { accept: RAW }, 'HEAD')
    assert.equal(res.status, 200)
    assertImmutableHeaders(res, head)
    assert.equal(res.headers.get('content-type'), RAW)
    assert.ok(Number(res.headers.get('content-length')) > 0)
    assert.equal((await res.arrayBuffer()).byteLength, 0)
    const car = await get(`/ipfs/${head}?format=car`, {}, 'HEAD')
    assert.equal(car.status, 200)
    assert.equal(car.headers.get('content-type'), 'application/vnd.ipld.car; version=1; order=dfs; dups=n')
    assert.equal((await car.arrayBuffer()).byteLength, 0)
    const missing = await get(
      `/ipfs/${CID.createV1(0x71, await sha256.digest(new Uint8Array([1])))}`,
      { accept: RAW },
      'HEAD',
    )
    assert.equal(missing.status, 404)
  })

  it("streams the head's DAG as a CARv1 in depth-first order without duplicates: the blocks the CLI's export holds", async () => {
    const res = await get(`/ipfs/${head}?format=car`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), `${CAR}; version=1; order=dfs; dups=n`)
    assertImmutableHeaders(res, head)
    assert.equal(res.headers.get('etag'), `"${head}.car.dfs.n.all"`)
    const { roots, blocks } = await carBlocks(new Uint8Array(await res.arrayBuffer()))
    assert.deepEqual(roots.map(String), [head.toString()])
    assert.equal(blocks[0]?.cid.toString(), head.toString())
    const seen = new Set<string>()
    // Depth first: each block is the next unvisited link of the nearest block above it.
    const stack: CID[][] = []
    for (const [i, { cid, bytes }] of blocks.entries()) {
      verifyBlock(cid, bytes)
      assert.ok(!seen.has(blockKey(cid)), `block ${cid} is sent twice`)
      if (i > 0) {
        for (;;) {
          const links = stack.at(-1)
          assert.ok(links !== undefined, `block ${cid} is not linked from the blocks above it`)
          const next = links.find((link) => !seen.has(blockKey(link)))
          if (next === undefined) {
            stack.pop()
            continue
          }
          assert.equal(cid.toString(), next.toString(), 'blocks come depth first')
          break
        }
      }
      seen.add(blockKey(cid))
      stack.push(dagLinks(cid, bytes, i === 0))
    }
    // The same blocks as `dagsync car export`.
    const file = join(repo, '..', 'head.car')
    assert.equal((await cli(scratch, repo, ['car', 'export', 'demo', '-o', file])).code, 0)
    const exported = await carBlocks(await readFile(file))
    assert.deepEqual([...seen].sort(), exported.blocks.map((b) => blockKey(b.cid)).sort())
    assert.ok(blocks.length > 3, `a tree of several nodes (${blocks.length} blocks)`)
  })

  it('sends the root alone for dag-scope=block (and entity, and entity-bytes: nothing here is UnixFS)', async () => {
    for (const query of ['dag-scope=block', 'dag-scope=entity', 'entity-bytes=0:*']) {
      const res = await get(`/ipfs/${head}?${query}`, { accept: `${CAR}; version=1` })
      assert.equal(res.status, 200, query)
      const { blocks } = await carBlocks(new Uint8Array(await res.arrayBuffer()))
      assert.deepEqual(
        blocks.map((b) => b.cid.toString()),
        [head.toString()],
        query,
      )
    }
    assert.equal(
      (await get(`/ipfs/${head}?format=car&dag-scope=block`)).headers.get('etag'),
      `"${head}.car.dfs.n.block"`,
    )
  })

  it("serves the store's signed IPNS record, cached no longer than its TTL", async () => {
    for (const res of [await get(`/ipns/${store}`, { accept: IPNS }), await get(`/ipns/${store}?format=ipns-record`)]) {
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), IPNS)
      assert.equal(res.headers.get('access-control-allow-origin'), '*')
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
      const maxAge = Number(/^public, max-age=(\d+)$/.exec(res.headers.get('cache-control') ?? '')?.[1])
      assert.ok(maxAge > 0 && maxAge <= 300, `max-age ${maxAge} is within the record's 5 minute TTL`)
      const announcement = await readAnnouncement(storePublicKey(store), new Uint8Array(await res.arrayBuffer()))
      assert.equal(announcement.commit.toString(), head.toString())
    }
    assert.equal((await get(`/ipns/${store}`, { accept: IPNS }, 'HEAD')).status, 200)
  })

  it('says 404 for a block or record not held here: it fetches nothing for a caller', async () => {
    const absent = CID.createV1(0x71, await sha256.digest(new TextEncoder().encode('never written')))
    assert.equal((await get(`/ipfs/${absent}`, { accept: RAW })).status, 404)
    assert.equal((await get(`/ipfs/${absent}?format=car`)).status, 404)
    assert.equal((await get(`/ipns/${STRANGER}?format=ipns-record`)).status, 404)
    assert.equal((await get('/elsewhere')).status, 404)
  })

  it('says 400 for a bad CID, name, format, scope or path, or no Accept at all', async () => {
    const cases = [
      ['/ipfs/not-a-cid?format=raw', {}],
      ['/ipns/not-a-name?format=ipns-record', {}],
      [`/ipfs/${head}?format=html`, {}],
      [`/ipfs/${head}?format=car&dag-scope=most`, {}],
      [`/ipfs/${head}/tree?format=car`, {}],
      [`/ipfs/${head}`, { accept: '' }],
    ] as const
    for (const [path, headers] of cases) {
      const res = await get(path, headers)
      assert.equal(res.status, 400, path)
      assert.equal(res.headers.get('cache-control'), 'no-store', path)
      assert.ok((await res.text()).length > 0, `${path} says why`)
    }
  })

  it('says 406 when Accept names only types it does not serve', async () => {
    for (const accept of ['text/html', `${CAR}; version=2`, `${RAW};q=0`]) {
      assert.equal((await get(`/ipfs/${head}`, { accept })).status, 406, accept)
    }
    assert.equal((await get(`/ipns/${store}`, { accept: RAW })).status, 406)
  })

  it('answers a CORS preflight for any origin', async () => {
    const res = await get(
      `/ipfs/${head}`,
      { origin: 'https://elsewhere.example', 'access-control-request-method': 'GET' },
      'OPTIONS',
    )
    assert.equal(res.status, 204)
    assert.equal(res.headers.get('access-control-allow-origin'), '*')
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /GET/)
  })

  it("reads on the API port only for this machine's pages: another web origin is refused there", async () => {
    // The web app's first visit reads the store from its own origin (docs/daemon.md).
    const res = await fetch(`${api}/ipfs/${head}?format=raw`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), RAW)
    const elsewhere = await fetch(`${api}/ipfs/${head}?format=raw`, { headers: { origin: 'http://example.com' } })
    assert.equal(elsewhere.status, 401)
    assert.notEqual(elsewhere.headers.get('content-type'), RAW)
  })
})
