// Many readers (issue 15): one writer (a daemon process) and many readers: Node reader nodes
// spread over several processes, each linked to the writer and to a few other readers, and a few
// Chromium pages of the web app, linked to the writer; the writer commits single-key writes at a
// steady rate. Reports, per reader, how long after each commit was made the reader held it (p50,
// p99), and for the writer the bytes it sent per commit (from the kernel's counters of the
// sockets on its listen port, `ss`) and its CPU. Then the writer stops and a late Node reader,
// linked to three Node readers only, syncs the store from them.
//   node bench/src/run-readers.ts [--readers 50] [--pages 3] [--processes 3] [--rate 50] [--seconds 60] [--links 4] [--json]
// --readers counts the pages; --processes the Node processes (Chromium is one more).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface, type Interface } from 'node:readline'
import { parseArgs } from 'node:util'
import { buildCli } from '../../tools/build-cli.mjs'
import { startBenchDaemon } from './bench-daemon.ts'
import { openReaderPages, type ReaderPages } from './readers-pages.ts'

const { values: args } = parseArgs({
  options: {
    readers: { type: 'string', default: '50' },
    pages: { type: 'string', default: '3' },
    processes: { type: 'string', default: '3' },
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '60' },
    links: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
  },
})
const readerCount = Number(args.readers)
const pageCount = Math.min(Number(args.pages), readerCount - 1)
const nodeCount = readerCount - pageCount
const processCount = Math.min(Number(args.processes), nodeCount)
const rate = Number(args.rate)
const seconds = Number(args.seconds)
const links = Number(args.links)
const host = join(import.meta.dirname, 'readers-host.ts')

/** A child process that answers lines with lines. */
class Child {
  readonly process: ChildProcess
  readonly #lines: Interface
  readonly #waiting: PromiseWithResolvers<string>[] = []
  readonly #early: string[] = []

  constructor(argv: string[]) {
    this.process = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'inherit'] })
    this.#lines = createInterface({ input: this.process.stdout as NodeJS.ReadableStream })
    this.#lines.on('line', (line) => {
      const waiter = this.#waiting.shift()
      if (waiter === undefined) this.#early.push(line)
      else waiter.resolve(line)
    })
    this.process.once('exit', (code) => {
      for (const waiter of this.#waiting.splice(0))
        waiter.reject(new Error(`a child exited (${code}) while it was waited on`))
    })
  }

  /** The next line the child prints. */
  next(): Promise<string> {
    const early = this.#early.shift()
    if (early !== undefined) return Promise.resolve(early)
    const waiter = Promise.withResolvers<string>()
    this.#waiting.push(waiter)
    return waiter.promise
  }

  async ask(line: string): Promise<string> {
    this.process.stdin?.write(`${line}\n`)
    return this.next()
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null) return
    this.process.stdin?.write('stop\n')
    await new Promise((resolve) => this.process.once('exit', resolve))
  }
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Bytes sent on the established TCP connections whose local port is `port` (the writer's peers). */
function bytesSent(port: number): number {
  const out = execFileSync('ss', ['-tinH', 'state', 'established', `( sport = :${port} )`], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
  let total = 0
  for (const sent of out.matchAll(/bytes_sent:(\d+)/g)) total += Number(sent[1])
  return total
}

/** The writer's fast-path counters, from the daemon's /metrics. */
async function fastPathServed(api: string): Promise<{ requests: number; bytes: number }> {
  const text = await (await fetch(`${api}/metrics`)).text()
  const counter = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN)
  return {
    requests: counter('dagsync_sync_requests_served_total'),
    bytes: counter('dagsync_sync_bytes_served_total'),
  }
}

/** Progress, on stderr: a run takes minutes. */
function say(what: string): void {
  process.stderr.write(`${new Date().toISOString()} ${what}\n`)
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

/** Starts a readers-host process; resolves with it, its nodes' addresses and its slowest first sync. */
async function startHost(count: number, store: string, peers: string[], seq: number) {
  const child = new Child([host, String(count), store, peers.join(','), String(seq)])
  const [word, addresses, ms] = (await child.next()).split(' ')
  if (word !== 'ready') throw new Error(`a readers host said ${word}`)
  return { child, addresses: JSON.parse(addresses as string) as string[], syncMs: Number(ms) }
}

await buildCli()
const repo = mkdtempSync(join(tmpdir(), 'dagsync-bench-readers-'))
const daemon = await startBenchDaemon(repo)
const hosts: Child[] = []
let pages: ReaderPages | undefined
try {
  const { api } = daemon
  const peerPort = Number(/\/tcp\/(\d+)\//.exec(daemon.address)?.[1])
  const { id } = await api.storeCreate({ name: 'bench' })
  const first = await api.put({ store: 'bench', key: 'start', value: 0 })
  const startSeq = first.commit?.seq ?? 1

  // Node readers spread over the processes, each linked to the writer and to `links` other readers.
  say(`starting ${nodeCount} Node readers in ${processCount} processes`)
  const started = await Promise.all(
    Array.from({ length: processCount }, (_, i) => {
      const count = Math.floor(nodeCount / processCount) + (i < nodeCount % processCount ? 1 : 0)
      return startHost(count, id, [daemon.address], startSeq)
    }),
  )
  hosts.push(...started.map((h) => h.child))
  const everyone = started.flatMap((h) => h.addresses)
  let failedLinks = 0
  for (const h of started) {
    const [word, failed] = (await h.child.ask(`links ${links} ${JSON.stringify(everyone)}`)).split(' ')
    if (word !== 'linked') throw new Error(`a readers host said ${word}`)
    failedLinks += Number(failed)
  }
  say(`opening ${pageCount} Chromium pages`)
  pages = await openReaderPages(pageCount, daemon.url, id, startSeq)

  // The writer commits one key every 1/rate s for `seconds`.
  const pid = daemon.process.pid as number
  const cpuBefore = cpuSeconds(pid)
  const hostPids = hosts.map((h) => h.process.pid as number)
  const hostCpuBefore = hostPids.map(cpuSeconds)
  say(`committing ${rate} a second for ${seconds} s`)
  const sentBefore = bytesSent(peerPort)
  const servedBefore = await fastPathServed(daemon.url)
  const runStarted = performance.now()
  let last = startSeq
  let commits = 0
  /** When each commit was made, by seq (the daemon's clock: the same machine's). */
  const madeAt = new Map<number, number>()
  // Each put is sent when it is due, without waiting for the one before (the commit rate is then
  // the writer's, not one HTTP round trip's at a time), but at most 16 at once: a writer that
  // falls behind gets fewer commits a second, reported, not a pile of requests that time out.
  const inFlight = new Set<Promise<void>>()
  for (let i = 0; i < rate * seconds; i++) {
    const due = runStarted + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    while (inFlight.size >= 16) await Promise.race(inFlight)
    const put = api.put({ store: 'bench', key: `tick/${i}`, value: i }).then(({ commit }) => {
      if (commit === null) return
      last = Math.max(last, commit.seq)
      commits++
      madeAt.set(commit.seq, commit.time)
    })
    inFlight.add(put)
    void put.finally(() => inFlight.delete(put)).catch(() => {})
  }
  await Promise.all(inFlight)
  const runMs = performance.now() - runStarted

  // Every reader should hold the last commit; give stragglers 30 s.
  const deadline = performance.now() + 30_000
  let heads: [number, number][][] = []
  for (;;) {
    const reports = await Promise.all(
      hosts.map(
        async (h) => JSON.parse((await h.ask('report')).slice('report '.length)) as { heads: [number, number][][] },
      ),
    )
    heads = [...reports.flatMap((r) => r.heads), ...pages.heads]
    if (heads.every((h) => (h.at(-1)?.[0] ?? 0) >= last) || performance.now() > deadline) break
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  const writerCpu = cpuSeconds(pid) - cpuBefore
  const hostCpu = hostPids.map((p, i) => cpuSeconds(p) - (hostCpuBefore[i] as number))
  const writerSent = bytesSent(peerPort) - sentBefore
  const servedAfter = await fastPathServed(daemon.url)

  // A commit reached a reader when its head first moved to it or past it (a sync may take several).
  const perReader = heads.map((moves, reader) => {
    const latencies: number[] = []
    let i = 0
    for (const [seq, made] of [...madeAt].sort((a, b) => a[0] - b[0])) {
      while (i < moves.length && (moves[i]?.[0] ?? 0) < seq) i++
      const move = moves[i]
      if (move !== undefined) latencies.push(move[1] - made)
    }
    const sorted = latencies.sort((a, b) => a - b)
    const held = moves.at(-1)?.[0] ?? 0
    const kind = reader < nodeCount ? 'node' : 'page'
    return { kind, commits: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), seq: held, sorted }
  })
  const all = perReader.flatMap((r) => r.sorted).sort((a, b) => a - b)

  // The late reader: the writer is gone; three readers are all it can reach.
  say('stopping the writer; a late reader syncs from three readers')
  await daemon.stop()
  const three = [...everyone].sort(() => Math.random() - 0.5).slice(0, 3)
  const late = await startHost(1, id, three, last)
  hosts.push(late.child)

  const result = {
    load: loadavg()[0] as number,
    readers: readerCount,
    pages: pageCount,
    processes: processCount,
    links,
    failedLinks,
    rate,
    seconds,
    commits,
    commitsPerSecond: commits / (runMs / 1000),
    lastSeq: last,
    readersAtLast: perReader.filter((r) => r.seq >= last).length,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    worstReaderP99: Math.max(...perReader.map((r) => r.p99)),
    worstPageP99: Math.max(...perReader.filter((r) => r.kind === 'page').map((r) => r.p99)),
    pageSyncMs: pages.syncMs.map(Math.round),
    missed: perReader.reduce((n, r) => n + commits - r.commits, 0),
    writerBytesPerCommit: writerSent / commits,
    /** Of which fast-path replies (readers that could not use a push asked the writer). */
    writerFastPathBytesPerCommit: (servedAfter.bytes - servedBefore.bytes) / commits,
    writerFastPathRequests: servedAfter.requests - servedBefore.requests,
    writerCpuPercent: (100 * writerCpu) / (runMs / 1000),
    /** Each readers process's CPU over the run (100 = one core). */
    readerProcessCpuPercent: hostCpu.map((cpu) => Math.round((100 * cpu) / (runMs / 1000))),
    lateReaderSyncMs: late.syncMs,
    perReader: perReader.map(({ sorted: _, ...r }) => r),
  }
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`)
  else {
    const { perReader: _, ...summary } = result
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
  }
} finally {
  await Promise.all([...hosts.map((h) => h.stop()), pages?.close()])
  await daemon.stop()
  rmSync(repo, { recursive: true, force: true })
}
