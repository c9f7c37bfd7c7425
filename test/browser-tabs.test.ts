// Three tabs of one browser profile (one Chromium persistent context, one origin) share one node:
// a daemon write shows in all three within a second, every tab's write reaches the daemon (sent
// at once, or through the outbox), and closing the tab that holds the node moves the node to
// another tab with no commit's changes lost in any tab. Real Chromium, real daemon process.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { BrowserContext, Page } from 'playwright-core'
import { browserEntry, bundleProbe } from './browser-probe.ts'
import { apiClient, cli, cliJson, DaemonProcess, eventually, Scratch } from './cli-helpers.ts'
import { keepOnLoopback, keyRow, launchChromiumProfile } from './web-page.ts'

const scratch = new Scratch()
let context: BrowserContext

declare global {
  interface Window {
    /** Every key the test's own watch in this tab was told of, in order. */
    seen?: string[]
    /** What `startBrowserPeer` came to in the probe module. */
    startBrowserPeerResult?: Promise<string>
  }
}

before(async () => {
  context = await launchChromiumProfile(await scratch.dir('dagsync-profile-'))
})
after(async () => {
  await context?.close()
  await scratch.close()
})

/**
 * A module that calls `startBrowserPeer` in a tab (the web app itself only uses `startTabPeer`),
 * bundled for the browser as the app is.
 */
async function startBrowserPeerProbe(): Promise<string> {
  return await bundleProbe(
    scratch,
    `import { NodeHeldElsewhereError, startBrowserPeer } from ${browserEntry}
window.startBrowserPeerResult = startBrowserPeer({ peers: [] }).then(
  () => 'started',
  (err) => (err instanceof NodeHeldElsewhereError ? 'NodeHeldElsewhereError: ' : 'other: ') + err.message,
)
`,
  )
}

const holdsNode = (page: Page) => page.evaluate(() => window.dagsync?.peer.node !== undefined)

/** Starts a watch of the test's own in the tab, recording every key each commit changed. */
async function recordChanges(page: Page): Promise<void> {
  await page.evaluate(() => {
    window.seen = []
    void (async () => {
      for await (const { changes } of window.dagsync?.follower.watch() ?? [])
        for (const { key } of changes) window.seen?.push(String(key))
    })()
  })
}

describe('three tabs of one browser profile', () => {
  it('all stay live, all write, and the node moves with no lost changes when its tab closes', async () => {
    const repo = await scratch.dir()
    const daemon = await DaemonProcess.start(scratch, repo)
    const d = await daemon.ready
    const client = await apiClient(repo, d.api)
    const errors = await keepOnLoopback(context)

    const tabs: Page[] = []
    for (let i = 0; i < 3; i++) {
      const page = await context.newPage()
      page.on('pageerror', (err) => errors.push(`tab ${i}: ${err.message}`))
      await page.goto(d.api)
      await keyRow(page, 'welcome').waitFor({ timeout: 30_000 })
      await page.locator('#connection[data-state="online"]').waitFor({ timeout: 10_000 })
      await recordChanges(page)
      tabs.push(page)
    }
    const holders: Page[] = []
    for (const page of tabs) if (await holdsNode(page)) holders.push(page)
    assert.equal(holders.length, 1, 'one tab holds the node')
    for (const page of tabs)
      await page
        .locator(`#status-node:text-is("${holders.includes(page) ? 'this tab' : 'another tab'}")`)
        .waitFor({ timeout: 5_000 })
    const peerIds = await Promise.all(tabs.map((p) => p.evaluate(() => window.dagsync?.peer.peerId)))
    assert.match(peerIds[0] ?? '', /^12D3KooW/)
    assert.deepEqual(new Set(peerIds).size, 1, 'one identity for the profile')

    // 1. A daemon write shows in every tab within a second.
    const written = Date.now()
    await client.put({ store: 'demo', key: 'live/1', value: { hello: 'tabs' } })
    const shownAfter = await Promise.all(
      tabs.map(async (page) => {
        await keyRow(page, 'live/1').waitFor({ timeout: 5_000 })
        return Date.now() - written
      }),
    )
    for (const ms of shownAfter) assert.ok(ms < 1000, `shown ${shownAfter.join(', ')} ms after the commit`)

    // 2. A write from any tab reaches the daemon (once the daemon allows the profile's peer id).
    assert.equal((await cli(scratch, repo, ['store', 'allow', 'demo', peerIds[0] as string])).code, 0)
    for (const [i, page] of tabs.entries()) {
      const seq = await page.evaluate(
        async (key) => (await window.dagsync?.follower.assoc(key, { from: 'tab' }))?.seq,
        `from/tab-${i}`,
      )
      assert.ok(typeof seq === 'number' && seq > 0, `tab ${i}'s write made a commit`)
      assert.deepEqual((await cliJson<{ value: unknown }>(scratch, repo, ['get', 'demo', `from/tab-${i}`])).value, {
        from: 'tab',
      })
    }

    // 3. The node's tab closes while the daemon writes a key every 50 ms: another tab takes the
    // node, and every remaining tab is told of every key.
    const holder = holders[0] as Page
    const rest = tabs.filter((p) => p !== holder)
    const keys = Array.from({ length: 30 }, (_, i) => `handover/${String(i).padStart(2, '0')}`)
    let head = 0
    const writing = (async () => {
      for (const key of keys) {
        head = (await client.put({ store: 'demo', key, value: key })).commit?.seq ?? head
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()
    await new Promise((resolve) => setTimeout(resolve, 300))
    // A write handed to the node's tab while it is frozen (it cannot answer), then the tab closes.
    const cdp = await context.newCDPSession(holder)
    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' })
    const orphan = (rest[0] as Page).evaluate(() =>
      window.dagsync?.follower.assoc('orphan', 1).then(
        () => 'written',
        (err: Error) => `${err.constructor === window.dagsync?.errors.RemoteWriteError}: ${err.message}`,
      ),
    )
    await holder.close()
    await writing
    const answer = await Promise.race([orphan, new Promise((resolve) => setTimeout(resolve, 20_000, 'no answer'))])
    assert.match(String(answer), /^true: the tab that held the node closed before the writer answered/)
    for (const page of rest) {
      await page.waitForFunction((seq) => window.dagsync?.follower.head?.seq === seq, head, { timeout: 30_000 })
      await page.locator('#connection[data-state="online"]').waitFor({ timeout: 10_000 })
      const seen = await page.evaluate(() => window.seen ?? [])
      assert.deepEqual(
        keys.filter((k) => !seen.includes(k)),
        [],
        'every key written around the handover reached this tab',
      )
    }
    const newHolders: Page[] = []
    for (const page of rest) if (await holdsNode(page)) newHolders.push(page)
    assert.equal(newHolders.length, 1, 'another tab took the node')

    // The tab that did not take the node still writes, through the new node's tab.
    const other = rest.find((p) => !newHolders.includes(p)) as Page
    const seq = await other.evaluate(async () => (await window.dagsync?.follower.assoc('from/after', 1))?.seq)
    assert.equal(seq, head + 1)
    assert.equal(
      await eventually('the new node tab has the write', async () =>
        newHolders[0]?.evaluate(() => window.dagsync?.follower.get('from/after')),
      ),
      1,
    )
    // And through the outbox: the node's tab sends it, and the writing tab hears how it ended.
    const outcome = await other.evaluate(async () => {
      const follower = window.dagsync?.follower
      const write = await follower?.queue([{ op: 'put', key: 'from/outbox', value: 2 }])
      return write === undefined ? undefined : await follower?.settled(write.id)
    })
    assert.deepEqual(outcome && [outcome.status, outcome.status === 'accepted' && outcome.seq], ['accepted', head + 2])
    assert.equal((await cliJson<{ value: unknown }>(scratch, repo, ['get', 'demo', 'from/outbox'])).value, 2)

    // A page that starts a node of its own next to the tabs' one is refused, not left deaf.
    await other.addScriptTag({ content: await startBrowserPeerProbe(), type: 'module' })
    // A module script may run after addScriptTag resolves: wait for it to have started the peer.
    await other.waitForFunction(() => window.startBrowserPeerResult !== undefined)
    assert.match(
      (await other.evaluate(() => window.startBrowserPeerResult)) ?? '',
      /^NodeHeldElsewhereError: another tab of this origin runs a dagsync node on database "dagsync"/,
    )

    assert.deepEqual(errors, [])
    await daemon.stop()
  })
})
