// Offline writes in real Chromium against a real daemon process: writes made while the daemon is
// down wait in the outbox (IndexedDB), shown as pending, survive a reload, and are committed in
// the order they were made once the daemon is back; a write based on a value the daemon has
// since replaced is rejected and reported. Screenshots go to test-results/browser-outbox/.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import { apiClient, cli, DaemonProcess, freePort, Scratch } from './cli-helpers.ts'
import { chromiumForFile, keyRow, openPage } from './web-page.ts'

const shots = join(import.meta.dirname, '..', 'test-results', 'browser-outbox')
const scratch = new Scratch()
const chrome = chromiumForFile(scratch, { shots })

const outbox = (page: Page, state: string) => page.locator(`#outbox li[data-state="${state}"]`)

async function writeFromPage(page: Page, key: string, value: string, ifUnchanged = false): Promise<void> {
  await page.fill('#write-key', key)
  await page.fill('#write-value', value)
  await page.setChecked('#write-if-match', ifUnchanged)
  await page.click('#write-submit')
}

describe('offline writes in Chromium', () => {
  it('keeps writes made offline across a reload, commits them in order when the daemon is back, and rejects a stale one', async () => {
    const repo = await scratch.dir()
    const ports = { ws: await freePort(), api: await freePort() }
    let daemon = await DaemonProcess.start(scratch, repo, ports)
    const d = await daemon.ready
    const client = await apiClient(repo, d.api)
    const { context, page, errors } = await openPage(chrome.browser)
    await page.goto(d.api)
    await keyRow(page, 'welcome').waitFor({ timeout: 30_000 })
    await page.locator('#connection[data-state="online"]').waitFor()
    const peerId = (await page.evaluate(() => window.dagsync?.peer.peerId)) as string
    assert.equal((await cli(scratch, repo, ['store', 'allow', 'demo', peerId])).code, 0)
    await client.put({ store: 'demo', key: 'doc', value: { v: 1 } })
    await keyRow(page, 'doc').waitFor({ timeout: 10_000 })

    // 1. The daemon goes away; three writes wait in the outbox, shown at once as pending.
    await daemon.stop()
    await page.locator('#connection[data-state="offline"]').waitFor({ timeout: 10_000 })
    for (const n of [1, 2, 3]) {
      await writeFromPage(page, `offline/${n}`, `{"n": ${n}}`)
      await outbox(page, 'pending')
        .nth(n - 1)
        .waitFor({ timeout: 5_000 })
    }
    assert.match((await page.locator('#write-message').textContent()) ?? '', /^pending: it is kept in this browser/)
    // Meanwhile the daemon's copy of doc moves on (the page, offline, still holds {v: 1}).
    assert.equal((await cli(scratch, repo, ['put', 'demo', 'doc', '{"v": 2}'])).code, 0)
    await page.screenshot({ path: join(shots, '1-pending.png'), fullPage: true })

    // 2. A reload, still offline: the writes are still there, from IndexedDB.
    await page.reload()
    await keyRow(page, 'doc').waitFor({ timeout: 30_000 })
    await outbox(page, 'pending').nth(2).waitFor({ timeout: 10_000 })
    assert.deepEqual(
      await page.evaluate(async () =>
        (await window.dagsync?.follower.pending())?.map((w) => w.ops.map((op) => op.key).join()),
      ),
      ['offline/1', 'offline/2', 'offline/3'],
    )
    const ids = await page.evaluate(async () => (await window.dagsync?.follower.pending())?.map((w) => w.id))
    // A write based on the page's (now stale) copy of doc joins them.
    await writeFromPage(page, 'doc', '{"v": "from the page"}', true)
    await outbox(page, 'pending').nth(3).waitFor({ timeout: 5_000 })

    // 3. The daemon is back: the three are committed in the order they were made, the stale one refused.
    daemon = await DaemonProcess.start(scratch, repo, ports)
    await outbox(page, 'accepted').nth(2).waitFor({ timeout: 30_000 })
    await outbox(page, 'rejected').waitFor({ timeout: 10_000 })
    await page.screenshot({ path: join(shots, '2-settled.png'), fullPage: true })
    const seqs: number[] = []
    const writeIds: unknown[] = []
    for (const n of [1, 2, 3]) {
      const got = await client.get({ store: 'demo', key: `offline/${n}` })
      assert.deepEqual(got.value, { n })
      for await (const commit of client.log({ store: 'demo', key: `offline/${n}`, limit: 1 })) {
        seqs.push(commit.seq)
        writeIds.push((commit.meta as { write?: unknown }).write)
      }
    }
    // Each commit names its outbox write: sent again after a lost answer, the writer would apply it once.
    assert.deepEqual(writeIds, ids)
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      `committed in order: ${seqs}`,
    )
    assert.deepEqual(
      (await client.get({ store: 'demo', key: 'doc' })).value,
      { v: 2 },
      'the stale write changed nothing',
    )
    assert.match(
      (await outbox(page, 'rejected').textContent()) ?? '',
      /^put doc \(if unchanged\): rejected \(precondition-failed\): "doc" changed since the write was based on it/,
    )
    assert.match((await page.locator('#write-message').textContent()) ?? '', /^The write was refused: "doc" changed/)
    assert.equal(await page.evaluate(async () => (await window.dagsync?.follower.pending())?.length), 0)
    assert.deepEqual(errors, [])
    await context.close()
    await daemon.stop()
  })
})
