// The web app in real Chromium (Debian's, driven by playwright-core), against real daemon
// processes: the page shows the store, live writes arrive, a write from the page reaches the
// daemon and a second reader, a reload with the daemon stopped still shows the data, and a
// restarted daemon is caught up with. Screenshots of each state go to test-results/browser/.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { apiClient, cli, cliJson, DaemonProcess, eventually, freePort, Scratch } from './cli-helpers.ts'
import { chromiumForFile, keyRow, openPage } from './web-page.ts'

const root = join(import.meta.dirname, '..')
const shots = join(root, 'test-results', 'browser')
const scratch = new Scratch()
const chrome = chromiumForFile(scratch, { shots })

describe('the web app in Chromium', () => {
  it('shows the store live, writes through the writer once allowed, and works offline across reloads and restarts', async () => {
    const writerRepo = await scratch.dir()
    const readerRepo = await scratch.dir()
    const ports = { ws: await freePort(), api: await freePort() }
    let writer = await DaemonProcess.start(scratch, writerRepo, ports)
    const w = await writer.ready
    const demo = w.stores.find((s) => s.names.includes('demo'))?.id as string
    const reader = await DaemonProcess.start(scratch, readerRepo)
    assert.equal((await cli(scratch, readerRepo, ['peers', 'connect', w.addresses[0] as string])).code, 0)
    await cliJson(scratch, readerRepo, ['store', 'follow', demo, '--name', 'shared'])

    // Nothing the page loads may leave loopback.
    const { context, page, errors } = await openPage(chrome.browser)

    // 1. The page shows the store.
    await page.goto(w.api)
    await keyRow(page, 'welcome').waitFor({ timeout: 30_000 })
    assert.equal(await page.locator('#keys tbody tr').count(), 6)
    await page.locator('#connection[data-state="online"]').waitFor()
    await page.screenshot({ path: join(shots, '1-store.png'), fullPage: true })

    // 2. A write on the daemon shows up in the page within a second.
    const client = await apiClient(writerRepo, w.api)
    const written = Date.now()
    await client.put({ store: 'demo', key: 'live/1', value: { hello: 'browser' } })
    await keyRow(page, 'live/1').waitFor({ timeout: 5_000 })
    const latency = Date.now() - written
    assert.ok(latency < 1000, `shown ${latency} ms after the commit`)
    await page.screenshot({ path: join(shots, '2-live-write.png'), fullPage: true })

    // Selecting a key shows its value, metadata and history.
    await client.put({ store: 'demo', key: 'live/1', value: { hello: 'again' } })
    await page.waitForFunction(() => document.querySelector('#keys tbody')?.getAttribute('data-seq') === '3')
    await keyRow(page, 'live/1').click()
    await page.locator('#history li').nth(1).waitFor()
    assert.match((await page.locator('#detail-value').textContent()) ?? '', /"hello": "again"/)
    assert.deepEqual(await page.locator('#history li .history-value').allTextContents(), [
      '{ "hello": "again" }',
      '{ "hello": "browser" }',
    ])
    assert.deepEqual(
      await page.locator('#history li').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.change)),
      ['changed', 'added'],
    )

    // Prefix search.
    await page.fill('#search', 'todo/')
    await page.waitForFunction(() => document.querySelectorAll('#keys tbody tr').length === 3)
    await page.fill('#search', '')

    // 3. A write from the page: refused until the writer allows this browser's peer id.
    const browserPeer = (await page.locator('#status-peer').textContent()) as string
    assert.match(browserPeer, /^12D3KooW/)
    const writeFromPage = async (key: string, value: string) => {
      await page.fill('#write-key', key)
      await page.fill('#write-value', value)
      await page.click('#write-submit')
      await page.locator('#write-message:not([data-state="pending"])').waitFor()
      return (await page.locator('#write-message').textContent()) ?? ''
    }
    const refused = await writeFromPage('from/page', '"hi"')
    await page.screenshot({ path: join(shots, '3-write-refused.png'), fullPage: true })
    assert.equal((await cli(scratch, writerRepo, ['get', 'demo', 'from/page'])).code, 3, 'nothing was written')
    // The page's hint runs as shown, in a shell where the daemon was started (it adds, not replaces).
    const hint = /may not write.* On the daemon, run: (.+ store allow demo (12D3KooW\w+))$/.exec(refused)
    assert.ok(hint, refused)
    assert.equal(hint[2], browserPeer)
    execFileSync('sh', ['-c', hint[1] as string], { cwd: root, stdio: 'ignore' })
    assert.match(await writeFromPage('from/page', '{"n": 1}'), /written: commit #4/)
    await keyRow(page, 'from/page').waitFor()
    assert.deepEqual((await cliJson<{ value: unknown }>(scratch, writerRepo, ['get', 'demo', 'from/page'])).value, {
      n: 1,
    })
    const atReader = await eventually('the second reader has the page write', async () => {
      const got = await cli(scratch, readerRepo, ['get', 'shared', 'from/page', '--json'])
      return got.code === 0 ? (JSON.parse(got.stdout) as { value: unknown }).value : undefined
    })
    assert.deepEqual(atReader, { n: 1 })
    await page.screenshot({ path: join(shots, '4-written-from-page.png'), fullPage: true })

    // 4. The daemon stops; a reload still shows everything, from IndexedDB.
    await writer.stop()
    await reader.stop()
    await page.reload()
    await keyRow(page, 'from/page').waitFor({ timeout: 30_000 })
    assert.equal(await page.locator('#keys tbody tr').count(), 8)
    await page.locator('#connection[data-state="offline"]').waitFor()
    await page.screenshot({ path: join(shots, '5-offline-reload.png'), fullPage: true })

    // 5. A write made while the page was offline; the daemon comes back where it was, and the page catches up.
    assert.equal((await cli(scratch, writerRepo, ['put', 'demo', 'while/offline', '42'])).code, 0)
    writer = await DaemonProcess.start(scratch, writerRepo, ports)
    await keyRow(page, 'while/offline').waitFor({ timeout: 30_000 })
    await page.locator('#connection[data-state="online"]').waitFor()
    await page.screenshot({ path: join(shots, '6-caught-up.png'), fullPage: true })
    const status = await page.evaluate(() => window.dagsync?.follower.status().lastSync)
    assert.ok(status !== undefined && status.blocks < 10, `only the new blocks were fetched: ${JSON.stringify(status)}`)

    // 6. Many keys at once: an import through the CLI reaches the page as any commit does, and a
    // list of writes from the page is one commit on the daemon.
    const ndjson = Array.from({ length: 2000 }, (_, i) =>
      JSON.stringify({ key: `bulk/${String(i).padStart(4, '0')}`, value: { i } }),
    ).join('\n')
    const imported = await cli(scratch, writerRepo, ['import', 'demo', '--json'], { input: ndjson })
    assert.equal(imported.code, 0, imported.stderr)
    const last = (JSON.parse(imported.stdout) as { commits: { commit: { seq: number } }[] }).commits.at(-1)?.commit
      .seq as number
    await page.waitForFunction((seq) => window.dagsync?.follower.status().synced?.seq === seq, last, {
      timeout: 30_000,
    })
    assert.deepEqual(await page.evaluate(() => window.dagsync?.follower.get('bulk/1999')), { i: 1999 })
    const fromPage = await page.evaluate(async () => {
      const result = await window.dagsync?.follower.transact([
        { op: 'put', key: 'page/a', value: 1 },
        { op: 'put', key: 'page/b', value: { n: 2 } },
        { op: 'delete', key: 'bulk/0000' },
      ])
      return result?.commit?.seq
    })
    assert.equal(fromPage, last + 1, 'one commit for the list')
    assert.deepEqual((await cliJson<{ value: unknown }>(scratch, writerRepo, ['get', 'demo', 'page/b'])).value, {
      n: 2,
    })
    assert.equal((await cli(scratch, writerRepo, ['get', 'demo', 'bulk/0000'])).code, 3)
    await page.screenshot({ path: join(shots, '7-bulk.png'), fullPage: true })

    assert.deepEqual(errors, [])
    await context.close()
    await writer.stop()
  })
})
