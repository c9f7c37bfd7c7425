// Delegated routing from Chromium: a page on another origin, given only a daemon's routing URL and
// a store id, finds the record and the provider through the daemon's /routing/v1/ API, dials it
// and syncs the store. Real Chromium, real daemon process.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { type Browser, chromium } from 'playwright-core'
import { cli, DaemonProcess, Scratch } from './cli-helpers.ts'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const root = join(import.meta.dirname, '..')
const scratch = new Scratch()
let browser: Browser | undefined
after(async () => {
  await browser?.close()
  await scratch.close()
})

declare global {
  interface Window {
    probeInit?: { router: string; store: string }
    probeResult?: Promise<{ value: unknown; headsFromRouting: number; peers: number }>
  }
}

/** The page's module: a browser peer with the router only, following the store until `found` is there. */
async function probe(): Promise<string> {
  const require = createRequire(join(root, 'apps', 'cli', 'package.json'))
  // esbuild is the CLI's build tool; what this uses of it:
  const esbuild = (await import(require.resolve('esbuild'))) as {
    build(options: object): Promise<{ outputFiles: { text: string }[] }>
  }
  const dir = await scratch.dir('dagsync-probe-')
  const entry = join(dir, 'probe.ts')
  await writeFile(
    entry,
    `import { startBrowserPeer } from ${JSON.stringify(join(root, 'packages', 'browser', 'src', 'index.ts'))}
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
  const built = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
  })
  return built.outputFiles[0]?.text ?? ''
}

describe('delegated routing in Chromium', () => {
  it("leads a page on another origin, given a daemon's routing URL and a store id, to the store", async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium is not at ${CHROMIUM} (apt-get install chromium; .ci/run does)`)
    const repo = await scratch.dir()
    assert.equal((await cli(scratch, repo, ['init'])).code, 0)
    const ready = await (await DaemonProcess.start(scratch, repo)).ready
    const store = ready.stores.find((s) => s.names.includes('demo'))
    assert.ok(store)
    assert.equal((await cli(scratch, repo, ['put', 'demo', 'found', '"in Chromium"'])).code, 0)

    // A page of its own origin (another port), so the routing API is asked across origins.
    const site = createServer((_, res) => res.end('<!doctype html><title>elsewhere</title>'))
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve))
    scratch.defer(() => new Promise((resolve) => site.close(resolve)))
    const { port } = site.address() as { port: number }

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
    const page = await browser.newPage()
    await page.goto(`http://127.0.0.1:${port}/`)
    await page.evaluate(
      (init) => {
        window.probeInit = init
      },
      { router: ready.api, store: store.id },
    )
    await page.addScriptTag({ content: await probe(), type: 'module' })
    const result = await page.evaluate(() =>
      Promise.race([
        window.probeResult,
        new Promise((_, reject) => setTimeout(() => reject(new Error('not synced within 60 s')), 60_000)),
      ]),
    )
    assert.deepEqual(result, { value: 'in Chromium', headsFromRouting: 1, peers: 1 })
  })
})
