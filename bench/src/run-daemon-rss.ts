// A daemon's memory holding a large store (issue 15: <= 400 MiB at 1,000,000 keys): a real daemon
// process (the built CLI) is given <keys> keys over its HTTP API in commits of 10,000, then
// restarted, so that what is measured is a daemon that opened the store from disk; a reader then
// syncs it cold and takes five catch-ups of 100 keys. The daemon's RSS is read from /proc.
//   pnpm bench:daemon-rss [keys]     (default 100,000) prints one JSON line
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDagsyncNode, type DagsyncNode, type SyncReport } from '@dagsync/peer'
import { openLevelStorage } from '@dagsync/store/level'
import { buildCli } from '../../tools/build-cli.mjs'
import { startBenchDaemon } from './bench-daemon.ts'
import { key, value } from './subject.ts'

export interface DaemonRssResult {
  keys: number
  /** The restarted daemon's RSS (MiB): once it is ready, after the cold sync, after the catch-ups. */
  rssOpenMb: number
  rssAfterColdMb: number
  rssAfterCatchUpsMb: number
  /** Its peak RSS since the restart (VmHWM). */
  peakRssMb: number
  coldMs: number
  coldPath: SyncReport['path']
}

const BATCH = 10_000
const keys = Number(process.argv[2] ?? 100_000)
const dirs: string[] = []
const tempDir = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `dagsync-bench-rss-${name}-`))
  dirs.push(dir)
  return dir
}

/** A field of /proc/<pid>/status, in MiB. */
function procMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`))
  if (line === undefined) throw new Error(`no ${field} for process ${pid}`)
  return Number(line.split(/\s+/)[1]) / 1024
}

/** `done`, or an error naming the step that failed. */
async function step<T>(name: string, done: Promise<T>): Promise<T> {
  try {
    return await done
  } catch (err) {
    throw new Error(`${name} failed: ${(err as Error).message}`, { cause: err })
  }
}

async function run(): Promise<DaemonRssResult> {
  await buildCli()
  const repo = tempDir('repo')
  let daemon = await startBenchDaemon(repo)
  const { id } = await daemon.api.storeCreate({ name: 'bench' })
  for (let b = 0; b < keys; b += BATCH) {
    const ops = []
    for (let i = b; i < Math.min(keys, b + BATCH); i++) ops.push({ op: 'put' as const, key: key(i), value: value(i) })
    await daemon.api.transact({ store: id }, ops)
  }
  await daemon.stop()

  daemon = await startBenchDaemon(repo)
  const pid = daemon.process.pid as number
  let reader: DagsyncNode | undefined
  try {
    const rssOpenMb = procMb(pid, 'VmRSS')
    const head = (await daemon.api.storeList()).find((s) => s.id === id)?.seq
    if (head === undefined) throw new Error('the restarted daemon does not list the store')
    reader = await createDagsyncNode({
      storage: await openLevelStorage(tempDir('reader')),
      listen: [],
      peers: [daemon.address],
    })
    const started = performance.now()
    const replica = await reader.follow(id)
    await step('the cold sync', replica.synced(head, AbortSignal.timeout(120_000 * Math.max(1, keys / 100_000))))
    const coldMs = performance.now() - started
    const coldPath = (replica.status().lastSync as SyncReport).path
    const rssAfterColdMb = procMb(pid, 'VmRSS')
    for (let c = 0; c < 5; c++) {
      const ops = Array.from({ length: 100 }, (_, j) => {
        const k = Math.floor(Math.random() * keys)
        return { op: 'put' as const, key: key(k), value: { ...value(k), name: `changed${c}.${j}` } }
      })
      const { commit } = await daemon.api.transact({ store: id }, ops)
      await step(`catch-up ${c + 1}`, replica.synced(commit?.seq ?? 0, AbortSignal.timeout(60_000)))
    }
    return {
      keys,
      rssOpenMb,
      rssAfterColdMb,
      rssAfterCatchUpsMb: procMb(pid, 'VmRSS'),
      peakRssMb: procMb(pid, 'VmHWM'),
      coldMs,
      coldPath,
    }
  } finally {
    await reader?.stop()
    await daemon.stop()
  }
}

try {
  process.stdout.write(`${JSON.stringify(await run())}\n`)
} finally {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
}
