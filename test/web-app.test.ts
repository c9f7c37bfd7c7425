// The web app's views in real Chromium against a real daemon process: the number of keys and
// pages, a key's whole history paged 20 at a time (its first value labelled created, authors and
// times), a delete through the outbox shown pending, the diff between two commits, substring
// search, the JSON editor's validation, the peers list, the store picker, a phone-width screen
// and the page for an unknown store. Screenshots of each view go to test-results/browser/.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import { apiClient, cli, DaemonProcess, freePort, Scratch } from './cli-helpers.ts'
import { chromiumForFile, keyRow, openPage } from './web-page.ts'

const root = join(import.meta.dirname, '..')
const shots = join(root, 'test-results', 'browser')
const scratch = new Scratch()
const chrome = chromiumForFile(scratch, { shots })

const text = async (page: Page, selector: string) => (await page.locator(selector).textContent()) ?? ''
const synced = (page: Page, seq: number) =>
  page.waitForFunction((s) => (window.dagsync?.follower.status().synced?.seq ?? 0) >= s, seq, { timeout: 10_000 })
const written: string[] = []
async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shots, name), fullPage: true })
  written.push(name)
}

describe('the web app views in Chromium', () => {
  it('shows counts, whole key histories, deletes, diffs, substring search, JSON checks, peers, stores, phones and unknown stores', async () => {
    const repo = await scratch.dir()
    const ports = { ws: await freePort(), api: await freePort() }
    let daemon = await DaemonProcess.start(scratch, repo, ports)
    const d = await daemon.ready
    const client = await apiClient(repo, d.api)
    assert.equal((await cli(scratch, repo, ['store', 'create', '--name', 'notes'])).code, 0)

    const { context, page, errors } = await openPage(chrome.browser)
    await page.goto(d.api)
    await keyRow(page, 'welcome').waitFor({ timeout: 30_000 })
    await page.locator('#connection[data-state="online"]').waitFor()
    const browserPeer = (await page.evaluate(() => window.dagsync?.peer.peerId)) as string
    assert.equal((await cli(scratch, repo, ['store', 'allow', 'demo', browserPeer])).code, 0)

    // 1. The number of keys and pages, with the key table.
    await page.waitForFunction(() => document.querySelector('#key-count')?.textContent === '6 keys · page 1 of 1')
    const ndjson = Array.from({ length: 60 }, (_, i) =>
      JSON.stringify({ key: `bulk/${String(i).padStart(4, '0')}`, value: { i } }),
    ).join('\n')
    assert.equal((await cli(scratch, repo, ['import', 'demo'], { input: ndjson })).code, 0)
    await page.waitForFunction(() => document.querySelector('#key-count')?.textContent === '66 keys · page 1 of 3')
    await page.click('#next')
    await page.waitForFunction(() => document.querySelector('#key-count')?.textContent === '66 keys · page 2 of 3')
    await page.click('#prev')
    await page.waitForFunction(() => document.querySelector('#key-count')?.textContent?.includes('page 1 of 3'))
    await shot(page, 'view-keys.png')

    // 2. A key written 25 times: its whole history, 20 at a time, the first value labelled created.
    let seq = 0
    for (let i = 0; i < 25; i++) {
      seq = (await client.put({ store: 'demo', key: 'hist', value: i })).commit?.seq as number
      await synced(page, seq) // the page holds every commit
    }
    await page.fill('#search', 'hist')
    await keyRow(page, 'hist').click()
    await page.locator('#history li').nth(19).waitFor()
    assert.equal(await page.locator('#history li').count(), 20)
    const newest = await text(page, '#history li:first-child .history-head')
    assert.match(newest, new RegExp(`^changed in #${seq} …\\w{8} by ${d.peerId}, `), newest)
    assert.equal(await text(page, '#history li:first-child .history-value'), '24')
    await page.click('#history-older')
    await page.locator('#history li').nth(24).waitFor()
    assert.equal(await page.locator('#history li').count(), 25)
    assert.match(await text(page, '#history li:last-child .history-head'), new RegExp(`^created in #${seq - 24} `))
    assert.equal(await text(page, '#history li:last-child .history-value'), '0')
    assert.equal(await page.locator('#history-older').isHidden(), true, 'no older page')
    assert.equal(await text(page, '#history-end'), '')
    await shot(page, 'view-history.png')

    // A page that started after those writes holds only the commit it synced: it says so, the
    // command it gives lists the whole history on the daemon, and it can fetch that history itself.
    const late = await openPage(chrome.browser)
    await late.page.goto(d.api)
    await keyRow(late.page, 'bulk/0000').waitFor({ timeout: 30_000 })
    await late.page.fill('#search', 'hist')
    await keyRow(late.page, 'hist').click()
    await late.page.locator('#history-end:not(:empty)').waitFor()
    const end = await text(late.page, '#history-end')
    const hint =
      /^Older commits are not held in this browser \(it synced past them\)\. On the daemon, (.+) lists them all\.$/.exec(
        end,
      )
    assert.ok(hint, end)
    const log = execFileSync('sh', ['-c', hint[1] as string], { cwd: root, encoding: 'utf8' })
    assert.equal(log.trim().split('\n').length, 25, log)
    // Or it fetches the older commits from the daemon, and lists the whole history itself.
    const held = await late.page.locator('#history li').count()
    await late.page.click('#history-fetch')
    await late.page
      .locator('#history li')
      .nth(held + 19)
      .waitFor({ timeout: 60_000 })
    assert.equal(await late.page.locator('#history li').count(), held + 20, 'a page more')
    // Twenty commits fetched: the next page shows what else they hold, then it fetches again.
    await late.page.click('#history-older')
    await late.page.locator('#history-fetch:visible').waitFor()
    await late.page.click('#history-fetch')
    await late.page.locator('#history li').nth(24).waitFor({ timeout: 60_000 })
    assert.match(await text(late.page, '#history li:last-child .history-head'), new RegExp(`^created in #${seq - 24} `))
    assert.equal(await text(late.page, '#history li:last-child .history-value'), '0')
    assert.equal(await text(late.page, '#history-end'), '')
    assert.equal(await late.page.locator('#history-fetch').isHidden(), true)
    assert.deepEqual(late.errors, [])
    await late.context.close()

    // 3. Delete through the outbox: pending while the daemon is down, then committed.
    const before = seq
    await page.fill('#search', 'welcome')
    await keyRow(page, 'welcome').click()
    await page.locator('#delete:visible').waitFor()
    await daemon.stop()
    await page.locator('#connection[data-state="offline"]').waitFor({ timeout: 10_000 })
    await page.click('#delete')
    await page.locator('#outbox li[data-state="pending"]').waitFor({ timeout: 5_000 })
    assert.equal(await text(page, '#outbox li[data-state="pending"]'), 'delete welcome: pending')
    await page.locator('#keys tbody tr.pending[data-key="welcome"]').waitFor()
    await shot(page, 'view-delete-pending.png')
    daemon = await DaemonProcess.start(scratch, repo, ports)
    await page
      .locator('#outbox li[data-state="accepted"]')
      .waitFor({ timeout: 60_000 })
      .catch(async (err) => {
        const state = await page.evaluate(() => ({
          status: window.dagsync?.follower.status(),
          outbox: document.querySelector('#outbox')?.textContent,
          connections: window.dagsync?.peer.connections(),
        }))
        throw new Error(`the delete was not accepted: ${JSON.stringify(state)}`, { cause: err })
      })
    await keyRow(page, 'welcome').waitFor({ state: 'detached' })
    assert.match(await text(page, '#write-message'), /^deleted welcome: commit #\d+$/)
    assert.equal((await cli(scratch, repo, ['get', 'demo', 'welcome'])).code, 3, 'deleted on the daemon')

    await page.fill('#search', '')

    // 4. The diff between two commits: a key added, one changed, one removed.
    await client.put({ store: 'demo', key: 'diff/new', value: { n: 1 } })
    const head = (await client.put({ store: 'demo', key: 'hist', value: 'final' })).commit?.seq as number
    await synced(page, head)
    // Until one is picked, the pickers offer the two newest commits.
    await page.waitForFunction(
      (s) =>
        (document.querySelector('#diff-to') as HTMLSelectElement).value === String(s) &&
        (document.querySelector('#diff-from') as HTMLSelectElement).value === String(s - 1),
      head,
    )
    await page.selectOption('#diff-from', String(before))
    await page.selectOption('#diff-to', String(head))
    await page.click('#diff-show')
    await page.locator('#diff-table tbody tr').nth(2).waitFor()
    assert.equal(await text(page, '#diff-summary'), `#${before} → #${head}: 1 added, 1 changed, 1 removed`)
    const diffRows = await page
      .locator('#diff-table tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent).join(' | ')))
    assert.equal(diffRows.length, 3)
    assert.deepEqual(diffRows.slice(0, 2), ['+ | diff/new | { "n": 1 }', '~ | hist | 24 → "final"'])
    assert.match(diffRows[2] as string, /^− \| welcome \| /)
    await shot(page, 'view-diff.png')

    // 5. Substring search: a toggle, and typing cancels the scan under way.
    await page.fill('#search', 'ulk/003')
    await page.waitForFunction(() => document.querySelector('#key-count')?.textContent === '0 keys match · page 1 of 1')
    await page.check('#search-substring')
    await page.waitForFunction(
      () => document.querySelector('#key-count')?.textContent === '10 keys contain it · page 1 of 1',
    )
    await page.fill('#search', '')
    await page.locator('#search').pressSequentially('ulk/004', { delay: 5 })
    await page.waitForFunction(
      () => document.querySelector('#key-count')?.textContent === '10 keys contain it · page 1 of 1',
    )
    assert.deepEqual(
      await page.locator('#keys tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.key)),
      Array.from({ length: 10 }, (_, i) => `bulk/004${i}`),
    )
    await shot(page, 'view-substring-search.png')
    await page.uncheck('#search-substring')
    await page.fill('#search', '')

    // 6. The JSON editor: an error with its place and the button disabled; DAG-JSON bytes accepted.
    await page.fill('#write-key', 'json/bytes')
    await page.fill('#write-value', '{\n  "a": 1,\n}')
    assert.equal(await text(page, '#write-check'), 'line 3, column 1: Expected double-quoted property name')
    assert.equal(await page.locator('#write-submit').isDisabled(), true)
    assert.equal(await page.getAttribute('#write-value', 'aria-invalid'), 'true')
    await shot(page, 'view-json-invalid.png')
    await page.fill('#write-value', '{"/": {"bytes": "aGVsbG8"}}')
    assert.equal(await text(page, '#write-check'), 'valid JSON')
    await page.click('#write-submit')
    await page.locator('#write-message[data-state="ok"]').waitFor({ timeout: 10_000 })
    const got = await cli(scratch, repo, ['get', 'demo', 'json/bytes', '--json'])
    assert.match(got.stdout, /aGVsbG8/)

    // 7. Peers: the daemon, the address the page reached it at, as the store's writer.
    const peerRow = page.locator(`#peers-table tbody tr[data-peer="${d.peerId}"]`)
    await peerRow.waitFor()
    assert.equal(await peerRow.getAttribute('data-role'), 'writer')
    assert.equal(
      await text(page, `#peers-table tbody tr[data-peer="${d.peerId}"] td:nth-child(1)`),
      'writer of this store',
    )
    assert.match(
      await text(page, `#peers-table tbody tr[data-peer="${d.peerId}"] td:nth-child(3)`),
      new RegExp(`/tcp/${ports.ws}/ws`),
    )
    await shot(page, 'view-peers.png')

    // 8. The store picker: the daemon's stores, and a store id typed in; ?store= follows.
    await page.selectOption('#store-select', 'notes')
    await page.waitForURL(/\?store=notes$/)
    await page.waitForFunction(() => document.querySelector('#key-count')?.textContent === '0 keys · page 1 of 1')
    assert.equal(await text(page, '#store-name'), 'notes')
    await shot(page, 'view-store-picker.png')
    const demo = d.stores.find((s) => s.names.includes('demo'))?.id as string
    await page.fill('#store-id', demo)
    await page.press('#store-id', 'Enter')
    await page.waitForURL(new RegExp(`\\?store=${demo}$`))
    await keyRow(page, 'bulk/0000').waitFor({ timeout: 30_000 })
    assert.equal(await text(page, '#store-name'), 'demo')
    assert.deepEqual(errors, [])
    await context.close()

    // 9. A phone-width screen: nothing wider than the screen, tables scroll inside their box.
    const phone = await openPage(chrome.browser, { viewport: { width: 375, height: 812 }, isMobile: true })
    await phone.page.goto(d.api)
    await keyRow(phone.page, 'bulk/0000').waitFor({ timeout: 30_000 })
    await phone.page.locator(`#peers-table tbody tr[data-peer="${d.peerId}"]`).waitFor()
    const widths = await phone.page.evaluate(() => {
      const screen = document.documentElement.clientWidth
      // What sticks out, to say in the failure.
      const wide = [...document.querySelectorAll<HTMLElement>('body *')]
        .filter((e) => e.getBoundingClientRect().right > screen && e.closest('.table-box') === null)
        .map(
          (e) =>
            `${e.tagName.toLowerCase()}${e.id === '' ? '' : `#${e.id}`} ${Math.round(e.getBoundingClientRect().right)}`,
        )
      return { page: document.documentElement.scrollWidth, screen, wide }
    })
    assert.equal(widths.screen, 375)
    // One column: the key shown is below the key table, not beside it.
    const [keys, detail] = await Promise.all(
      ['#keys-pane', '#detail'].map((id) => phone.page.locator(id).boundingBox()),
    )
    assert.ok(keys && detail && detail.y >= keys.y + keys.height, `${JSON.stringify(keys)} ${JSON.stringify(detail)}`)
    assert.ok(
      widths.page <= widths.screen,
      `the page is ${widths.page} px wide on a ${widths.screen} px screen: ${widths.wide}`,
    )
    await phone.page.screenshot({ path: join(shots, 'view-phone-375.png') })
    written.push('view-phone-375.png')
    assert.deepEqual(phone.errors, [])
    await phone.context.close()

    // 10. An unknown store: a sentence, the stores there are, and a command that creates it.
    const lost = await openPage(chrome.browser)
    await lost.page.goto(`${d.api}/?store=nope`)
    await lost.page.locator('#unknown-store:visible').waitFor({ timeout: 30_000 })
    assert.equal(await text(lost.page, '#unknown-what'), 'There is no store named "nope" on this daemon.')
    assert.deepEqual((await lost.page.locator('#unknown-list li').allTextContents()).sort(), [
      'demo (writer)',
      'notes (writer)',
    ])
    assert.equal(await lost.page.locator('#store-select').inputValue(), '', 'no store picked')
    const create = await text(lost.page, '#unknown-hint')
    assert.match(create, / store create --name nope$/)
    const shown = await text(lost.page, 'body')
    assert.doesNotMatch(shown, /\w*Error\b/, 'no error class name')
    await shot(lost.page, 'view-unknown-store.png')
    execFileSync('sh', ['-c', create], { cwd: root, stdio: 'ignore' })
    await lost.page.reload()
    await lost.page.waitForFunction(
      () => document.querySelector('#key-count')?.textContent === '0 keys · page 1 of 1',
      null,
      {
        timeout: 30_000,
      },
    )
    assert.equal(await text(lost.page, '#store-name'), 'nope')
    assert.deepEqual(lost.errors, [])
    await lost.context.close()
    await daemon.stop()

    for (const name of written) assert.ok((await stat(join(shots, name))).size > 0, `${name} is empty`)
  })
})
