// What the Chromium tests share: Debian's Chromium (driven by playwright-core), launched for a
// test file on the web app built from the current sources, and pages that record their errors
// and may not reach anything off loopback.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { after, before } from 'node:test'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import type { Scratch } from './cli-helpers.ts'
import { buildWebApp } from './web-build.ts'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Fails unless Chromium is installed; builds the web app if its sources changed. */
function prepare(webApp: boolean): void {
  assert.ok(existsSync(CHROMIUM), `Chromium is not at ${CHROMIUM} (apt-get install chromium; .ci/run does)`)
  if (webApp) buildWebApp()
}

export interface ChromiumOptions {
  /** The screenshot folder, made before the launch. @default none */
  shots?: string
  /** Whether the tests open the web app, so it is built first. @default true */
  webApp?: boolean
}

/** Builds the web app if its sources changed, makes `shots` and starts Chromium. */
export async function launchChromium(options: ChromiumOptions = {}): Promise<Browser> {
  prepare(options.webApp ?? true)
  if (options.shots !== undefined) await mkdir(options.shots, { recursive: true })
  return await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}

/** As `launchChromium`, with one persistent profile (its tabs share one origin's storage) in `dir`. */
export async function launchChromiumProfile(dir: string): Promise<BrowserContext> {
  prepare(true)
  return await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: ['--no-sandbox'] })
}

/**
 * The test file's Chromium: launched before its tests and closed after them, then `scratch`
 * closed. Read `browser` from inside the tests.
 */
export function chromiumForFile(scratch: Scratch, options: ChromiumOptions = {}): { readonly browser: Browser } {
  let launched: Browser | undefined
  before(async () => {
    launched = await launchChromium(options)
  })
  after(async () => {
    await launched?.close()
    await scratch.close()
  })
  return {
    get browser() {
      assert.ok(launched !== undefined, 'Chromium is launched before the tests')
      return launched
    },
  }
}

/** The key table's row for `key` (the web app shows one once its replica holds the key). */
export const keyRow = (page: Page, key: string) => page.locator(`#keys tbody tr[data-key="${key}"]`)

/** Aborts every request `context` makes off loopback; the list it returns names each one. */
export async function keepOnLoopback(context: BrowserContext): Promise<string[]> {
  const errors: string[] = []
  await context.route(
    (url) => !['127.0.0.1', 'localhost'].includes(url.hostname),
    (route) => {
      errors.push(`off-loopback request: ${route.request().url()}`)
      return route.abort()
    },
  )
  return errors
}

/** A new context and page; `errors` collects the page's uncaught errors and any off-loopback request. */
export async function openPage(
  browser: Browser,
  options: Parameters<Browser['newContext']>[0] = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext(options)
  const page = await context.newPage()
  const errors = await keepOnLoopback(context)
  page.on('pageerror', (err) => errors.push(err.message))
  return { context, page, errors }
}
