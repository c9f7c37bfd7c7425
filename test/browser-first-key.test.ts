// The web app shows a replica it already holds with only what loads with the page: reloaded in
// real Chromium with the node's chunk (libp2p, sync) refused, it still shows every key from
// IndexedDB, and says why the node did not start. See docs/bundle.md.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { type Browser, chromium } from 'playwright-core'
import { readChunkGraph } from '../apps/web/build/bundle-report.ts'
import { DaemonProcess, Scratch } from './cli-helpers.ts'
import { buildWebApp, chunkGraphFile } from './web-build.ts'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const scratch = new Scratch()
let browser: Browser

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium is not at ${CHROMIUM} (apt-get install chromium; .ci/run does)`)
  buildWebApp()
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
})
after(async () => {
  await browser?.close()
  await scratch.close()
})

describe('the web app without its node', () => {
  it('shows the replica it holds when the chunk with libp2p cannot load', async () => {
    const nodeChunk = readChunkGraph(chunkGraphFile).find((c) =>
      Object.keys(c.modules).some((id) => id.endsWith('packages/browser/src/page-node.ts')),
    )
    assert.ok(nodeChunk !== undefined, 'the build has a chunk of its own for the node')
    const daemon = await DaemonProcess.start(scratch, await scratch.dir())
    const { api } = await daemon.ready
    // Without the service worker, every request the page makes passes the routes below.
    const context = await browser.newContext({ serviceWorkers: 'block' })
    await context.route(
      (url) => !['127.0.0.1', 'localhost'].includes(url.hostname),
      (route) => route.abort(),
    )
    const page = await context.newPage()
    const rows = page.locator('#keys tbody tr')

    // First visit: the node syncs the store into IndexedDB.
    await page.goto(api)
    await page.locator('#keys tbody tr[data-key="welcome"]').waitFor({ timeout: 30_000 })
    const shown = await rows.count()

    // Reload with the node's chunk refused: the keys come from the replica alone.
    const refused: string[] = []
    await context.route(`**/${nodeChunk.file}`, (route) => {
      refused.push(route.request().url())
      return route.abort()
    })
    await page.reload()
    await page.locator('#keys tbody tr[data-key="welcome"]').waitFor({ timeout: 30_000 })
    assert.equal(await rows.count(), shown)
    await page.waitForFunction(() => window.dagsync?.peer.lastError !== undefined)
    assert.match(
      (await page.evaluate(() => window.dagsync?.peer.lastError)) as string,
      /this tab could not start the node/,
    )
    assert.equal(refused.length, 1, 'the page asked for the node chunk once, and was refused')
    await context.close()
    await daemon.stop()
  })
})
