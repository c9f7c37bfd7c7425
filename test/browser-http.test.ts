// The web app in real Chromium with WebSockets blocked: the page cannot dial the daemon, so it
// syncs through the daemon's trustless gateway alone (the address /config.json gives it, another
// origin than the page's), says `over http` in its status, and catches up after a commit.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cli, DaemonProcess, eventually, Scratch } from './cli-helpers.ts'
import { chromiumForFile, keepOnLoopback, keyRow } from './web-page.ts'

const scratch = new Scratch()
const chrome = chromiumForFile(scratch)

describe('the web app over HTTP only', () => {
  it('syncs through the gateway when no WebSocket can open, says so, and catches up after a commit', async () => {
    const repo = await scratch.dir()
    const daemon = await DaemonProcess.start(scratch, repo, {}, { args: ['--gateway-address', '127.0.0.1:0'] })
    const ready = await daemon.ready
    const context = await chrome.browser.newContext()
    const errors = await keepOnLoopback(context)
    // Every WebSocket the page opens is refused, as a proxy or firewall that drops them would.
    let blocked = 0
    await context.routeWebSocket(
      () => true,
      (ws) => {
        blocked++
        return ws.close({ code: 1008, reason: 'blocked by the test' })
      },
    )
    const page = await context.newPage()
    page.on('pageerror', (err) => errors.push(err.message))
    await page.goto(ready.api)
    await keyRow(page, 'welcome').waitFor({ timeout: 30_000 })
    await page.waitForFunction(() => document.getElementById('status-last')?.textContent?.endsWith(' over http'))
    // The first key came before libp2p loaded (docs/bundle.md); then the node tries to dial.
    await page.waitForFunction(() => window.dagsync?.peer.node !== undefined, undefined, { timeout: 30_000 })
    await eventually('a WebSocket dial', async () => (blocked > 0 ? true : undefined))

    assert.equal((await cli(scratch, repo, ['put', 'demo', 'over/http', '"yes"'])).code, 0)
    await keyRow(page, 'over/http').waitFor({ timeout: 30_000 })
    assert.match((await page.locator('#status-last').textContent()) ?? '', / over http$/)
    assert.deepEqual(errors, [])
    await context.close()
  })
})
