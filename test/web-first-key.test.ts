// A first visit to the web app, in real Chromium against a real daemon: the page shows the
// store's first key from its signed record and one CAR fetched over HTTP from the daemon's API
// (the page's own origin), having loaded at most 150 KB of gzipped JavaScript (counted from the
// page's own requests, not from file sizes); only then does libp2p load, and the node takes over
// the live updates. See docs/bundle.md.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { cli, DaemonProcess, Scratch } from './cli-helpers.ts'
import { webNodeChunk } from './web-build.ts'
import { chromiumForFile, keepOnLoopback, keyRow } from './web-page.ts'

const FIRST_KEY_BUDGET = 150_000
const scratch = new Scratch()
const chrome = chromiumForFile(scratch)
let nodeChunk: string

before(() => {
  nodeChunk = webNodeChunk()
})

describe('a first visit to the web app', () => {
  it('shows its first key over HTTP with at most 150 KB of gzipped JavaScript, then hands over to libp2p', async () => {
    const repo = await scratch.dir()
    const daemon = await DaemonProcess.start(scratch, repo)
    const { api } = await daemon.ready
    // No service worker: every script the page runs is a request the test sees.
    const context = await chrome.browser.newContext({ serviceWorkers: 'block' })
    await keepOnLoopback(context)
    const page = await context.newPage()
    const gzipped = new Map<string, Promise<number>>()
    page.on('response', (response) => {
      if (new URL(response.url()).pathname.endsWith('.js'))
        gzipped.set(
          response.url(),
          response.body().then((body) => gzipSync(body).length),
        )
    })

    await page.goto(api)
    // In the page's own clock: when the first key's row is on screen.
    const shown = await page.waitForFunction(
      () => (document.querySelector('#keys tbody tr') === null ? 0 : performance.now()),
      undefined,
      { polling: 'raf', timeout: 30_000 },
    )
    const shownAt = (await shown.jsonValue()) as number
    const before = await page.evaluate(
      (at) =>
        performance
          .getEntriesByType('resource')
          .filter((entry) => new URL(entry.name).pathname.endsWith('.js') && entry.startTime < at)
          .map((entry) => entry.name),
      shownAt,
    )
    const sizes = await Promise.all(
      before.map(async (url) => {
        const size = await gzipped.get(url)
        assert.ok(size !== undefined, `no response seen for ${url}`)
        return [new URL(url).pathname, size] as const
      }),
    )
    const total = sizes.reduce((sum, [, size]) => sum + size, 0)
    process.stdout.write(
      `JavaScript before the first key (${shownAt.toFixed(0)} ms): ${(total / 1000).toFixed(1)} KB gzipped\n${sizes
        .map(([path, size]) => `  ${(size / 1000).toFixed(1).padStart(6)} KB  ${path}`)
        .join('\n')}\n`,
    )
    assert.ok(!before.some((url) => url.endsWith(nodeChunk)), 'the node chunk was asked for before the first key')
    assert.ok(total <= FIRST_KEY_BUDGET, `${total} bytes of gzipped JavaScript before the first key`)
    const started = await page.evaluate(() => window.dagsync?.follower.status().lastSync)
    assert.equal(started?.path, 'http', 'the first head came over HTTP')
    assert.ok((started?.blocks ?? 0) > 1, 'the tree came with the commit')

    // Then libp2p: the node starts, and a commit made now reaches the page through it.
    await page.waitForFunction(() => (window.dagsync?.peer.connections() ?? 0) > 0, undefined, { timeout: 30_000 })
    assert.ok(gzipped.has(`${api}/${nodeChunk}`), 'the node chunk loaded after the first key')
    assert.equal((await cli(scratch, repo, ['put', 'demo', '!after/http', '"live"'])).code, 0)
    await keyRow(page, '!after/http').waitFor({ timeout: 30_000 })
    // The node's tab sends its status a few times a second: the row can be on screen first.
    await page.waitForFunction(() => window.dagsync?.follower.status().lastSync?.path !== 'http', undefined, {
      timeout: 10_000,
    })
    const status = await page.evaluate(() => window.dagsync?.follower.status())
    assert.equal(status?.path, 'libp2p')
    await context.close()
    await daemon.stop()
  })
})
