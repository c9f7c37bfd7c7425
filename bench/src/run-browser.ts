// The browser workload (issue 6): a real daemon process serving a store of N keys, and the web
// app in Debian's Chromium syncing it into IndexedDB.
//   node bench/src/run-browser.ts <keys>    prints one JSON line
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { HttpClient } from '@dagsync/daemon/client'
import { initRepo, Repo } from '@dagsync/daemon/repo'
import type { SyncReport } from '@dagsync/peer'
import { createStoreKey, saveStoreKey } from '@dagsync/peer/local'
import { openStore } from '@dagsync/store'
import { chromium, type Page } from 'playwright-core'
import { median } from './run-subject.ts'
import { key, value } from './subject.ts'

export interface BrowserResult {
  keys: number
  /**
   * From opening the page (the browser's navigation start) to the first key on screen: cold, in
   * an empty profile (it must sync the store first); warm, a reload with the service worker and
   * the replica in IndexedDB (shown from the replica, before the node is up).
   */
  firstKeyColdMs: number
  firstKeyWarmMs: number
  /**
   * JavaScript the cold page asked for before its first key was on screen (its resource timing
   * entries that started before then), gzipped at zlib's default level as a server would send it;
   * and all the JavaScript it loaded by the time it held the whole store.
   */
  firstKeyColdJsGzip: number
  allJsGzip: number
  /** How the cold page got the store: 'http' (the start over HTTP before libp2p) or a node's path. */
  coldPath: string
  /** Whether the service worker served the warm reload. */
  warmFromServiceWorker: boolean
  /** From opening the page to holding the whole store (boot, dial, sync, IndexedDB writes). */
  coldMs: number
  /** The sync alone, as the page's follower reports it, and where its time went. */
  coldSyncMs: number
  coldPhases: SyncReport['phases']
  coldWireBytes: number
  /** 100 random keys changed in one commit while the page was away, then caught up with. */
  catchUpMs: number
  catchUpWireBytes: number
  /** How the catch-up came (push, fast, bitswap) and where its time went. */
  catchUpPath: string
  catchUpPhases: SyncReport['phases']
  /** A write through the daemon's API until its row is on the page; medians and p99 of 20. */
  latencyP50: number
  latencyP99: number
}

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
if (!existsSync(chromiumPath)) {
  process.stderr.write(
    `no Chromium at ${chromiumPath}: install Debian's (apt-get install chromium; npm test does it) or set CHROMIUM_PATH\n`,
  )
  process.exit(1)
}

const keys = Number(process.argv[2] ?? 10_000)
const root = join(import.meta.dirname, '..', '..')
const dist = join(root, 'apps', 'web', 'dist')

/** The gzipped size of the scripts the page asked for (resource timing) that started before `at`. */
async function scriptsBefore(page: Page, at: number): Promise<number> {
  const paths = await page.evaluate(
    (before) =>
      performance
        .getEntriesByType('resource')
        .filter((e) => e.startTime < before)
        .map((e) => new URL(e.name).pathname)
        .filter((path) => path.endsWith('.js')),
    at,
  )
  // The daemon serves dist/ as it is: these are the bytes each request got.
  return paths.reduce((sum, path) => sum + gzipSync(readFileSync(join(dist, path))).length, 0)
}
const repo = mkdtempSync(join(tmpdir(), 'dagsync-bench-browser-'))
const bin = join(root, 'apps', 'cli', 'src', 'bin.ts')

/** Writes one transaction on the repo directly (no daemon running). */
async function transact(store: string | undefined, write: (id: string) => (tx: never) => Promise<void>) {
  const opened = await Repo.open(repo, { command: 'bench' })
  try {
    const id = store ?? (await saveStoreKey(opened.storage.datastore, await createStoreKey()))
    const db = await openStore({ storage: opened.storage, name: id })
    await db.transact(write(id) as never)
    await db.close()
    return id
  } finally {
    await opened.close()
  }
}

function startDaemon(ports: { ws: number; api: number }): Promise<{ child: ChildProcess; api: string }> {
  const child = spawn(
    process.execPath,
    [bin, '--repo', repo, 'daemon', '--json', '--log-level', 'warn', '--listen', `/ip4/127.0.0.1/tcp/${ports.ws}/ws`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) =>
      resolve({ child, api: (JSON.parse(d.toString()) as { api: string }).api }),
    )
    child.once('exit', (code) => reject(new Error(`the daemon exited with ${code}`)))
  })
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
}

execFileSync(join(root, 'apps', 'web', 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], {
  cwd: join(root, 'apps', 'web'),
})
await initRepo(repo, { demo: false, api: '127.0.0.1:0' })
const store = await transact(undefined, () => async (tx: never) => {
  const t = tx as { assoc(k: string, v: unknown): Promise<void> }
  for (let i = 0; i < keys; i++) await t.assoc(key(i), value(i))
})

const ws = 40_000 + Math.floor(Math.random() * 20_000)
let daemon = await startDaemon({ ws, api: 0 })
const browser = await chromium.launch({ executablePath: chromiumPath }).catch(async (err) => {
  await stop(daemon.child)
  throw err
})
try {
  const page = await browser.newPage()
  const synced = (seq: number) =>
    page.waitForFunction((s) => window.dagsync?.follower.status().synced?.seq === s, seq, { timeout: 300_000 })
  const lastSync = () => page.evaluate(() => window.dagsync?.follower.status().lastSync)

  // In the page's own clock, which starts when the page is opened. (0 is never a first key's time.)
  const firstKey = async (): Promise<number> => {
    const shown = await page.waitForFunction(
      () => (document.querySelector('#keys tbody tr') === null ? 0 : performance.now()),
      undefined,
      { polling: 'raf', timeout: 300_000 },
    )
    return await shown.jsonValue()
  }

  const started = performance.now()
  await page.goto(`${daemon.api}/?store=${store}`)
  const firstKeyColdMs = await firstKey()
  const firstKeyColdJsGzip = await scriptsBefore(page, firstKeyColdMs)
  await synced(1)
  const coldMs = performance.now() - started
  const cold = await lastSync()
  // The node loads once a key is shown: wait for it, then count every script.
  await page.waitForFunction(() => (window.dagsync?.peer.connections() ?? 0) > 0, undefined, { timeout: 300_000 })
  const allJsGzip = await scriptsBefore(page, Number.POSITIVE_INFINITY)

  // Commit-to-screen: a key that sorts first, so its row is on the first page.
  const token = readFileSync(join(repo, 'api-token'), 'utf8').trim()
  const client = new HttpClient({ url: daemon.api, token })
  const latencies: number[] = []
  for (let i = 0; i < 20; i++) {
    const k = `!latency/${String(i).padStart(2, '0')}`
    const at = performance.now()
    await client.put({ store, key: k, value: i })
    await page.locator(`#keys tbody tr[data-key="${k}"]`).waitFor()
    latencies.push(performance.now() - at)
  }
  latencies.sort((a, b) => a - b)

  // Catch-up: the daemon stops, 100 random keys change in one commit, the daemon comes back.
  await stop(daemon.child)
  await transact(store, () => async (tx: never) => {
    const t = tx as { assoc(k: string, v: unknown): Promise<void> }
    for (let n = 0; n < 100; n++) {
      const k = Math.floor(Math.random() * keys)
      await t.assoc(key(k), { ...value(k), name: `changed${n}` })
    }
  })
  daemon = await startDaemon({ ws, api: Number(new URL(daemon.api).port) })
  await synced(22)
  // The node's tab sends its status a few times a second: wait for the one that names this sync.
  await page.waitForFunction(() => window.dagsync?.follower.status().lastSync?.seq === 22, undefined, {
    timeout: 300_000,
  })
  const catchUp = await lastSync()

  // Warm: the service worker holds the page's files, IndexedDB the replica.
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined))
  await page.reload()
  const firstKeyWarmMs = await firstKey()
  const warmFromServiceWorker = await page.evaluate(() => navigator.serviceWorker.controller !== null)

  const result: BrowserResult = {
    keys,
    firstKeyColdMs,
    firstKeyWarmMs,
    firstKeyColdJsGzip,
    allJsGzip,
    coldPath: cold?.path ?? 'none',
    warmFromServiceWorker,
    coldMs,
    coldSyncMs: cold?.ms ?? Number.NaN,
    coldPhases: cold?.phases ?? { receive: Number.NaN, check: Number.NaN, write: Number.NaN },
    coldWireBytes: cold?.wireBytes ?? Number.NaN,
    catchUpMs: catchUp?.ms ?? Number.NaN,
    catchUpWireBytes: catchUp?.wireBytes ?? Number.NaN,
    catchUpPath: catchUp?.path ?? 'none',
    catchUpPhases: catchUp?.phases ?? { receive: Number.NaN, check: Number.NaN, write: Number.NaN },
    latencyP50: median(latencies),
    latencyP99: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] as number,
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
} finally {
  await browser.close()
  await stop(daemon.child).catch(() => {})
  rmSync(repo, { recursive: true, force: true })
}
