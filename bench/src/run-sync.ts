// The replication workload (issue 4): a writer process with a store of <keys> keys, readers here.
//   node bench/src/run-sync.ts [keys] [parts]    prints one JSON line
// keys defaults to 100000; parts (default push,fast,bitswap,latency) names the sync paths to measure
// and whether to measure latency (five readers, each first syncing the whole store).
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDagsyncNode, type DagsyncNode, type Follower, type SyncReport } from '@dagsync/peer'
import { openLevelStorage } from '@dagsync/store/level'
import { measureRawStream } from './raw-stream.ts'
import { median } from './run-subject.ts'

export interface PathResult {
  coldMs: number
  coldWireBytes: number
  coldBlocks: number
  /** Where the cold sync's time went (see SyncReport.phases). */
  coldPhases: SyncReport['phases']
  /** How the cold sync's blocks came (see SyncReport.path), and the bytes of those bitswap fetched. */
  coldPath: SyncReport['path']
  coldFetchedBytes: number
  /** Medians over the catch-ups: sync time, commit-to-synced, bytes, round trips, blocks written. */
  catchUpMs: number
  /** Medians of each phase over the catch-ups. */
  catchUpPhases: SyncReport['phases']
  commitToSyncedMs: number
  catchUpWireBytes: number
  catchUpRoundTrips: number
  catchUpBlocks: number
  /**
   * The transport's floor, measured right after the cold sync on the same connection: the time a
   * plain stream took to carry the cold sync's bytes, and the cold sync's time as a multiple of it.
   */
  rawStreamMs: number
  coldToRawStream: number
  /** The writer process's peak RSS: a node that built (or opened) the store and served this reader. */
  writerPeakRssMb: number
}

export type SyncPath = 'push' | 'fast' | 'bitswap'

export const SYNC_PARTS = ['push', 'fast', 'bitswap', 'latency'] as const

/** The paths measured, and latency unless left out (then NaN and 0 samples). */
export interface SyncResult extends Partial<Record<SyncPath, PathResult>> {
  keys: number
  latencyP50: number
  latencyP99: number
  latencySamples: number
}

const dirs: string[] = []
const children: ChildProcess[] = []
const nodes: DagsyncNode[] = []

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `dagsync-bench-${name}-`))
  dirs.push(dir)
  return dir
}

/** The writer process, line by line. */
function writer(dir: string, port: number, path: SyncPath, keys: number) {
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, 'sync-writer.ts'), dir, String(port), path, String(keys)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  children.push(child)
  const lines: string[] = []
  let buffered = ''
  child.stdout.on('data', (data: Buffer) => {
    buffered += data.toString()
    const parts = buffered.split('\n')
    buffered = parts.pop() as string
    lines.push(...parts)
  })
  /** The next line starting with one of `prefixes`, split into words (the prefix first). */
  const next = async (...prefixes: string[]): Promise<string[]> => {
    for (;;) {
      const at = lines.findIndex((l) => prefixes.some((p) => l.startsWith(p)))
      if (at >= 0) return lines.splice(0, at + 1)[at].split(' ')
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }
  return {
    next,
    send: (line: string) => child.stdin.write(`${line}\n`),
    /** Stops the writer; returns its peak RSS in MiB. */
    quit: async (): Promise<number> => {
      child.stdin.write('quit\n')
      const [, rss] = await next('rss')
      await new Promise((resolve) => child.once('exit', resolve))
      return Number(rss)
    },
  }
}

async function reader(address: string): Promise<DagsyncNode> {
  const storage = await openLevelStorage(tempDir('reader'))
  const node = await createDagsyncNode({ storage, listen: [], peers: [address] })
  nodes.push(node)
  return node
}

/** How long a cold sync may take before the run fails: 2 minutes per 100,000 keys (a busy machine is slow). */
const coldTimeout = (keys: number): number => 120_000 * Math.max(1, keys / 100_000)

async function measurePath(path: SyncPath, writerDir: string, keys: number): Promise<PathResult> {
  const w = writer(writerDir, await freePort(), path, keys)
  const [, address, id, seq] = await w.next('ready')
  const node = await reader(address)
  const started = performance.now()
  const replica = await node.follow(id)
  await replica.synced(Number(seq), AbortSignal.timeout(coldTimeout(keys)))
  const coldMs = performance.now() - started
  const cold = replica.status().lastSync as SyncReport
  const writerPeer = node.libp2p.getConnections()[0].remotePeer
  const rawStreamMs = await measureRawStream(node.libp2p, writerPeer, cold.wireBytes)
  const reports: SyncReport[] = []
  const endToEnd: number[] = []
  for (let i = 0; i < 5; i++) {
    w.send('change 100')
    const [, head, time] = await w.next('head')
    await replica.synced(Number(head), AbortSignal.timeout(60_000))
    endToEnd.push(Date.now() - Number(time))
    reports.push(replica.status().lastSync as SyncReport)
  }
  const writerPeakRssMb = await w.quit()
  const bytes = (r: SyncReport) => r.wireBytes + r.fetchedBytes
  return {
    coldMs,
    coldWireBytes: bytes(cold),
    coldBlocks: cold.blocks,
    coldPhases: cold.phases,
    coldPath: cold.path,
    coldFetchedBytes: cold.fetchedBytes,
    rawStreamMs,
    coldToRawStream: coldMs / rawStreamMs,
    catchUpMs: median(reports.map((r) => r.ms)),
    catchUpPhases: {
      receive: median(reports.map((r) => r.phases.receive)),
      check: median(reports.map((r) => r.phases.check)),
      write: median(reports.map((r) => r.phases.write)),
    },
    commitToSyncedMs: median(endToEnd),
    catchUpWireBytes: median(reports.map(bytes)),
    catchUpRoundTrips: median(reports.map((r) => r.roundTrips)),
    catchUpBlocks: median(reports.map((r) => r.blocks)),
    writerPeakRssMb,
  }
}

/** Commit-to-change-event latency at five readers, for single-key commits every 100 ms. */
async function measureLatency(writerDir: string, keys: number): Promise<number[]> {
  const w = writer(writerDir, await freePort(), 'push', keys)
  const [, address, id, seq] = await w.next('ready')
  const replicas: Follower[] = []
  for (let i = 0; i < 5; i++) {
    const replica = await (await reader(address)).follow(id)
    await replica.synced(Number(seq), AbortSignal.timeout(coldTimeout(keys)))
    replicas.push(replica)
  }
  const seen = new Map<number, number[]>()
  const watchers = replicas.map((replica) => {
    const watch = replica.watch()
    void (async () => {
      for await (const event of watch) seen.set(event.commit.seq, [...(seen.get(event.commit.seq) ?? []), Date.now()])
    })()
    return watch
  })
  w.send('tick 50 100')
  const commits = new Map<number, number>()
  for (;;) {
    const [kind, s, time] = await w.next('commit', 'done')
    if (kind === 'done') break
    commits.set(Number(s), Number(time))
  }
  await new Promise((resolve) => setTimeout(resolve, 1000))
  for (const watch of watchers) watch.close()
  await w.quit()
  const latencies: number[] = []
  for (const [s, time] of commits) for (const at of seen.get(s) ?? []) latencies.push(at - time)
  if (latencies.length < commits.size * 5 * 0.9)
    throw new Error(`only ${latencies.length} change events for ${commits.size * 5}`)
  return latencies.sort((a, b) => a - b)
}

async function run(keys: number, parts: readonly string[]): Promise<SyncResult> {
  const unknown = parts.filter((p) => !(SYNC_PARTS as readonly string[]).includes(p))
  if (unknown.length > 0) throw new Error(`unknown sync parts ${unknown.join(', ')}; known: ${SYNC_PARTS.join(', ')}`)
  const writerDir = tempDir('writer')
  const result: SyncResult = { keys, latencyP50: Number.NaN, latencyP99: Number.NaN, latencySamples: 0 }
  for (const path of ['push', 'fast', 'bitswap'] as const) {
    if (parts.includes(path)) result[path] = await measurePath(path, writerDir, keys)
  }
  if (parts.includes('latency')) {
    const latencies = await measureLatency(writerDir, keys)
    const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]
    Object.assign(result, { latencyP50: pick(0.5), latencyP99: pick(0.99), latencySamples: latencies.length })
  }
  return result
}

if (import.meta.main) {
  const [keys = '100000', parts = SYNC_PARTS.join(',')] = process.argv.slice(2)
  try {
    process.stdout.write(`${JSON.stringify(await run(Number(keys), parts.split(',')))}\n`)
  } finally {
    for (const node of nodes) await node.stop().catch(() => {})
    for (const child of children) child.kill('SIGKILL')
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
  process.exit(0)
}
