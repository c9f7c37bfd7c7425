// Delegated routing from Chromium: a page on another origin, given only a daemon's routing URL and
// a store id, finds the record and the provider through the daemon's /routing/v1/ API, dials it
// and syncs the store. Real Chromium, real daemon process.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { describe, it } from 'node:test'
import { browserEntry, bundleProbe } from './browser-probe.ts'
import { cli, DaemonProcess, listenOnLoopback, Scratch } from './cli-helpers.ts'
import { chromiumForFile } from './web-page.ts'

const scratch = new Scratch()
const chrome = chromiumForFile(scratch, { webApp: false })

declare global {
  interface Window {
    probeInit?: { router: string; store: string }
    probeResult?: Promise<{ value: unknown; headsFromRouting: number; peers: number }>
  }
}

/** The page's module: a browser peer with the router only, following the store until `found` is there. */
async function probe(): Promise<string> {
  return await bundleProbe(
    scratch,
    `import { startBrowserPeer } from ${browserEntry}
const { router, store } = window.probeInit
window.probeResult = (async () => {
  const node = await startBrowserPeer({ peers: [], delegatedRouters: [router], database: 'discovery' })
  const replica = await node.follow(store)
  for (;;) {
    const value = await replica.get('found')
    if (value !== undefined) return { value, headsFromRouting: node.stats.headsFromDht, peers: node.libp2p.getPeers().length }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
})()
`,
  )
}

describe('delegated routing in Chromium', () => {
  it("leads a page on another origin, given a daemon's routing URL and a store id, to the store", async () => {
    const repo = await scratch.dir()
    assert.equal((await cli(scratch, repo, ['init'])).code, 0)
    const ready = await (await DaemonProcess.start(scratch, repo)).ready
    const store = ready.stores.find((s) => s.names.includes('demo'))
    assert.ok(store)
    assert.equal((await cli(scratch, repo, ['put', 'demo', 'found', '"in Chromium"'])).code, 0)

    // A page of its own origin (another port), so the routing API is asked across origins.
    const site = createServer((_, res) => res.end('<!doctype html><title>elsewhere</title>'))
    const siteUrl = await listenOnLoopback(scratch, site)

    const page = await chrome.browser.newPage()
    await page.goto(`${siteUrl}/`)
    await page.evaluate(
      (init) => {
        window.probeInit = init
      },
      { router: ready.api, store: store.id },
    )
    await page.addScriptTag({ content: await probe(), type: 'module' })
    // A module script runs after it is added, not as it is added: wait until it has started.
    await page.waitForFunction(() => window.probeResult !== undefined)
    const result = await page.evaluate(() =>
      Promise.race([
        window.probeResult,
        new Promise((_, reject) => setTimeout(() => reject(new Error('not synced within 60 s')), 60_000)),
      ]),
    )
    assert.deepEqual(result, { value: 'in Chromium', headsFromRouting: 1, peers: 1 })
  })
})
