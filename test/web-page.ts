// What the web app's Chromium tests share: launching Debian's Chromium (driven by playwright-core)
// on the web app built from the current sources, and a page that records its errors and may not
// reach anything off loopback.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { buildWebApp } from './web-build.ts'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Builds the web app if its sources changed, makes `shots` (the screenshot folder) and starts Chromium. */
export async function launchChromium(shots: string): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `Chromium is not at ${CHROMIUM} (apt-get install chromium; .ci/run does)`)
  buildWebApp()
  await mkdir(shots, { recursive: true })
  return await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}

/** A new context and page; `errors` collects the page's uncaught errors and any off-loopback request. */
export async function openPage(
  browser: Browser,
  options: Parameters<Browser['newContext']>[0] = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext(options)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  await context.route(
    (url) => !['127.0.0.1', 'localhost'].includes(url.hostname),
    (route) => {
      errors.push(`off-loopback request: ${route.request().url()}`)
      return route.abort()
    },
  )
  return { context, page, errors }
}
