// The Chromium readers of the many-readers benchmark (run-readers.ts): the web app, served by the
// writer daemon, open in a few pages of Debian's Chromium (each in its own context, so its own
// IndexedDB and node), each following the store. Records, per page, when its head moved and to
// which commit, in the page's clock (the machine's, as the daemon's).
import type { Browser, Page } from 'playwright-core'
import { chromium } from 'playwright-core'
import { buildWebApp } from '../../test/web-build.ts'
import { CHROMIUM, openPage } from '../../test/web-page.ts'

declare global {
  interface Window {
    /** Set by the benchmark: called with each head the page's store moves to. */
    benchHead?: (seq: number, at: number) => void
  }
}

export interface ReaderPages {
  /** Each page's head moves: [seq, ms since epoch]. */
  readonly heads: [number, number][][]
  /** From opening each page to its holding the start seq. */
  readonly syncMs: number[]
  close(): Promise<void>
}

async function openReader(browser: Browser, url: string, seq: number, heads: [number, number][]) {
  const { page, errors } = await openPage(browser)
  await page.exposeFunction('benchHead', (s: number, at: number) => heads.push([s, at]))
  const said: string[] = []
  page.on('console', (message) => said.push(message.text()))
  const started = performance.now()
  await page.goto(url)
  await page
    .waitForFunction((s) => (window.dagsync?.follower.head?.seq ?? 0) >= s, seq, { timeout: 120_000 })
    .catch(async (err: Error) => {
      const shown = await page.locator('body').textContent()
      throw new Error(`a reader page did not sync (${err.message}); it shows: ${shown}; it said: ${said.join(' | ')}`)
    })
  const syncMs = performance.now() - started
  await page.evaluate(() => window.dagsync?.follower.store.onHead((h) => window.benchHead?.(h.seq, Date.now())))
  if (errors.length > 0) throw new Error(`a reader page failed: ${errors.join('; ')}`)
  return { page, syncMs }
}

/** Opens `count` pages of the web app at `api` on store `id`, once each holds commit `seq`. */
export async function openReaderPages(count: number, api: string, id: string, seq: number): Promise<ReaderPages> {
  buildWebApp()
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  const heads = Array.from({ length: count }, () => [] as [number, number][])
  const opened: { page: Page; syncMs: number }[] = []
  try {
    for (const moves of heads) opened.push(await openReader(browser, `${api}/?store=${id}`, seq, moves))
  } catch (err) {
    await browser.close()
    throw err
  }
  return { heads, syncMs: opened.map((o) => o.syncMs), close: () => browser.close() }
}
