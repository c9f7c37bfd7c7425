// Browsers share with each other (docs/browser.md): in real Chromium, two pages follow a store
// from its writer's daemon and make reservations on a second daemon that holds nothing of the
// store and only relays; the writer's daemon stops; a third page, given only the relay's address,
// syncs the store cold from the first two, over direct WebRTC connections signalled through the
// relay. Real daemon processes on loopback, no STUN server (iceServers: []).
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { cli, cliJson, DaemonProcess, Scratch } from './cli-helpers.ts'
import { buildWebApp } from './web-build.ts'
import { CHROMIUM, keepOnLoopback } from './web-page.ts'

const KEYS = 600
const scratch = new Scratch()
let browser: Browser

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium is not at ${CHROMIUM} (apt-get install chromium; .ci/run does)`)
  buildWebApp()
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Chromium offers host ICE candidates as mDNS names, resolved by multicast on the network:
    // offered as they are, nothing is resolved. Loopback candidates are off by default.
    args: ['--no-sandbox', '--disable-features=WebRtcHideLocalIpsWithMdns', '--allow-loopback-in-peer-connection'],
  })
})
after(async () => {
  await browser?.close()
  await scratch.close()
})

/** A page of the web app in a browser profile of its own (its own IndexedDB, its own node). */
async function openPage(url: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ serviceWorkers: 'block' })
  await keepOnLoopback(context)
  const page = await context.newPage()
  await page.goto(url)
  await page.waitForFunction(() => window.dagsync?.peer.node !== undefined, undefined, { timeout: 30_000 })
  return { context, page }
}

const syncedSeq = (page: Page) => page.evaluate(() => window.dagsync?.follower.status().synced?.seq ?? 0)

/** The page's connections: peer id and remote address. */
const connections = (page: Page) =>
  page.evaluate(() =>
    (window.dagsync?.peer.node?.libp2p.getConnections() ?? []).map((c) => ({
      peer: c.remotePeer.toString(),
      address: c.remoteAddr.toString(),
    })),
  )

describe('browsers share with each other', () => {
  it('a page that reaches only the relay syncs cold from two pages over WebRTC once the writer has stopped', async () => {
    const writerRepo = await scratch.dir()
    const relayRepo = await scratch.dir()
    // The writer does not relay: the pages' reservations are all on the relay.
    const turnOff = async (repo: string, key: string) => {
      const init = await cli(scratch, repo, ['init'])
      return init.code === 0 ? cli(scratch, repo, ['config', 'set', key, 'false']) : init
    }
    const configured = await Promise.all([turnOff(writerRepo, 'relay.enabled'), turnOff(relayRepo, 'demo')])
    assert.deepEqual(
      configured.map((r) => r.code),
      [0, 0],
    )
    const writer = await DaemonProcess.start(scratch, writerRepo)
    const w = await writer.ready
    const relay = await DaemonProcess.start(scratch, relayRepo)
    const r = await relay.ready
    assert.deepEqual(r.stores, [], 'the relay holds no store')
    const store = w.stores.find((s) => s.names.includes('demo'))?.id as string
    const ndjson = Array.from({ length: KEYS }, (_, i) =>
      JSON.stringify({ key: `k/${String(i).padStart(4, '0')}`, value: { i, text: 'x'.repeat(200) } }),
    ).join('\n')
    assert.equal((await cli(scratch, writerRepo, ['import', 'demo'], { input: ndjson })).code, 0)
    const head = await cliJson<{ seq: number }>(scratch, writerRepo, ['store', 'status', 'demo'])
    const listed = await cli(scratch, writerRepo, ['keys', 'demo', '--json'])
    const keys = listed.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { key: string }).key)
    assert.ok(keys.length > KEYS)

    // Pages A and B follow the store from the writer's daemon, and connect to the relay.
    const pages = [await openPage(w.api), await openPage(w.api)]
    for (const { page } of pages) {
      await page.waitForFunction((seq) => window.dagsync?.follower.status().synced?.seq === seq, head.seq, {
        timeout: 30_000,
      })
      await page.evaluate((address) => window.dagsync?.peer.node?.connect(address), r.addresses[0] as string)
      // Its reservation on the relay gives it a WebRTC address.
      await page.waitForFunction(
        () => window.dagsync?.peer.node?.addresses.some((a) => a.includes('/p2p-circuit/webrtc')),
        undefined,
        { timeout: 20_000 },
      )
    }
    const pageIds = await Promise.all(
      pages.map(({ page }) => page.evaluate(() => window.dagsync?.peer.node?.peerId.toString() as string)),
    )

    // The writer stops; page C, given only the relay's address, follows the store cold.
    await writer.stop()
    const c = await openPage(`${r.api}/?store=${store}`)
    await c.page.waitForFunction((seq) => window.dagsync?.follower.status().synced?.seq === seq, head.seq, {
      timeout: 60_000,
    })
    const held = await c.page.evaluate(async () => {
      const out: string[] = []
      for await (const info of window.dagsync?.follower.keys() ?? []) out.push(String(info.key))
      return out
    })
    assert.deepEqual(held, keys)
    const viaWebRtc = (await connections(c.page)).filter(
      (conn) => pageIds.includes(conn.peer) && conn.address.includes('/webrtc'),
    )
    assert.ok(
      viaWebRtc.length > 0,
      `C is connected to A or B over WebRTC: ${JSON.stringify(await connections(c.page))}`,
    )
    assert.equal(await syncedSeq(c.page), head.seq)
    // All on the fast path, from a page: nothing was left for bitswap.
    // (The tab hears of the node's last sync with its next status message.)
    await c.page.waitForFunction((seq) => window.dagsync?.follower.status().lastSync?.seq === seq, head.seq)
    const lastSync = await c.page.evaluate(() => window.dagsync?.follower.status().lastSync)
    assert.equal(lastSync?.path, 'fast', JSON.stringify(lastSync))
    assert.equal(lastSync?.fetched, 0)

    for (const { context } of [...pages, c]) await context.close()
    await relay.stop()
  })
})
