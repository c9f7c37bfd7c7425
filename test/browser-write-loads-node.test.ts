// A page whose peer loads its node only when asked (`startTabPeer({ loadNode: 'when-asked' })`)
// and never calls `startNode()`: its replica starts over HTTP with no node, and a write, queued
// to the outbox or sent at once, loads the node's chunk and reaches the daemon. Real Chromium,
// real daemon process; the page is a module of the test's own, split into chunks as the web app
// is and served by the test, so every request for the node's chunk is seen. See docs/bundle.md.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { before, describe, it } from 'node:test'
import type { TabFollower, TabPeer } from '@dagsync/browser'
import type { Page } from 'playwright-core'
import { browserEntry, bundleProbeChunks, type ProbeChunks } from './browser-probe.ts'
import { cli, cliJson, DaemonProcess, eventually, freePort, listenOnLoopback, Scratch } from './cli-helpers.ts'
import { chromiumForFile, openPage } from './web-page.ts'

const scratch = new Scratch()
const chrome = chromiumForFile(scratch)
let probe: ProbeChunks
let nodeChunk: string

declare global {
  interface Window {
    /** What the probe page's peer is given: the daemon's addresses and gateway, and the store. */
    whenAskedInit?: { peers: string[]; gateway: string; store: string }
    /** The probe page's peer, which waits to be asked for its node, and its follower of the store. */
    probe?: { peer: TabPeer; follower: TabFollower }
  }
}

before(async () => {
  probe = await bundleProbeChunks(
    scratch,
    `import { startTabPeer } from ${browserEntry}
const { peers, gateway, store } = window.whenAskedInit
const peer = await startTabPeer({ peers, gateways: [gateway], loadNode: 'when-asked' })
window.probe = { peer, follower: await peer.follow(store) }
`,
  )
  nodeChunk = probe.chunkWith('packages/browser/src/page-node.ts')
})

/** Serves the probe: a page that runs it with `init`, and its chunks, none of them cached. */
async function serveProbe(init: NonNullable<Window['whenAskedInit']>): Promise<string> {
  const page = `<!doctype html><title>probe</title>
<script>window.whenAskedInit = ${JSON.stringify(init)}</script>
<script type="module" src="/probe.js"></script>`
  return await listenOnLoopback(
    scratch,
    createServer((req, res) => {
      const text = req.url === '/' ? page : probe.files.get((req.url ?? '').slice(1))
      if (text === undefined) res.writeHead(404).end()
      else
        res
          .writeHead(200, {
            'content-type': req.url === '/' ? 'text/html' : 'text/javascript',
            'cache-control': 'no-store',
          })
          .end(text)
    }),
  )
}

/** Waits until the page's replica holds a commit (the probe never starts its node itself). */
const shown = (page: Page) =>
  page.waitForFunction(() => window.probe?.follower.status().synced != null, undefined, { timeout: 30_000 })

describe('a page that loads its node when asked', () => {
  it('loads it for a write queued to the outbox and for one sent at once, and both reach the daemon', async () => {
    const repo = await scratch.dir()
    const ports = { ws: await freePort(), api: await freePort() }
    const daemonArgs = { args: ['--gateway-address', `127.0.0.1:${await freePort()}`] }
    let daemon = await DaemonProcess.start(scratch, repo, ports, daemonArgs)
    const ready = await daemon.ready
    const store = ready.stores.find((s) => s.names.includes('demo'))?.id
    assert.ok(store !== undefined && ready.gateway !== undefined)
    const site = await serveProbe({ peers: ready.addresses, gateway: ready.gateway, store })
    const { context, page, errors } = await openPage(chrome.browser)
    const asked: string[] = []
    page.on('request', (request) => {
      if (request.url() === `${site}/${nodeChunk}`) asked.push(request.url())
    })

    // 1. A first visit: the replica starts over HTTP, with no node. With the daemon down (the
    // writer must allow this browser's peer, known once its node runs, before the write reaches
    // it), a queued write loads the node.
    await page.goto(site)
    await shown(page)
    assert.equal(await page.evaluate(() => window.probe?.follower.status().lastSync?.path), 'http')
    assert.deepEqual(asked, [], 'the node chunk was asked for before any write')
    await daemon.stop()
    await page.evaluate(() => window.probe?.follower.queue([{ op: 'put', key: 'queued', value: 'from the outbox' }]))
    await page.waitForFunction(() => window.probe?.peer.peerId !== undefined, undefined, { timeout: 30_000 })
    assert.equal(asked.length, 1, 'the queued write loaded the node chunk')
    const peerId = (await page.evaluate(() => window.probe?.peer.peerId)) as string
    assert.equal((await cli(scratch, repo, ['store', 'allow', 'demo', peerId])).code, 0)
    daemon = await DaemonProcess.start(scratch, repo, ports, daemonArgs)
    const queued = await eventually('the queued write at the daemon', async () => {
      const got = await cli(scratch, repo, ['get', 'demo', 'queued', '--json'])
      return got.code === 0 ? (JSON.parse(got.stdout) as { value: unknown }).value : undefined
    })
    assert.equal(queued, 'from the outbox')

    // 2. A reload: the replica is there, the node is not loaded; a write sent at once loads it.
    asked.length = 0
    await page.reload()
    await shown(page)
    assert.deepEqual(asked, [], 'the node chunk was asked for before any write')
    const seq = await page.evaluate(
      async () => (await window.probe?.follower.transact([{ op: 'put', key: 'sent', value: 'at once' }]))?.commit?.seq,
    )
    assert.equal(asked.length, 1, 'the write sent at once loaded the node chunk')
    assert.equal((await cliJson<{ value: unknown }>(scratch, repo, ['get', 'demo', 'sent'])).value, 'at once')
    assert.ok(typeof seq === 'number' && seq > 0, `the write's commit came back to the page (${seq})`)
    assert.deepEqual(errors, [])
    await context.close()
    await daemon.stop()
  })
})
