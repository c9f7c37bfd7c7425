// The web app's node (libp2p, sync) is a chunk of its own, in real Chromium against a real
// daemon: reloaded with that chunk refused, the page still shows every key of the replica it
// holds, and says why the node did not start; a tab that waits for another tab's node loads the
// chunk at once, so it can take the node over after the chunk is gone (as after a new build).
// See docs/bundle.md.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import type { BrowserContext } from 'playwright-core'
import { DaemonProcess, Scratch } from './cli-helpers.ts'
import { webNodeChunk } from './web-build.ts'
import { chromiumForFile, keepOnLoopback, keyRow } from './web-page.ts'

const scratch = new Scratch()
const chrome = chromiumForFile(scratch)
let nodeChunk: string

before(() => {
  nodeChunk = webNodeChunk()
})

/** A profile whose every request passes its routes (no service worker), kept on loopback. */
async function loopbackContext(): Promise<BrowserContext> {
  const context = await chrome.browser.newContext({ serviceWorkers: 'block' })
  await keepOnLoopback(context)
  return context
}

/** Refuses the node's chunk from now on; returns the URLs refused. */
async function refuseNodeChunk(context: BrowserContext): Promise<string[]> {
  const refused: string[] = []
  await context.route(`**/${nodeChunk}`, (route) => {
    refused.push(route.request().url())
    return route.abort()
  })
  return refused
}

describe('the web app and its node chunk', () => {
  it('shows the replica it holds when the chunk with libp2p cannot load', async () => {
    const daemon = await DaemonProcess.start(scratch, await scratch.dir())
    const { api } = await daemon.ready
    const context = await loopbackContext()
    const page = await context.newPage()
    const rows = page.locator('#keys tbody tr')

    // First visit: the node syncs the store into IndexedDB.
    await page.goto(api)
    await keyRow(page, 'welcome').waitFor({ timeout: 30_000 })
    const shown = await rows.count()

    // Reload with the node's chunk refused: the keys come from the replica alone.
    const refused = await refuseNodeChunk(context)
    await page.reload()
    await keyRow(page, 'welcome').waitFor({ timeout: 30_000 })
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

  it('lets a waiting tab take the node over when the chunk is no longer served', async () => {
    const daemon = await DaemonProcess.start(scratch, await scratch.dir())
    const { api } = await daemon.ready
    const context = await loopbackContext()
    const first = await context.newPage()
    await first.goto(api)
    await first.waitForFunction(() => window.dagsync?.peer.node !== undefined, undefined, { timeout: 30_000 })

    // The second tab waits for the first one's lock, and loads the node's chunk meanwhile.
    const second = await context.newPage()
    const loaded = second.waitForEvent('requestfinished', {
      predicate: (request) => request.url().endsWith(nodeChunk),
      timeout: 30_000,
    })
    await second.goto(api)
    await loaded
    assert.equal(await second.evaluate(() => window.dagsync?.peer.node === undefined), true)

    // The chunk is gone (a newer build), then the first tab closes: the second runs the node.
    const refused = await refuseNodeChunk(context)
    await first.close()
    await second.waitForFunction(() => (window.dagsync?.peer.connections() ?? 0) > 0, undefined, { timeout: 30_000 })
    assert.equal(await second.evaluate(() => window.dagsync?.peer.lastError), undefined)
    assert.deepEqual(refused, [])
    await context.close()
    await daemon.stop()
  })
})
